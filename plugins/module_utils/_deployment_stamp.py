# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Is a deployment still what its last successful run left? Decided without running Spack.

A re-deploy with nothing to do otherwise costs every role's tasks (20 s and more) to learn what a
few file reads can tell: the stamp written after a successful deploy holds a digest of its inputs
(variables, pack, collection code) and a fingerprint of what Spack's behaviour depends on on the
host (Spack's version, every configuration file of every scope it reads, the package repositories
configured there, the environment's manifest and lock, the install database and every install
prefix). Equal digest and fingerprint: `spack install` would do nothing.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import sys

from ansible_collections.research.wizard.plugins.module_utils._digest import file_digest, tree_digest
from ansible_collections.research.wizard.plugins.module_utils._spack import Spack, SpackError, read_json

try:
    import yaml
    HAS_YAML = True
except ImportError:  # PyYAML comes with ansible-core on the controller, not on every host
    HAS_YAML = False

# 2: scopes from include.yaml (Spack >= 1.1) and package repositories; a version-1 stamp is stale.
STAMP_VERSION = 2
CONFIG_SUFFIXES = ('.yaml', '.yml', '.json')
PLATFORMS = ('linux', 'darwin', 'windows', 'freebsd', 'cray', 'base')
# An include's `when:` as Spack's own include.yaml writes it; any other condition counts as true
# (reading one scope too many can only make a deployment stale, never wrongly current).
ENV_CONDITION = re.compile(r'^\s*(["\'])([A-Za-z_]\w*)\1\s+(not\s+in|in)\s+env\s*$')
MAX_INCLUDE_DEPTH = 8

# The options of deployment_stamp and deployment_stamp_info besides the Spack ones (the action
# plugins turn domain, size, overrides and domains_dir into inputs_digest).
STAMP_ARGS = dict(
    path=dict(type='path', required=True),
    env=dict(type='str', required=True),
    inputs_digest=dict(type='str'),
    domain=dict(type='str'),
    size=dict(type='str'),
    overrides=dict(type='dict'),
    domains_dir=dict(type='path'),
    summary=dict(type='path'),
)


def config_files(directory):
    """Spack configuration files of one scope directory and of its platform subdirectories (or the
    scope itself when it is a single included file).

    Other subdirectories (bootstrap stores and caches in ~/.spack) are not configuration.
    """
    if directory and os.path.isfile(directory):
        return [directory]
    found = []
    if not directory or not os.path.isdir(directory):
        return found
    for d in [directory] + [os.path.join(directory, p) for p in PLATFORMS]:
        if os.path.isdir(d):
            found.extend(os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(CONFIG_SUFFIXES))
    return found


def platform_name():
    return 'darwin' if sys.platform == 'darwin' else 'windows' if sys.platform.startswith('win') else 'linux'


def expand_path(path, spack_root, base, home=None):
    """A path as Spack's configuration writes it ($spack, ${platform}, ~ or HOME); a relative one is relative to BASE."""
    for name, value in (('spack', spack_root), ('platform', platform_name())):
        path = path.replace('${%s}' % name, value)
        path = re.sub(r'\$%s(?!\w)' % name, lambda m, v=value: v, path)
    if path == '~' or path.startswith('~/'):
        path = (home or os.path.expanduser('~')) + path[1:]
    return os.path.normpath(os.path.join(base, path))


def included_scopes(directory, spack_root, env_vars, home, depth=0):
    """The scopes DIRECTORY's include.yaml names (and theirs), as Spack >= 1.1 resolves them."""
    include = os.path.join(directory, 'include.yaml')
    if not HAS_YAML or depth > MAX_INCLUDE_DEPTH or not os.path.isfile(include):
        return []
    try:
        with open(include) as f:
            entries = (yaml.safe_load(f) or {}).get('include') or []
    except (IOError, OSError, AttributeError, yaml.YAMLError):
        # Spack fails on it too; the file's own digest tells when it is fixed.
        return []
    scopes = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {'path': entry}
        if not isinstance(entry, dict) or not entry.get('path'):
            continue
        m = ENV_CONDITION.match(str(entry.get('when', '')))
        if m and (m.group(2) in env_vars) != (m.group(3) == 'in'):
            continue
        override = entry.get('path_override_env_var')
        path = env_vars.get(override) if override and env_vars.get(override) else entry['path']
        path = expand_path(str(path), spack_root, directory, home)
        scopes.append(path)
        if os.path.isdir(path):
            scopes.extend(included_scopes(path, spack_root, env_vars, home, depth + 1))
    return scopes


def config_scopes(spack_root, env_vars, home=None):
    """The scope directories (or files) Spack reads, as its environment variables decide.

    Spack >= 1.1 names them in etc/spack/include.yaml (user, site, system) and
    etc/spack/defaults/include.yaml (platform, base); etc/spack itself is a scope there, above the
    user scope. Spack 0.2x has them built in.
    """
    env_vars = env_vars or {}
    home = home or os.path.expanduser('~')
    spack_scope = os.path.join(spack_root, 'etc', 'spack')
    defaults = os.path.join(spack_scope, 'defaults')
    if os.path.isfile(os.path.join(spack_scope, 'include.yaml')):
        return ([defaults] + included_scopes(defaults, spack_root, env_vars, home)
                + [spack_scope] + included_scopes(spack_scope, spack_root, env_vars, home))
    scopes = [defaults, spack_scope]
    if not env_vars.get('SPACK_DISABLE_LOCAL_CONFIG'):
        scopes.append(env_vars.get('SPACK_SYSTEM_CONFIG_PATH') or '/etc/spack')
        scopes.append(env_vars.get('SPACK_USER_CONFIG_PATH') or os.path.join(home, '.spack'))
    return scopes


def repo_paths(config_paths, spack_root, home):
    """Local package repository directories configured in the given files (repos.yaml of any scope):
    0.2x lists paths, 1.x names them, each a path or a git clone's `destination`."""
    found = set()
    for path in config_paths:
        if os.path.basename(path) != 'repos.yaml' or not HAS_YAML:
            continue
        try:
            with open(path) as f:
                repos = (yaml.safe_load(f) or {}).get('repos') or []
        except (IOError, OSError, AttributeError, yaml.YAMLError):
            continue
        for entry in (repos.values() if isinstance(repos, dict) else repos):
            if isinstance(entry, dict):
                entry = entry.get('destination')
            if isinstance(entry, str) and entry:
                found.add(expand_path(entry, spack_root, os.path.dirname(path), home))
    return sorted(found)


def repo_fingerprint(repo, spack_root):
    """{what: digest} of one package repository: its git checkout's HEAD and branch when it is one (a
    spack-packages checkout holds it at <checkout>/repos/spack_repo/<namespace>), else its files. A
    repository inside Spack's own git checkout (0.2x's builtin) is covered by Spack's HEAD."""
    key = 'repo:' + repo
    if not os.path.isdir(repo):
        return {key: None}
    parent = os.path.dirname(repo)
    checkout = repo if os.path.isdir(os.path.join(repo, '.git')) else None
    if not checkout and os.path.basename(parent) == 'spack_repo' and os.path.basename(os.path.dirname(parent)) == 'repos':
        root = os.path.dirname(os.path.dirname(parent))
        if os.path.isdir(os.path.join(root, '.git')):
            checkout = root
    if checkout:
        return dict((key + ' ' + what, digest) for what, digest in git_checkout(checkout, 'git_').items())
    if repo.startswith(os.path.join(os.path.normpath(spack_root), '')) and os.path.isdir(os.path.join(spack_root, '.git')):
        return {}
    return {key + ' files': tree_digest(repo, stat_only=True)}


def store_database(prefixes):
    """The install database of the store holding PREFIXES (the nearest ancestor with .spack-db)."""
    for prefix in prefixes:
        d = os.path.dirname(prefix)
        while d and d != os.path.dirname(d):
            index = os.path.join(d, '.spack-db', 'index.json')
            if os.path.isfile(index):
                return index
            d = os.path.dirname(d)
    return None


def git_checkout(root, prefix='spack_git_'):
    """Digests of a git checkout's HEAD and of the commit its branch points to (a pull moves the
    branch, not HEAD)."""
    git = os.path.join(root, '.git')
    head = os.path.join(git, 'HEAD')
    if not os.path.isfile(head):
        return {}
    found = {prefix + 'head': file_digest(head)}
    with open(head) as f:
        ref = f.read().strip()
    if ref.startswith('ref: '):
        loose = os.path.join(git, *ref[5:].split('/'))
        found[prefix + 'ref'] = file_digest(loose if os.path.isfile(loose) else os.path.join(git, 'packed-refs'))
    return found


def host_fingerprint(spack_root, env_vars, env_path, prefixes, database, home=None):
    """What `spack -e ENV install` depends on, as {what: digest}; a missing file digests to None."""
    env_vars = env_vars or {}
    fp = {'spack': file_digest(os.path.join(spack_root, 'lib', 'spack', 'spack', '__init__.py')),
          'spack_env_vars': json.dumps(env_vars, sort_keys=True)}
    fp.update(git_checkout(spack_root))
    home = home or os.path.expanduser('~')
    paths = [path for scope in config_scopes(spack_root, env_vars, home) for path in config_files(scope)]
    for path in paths:
        fp['config:' + path] = file_digest(path)
    for repo in repo_paths(paths, spack_root, home):
        fp.update(repo_fingerprint(repo, spack_root))
    for name in ('spack.yaml', 'spack.lock'):
        fp['env:' + name] = file_digest(os.path.join(env_path, name))
    fp['env:view'] = os.path.exists(os.path.join(env_path, '.spack-env', 'view'))
    if database:
        fp['database'] = file_digest(database)
    return fp


def missing_prefixes(prefixes):
    """Recorded install prefixes whose Spack metadata is gone (removed by hand or uninstalled)."""
    return [p for p in prefixes if not os.path.isfile(os.path.join(p, '.spack', 'spec.json'))]


def make_stamp(inputs_digest, spack_root, env_vars, env_path, prefixes, home=None):
    prefixes = sorted(p for p in prefixes if os.path.isfile(os.path.join(p, '.spack', 'spec.json')))
    database = store_database(prefixes)
    return {
        'version': STAMP_VERSION,
        'inputs': inputs_digest,
        'spack_root': spack_root,
        'env_path': env_path,
        'prefixes': prefixes,
        'database': database,
        'host': host_fingerprint(spack_root, env_vars, env_path, prefixes, database, home),
    }


def compare(stamp, inputs_digest, spack_root, env_vars, home=None):
    """(current, reason): whether the host is still what STAMP recorded, and if not, the first reason."""
    if not stamp:
        return False, 'no successful deployment recorded'
    if stamp.get('version') != STAMP_VERSION:
        return False, 'the record is from another version of research.wizard'
    if stamp.get('inputs') != inputs_digest:
        return False, 'variables, domain pack or collection changed since the last deployment'
    if stamp.get('spack_root') != spack_root:
        return False, 'spack_root changed'
    gone = missing_prefixes(stamp.get('prefixes') or [])
    if gone:
        return False, 'install prefix missing: %s' % gone[0]
    now = host_fingerprint(spack_root, env_vars, stamp.get('env_path') or '', stamp.get('prefixes') or [],
                           stamp.get('database'), home)
    recorded = stamp.get('host') or {}
    for key in sorted(set(now) | set(recorded)):
        if now.get(key) != recorded.get(key):
            return False, '%s changed' % key.replace('config:', 'Spack configuration ').replace(
                'repo:', 'package repository ')
    return True, 'nothing changed since the last deployment'


def require_digest(spack_module):
    if not spack_module.params['inputs_digest']:
        spack_module.fail('inputs_digest is empty: run this module through its action plugin, or give a digest')


def check(spack_module):
    """The read-only check's result: RV current, reason and (when current) the last summary.

    The Spack is found as every module finds it (spack_root, SPACK_ROOT, spack on PATH) but never
    run: the point is to answer faster than `spack install` could. No Spack at all is not an error
    here (the deploy installs it next), only a deployment that is not current.
    """
    p = spack_module.params
    try:
        root = Spack(spack_module.module).root
    except SpackError as e:
        current, reason = False, e.msg
    else:
        current, reason = compare(read_json(p['path']), p['inputs_digest'], root, p['spack_env_vars'])
    summary = read_json(p['summary']) if current and p['summary'] else None
    return dict(changed=False, current=current, reason=reason, summary=summary, inputs_digest=p['inputs_digest'])
