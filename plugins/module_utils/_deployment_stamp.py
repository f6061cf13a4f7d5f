# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a deployment still what its last successful run left? Decided without running Spack.

A re-deploy with nothing to do otherwise costs every role's tasks (20 s and more) to learn what a
few file reads can tell: the stamp written after a successful deploy holds a digest of its inputs
(variables, pack, collection code) and a fingerprint of what Spack's behaviour depends on on the
host (Spack's version, every configuration file, the environment's manifest and lock, the install
database and every install prefix). Equal digest and fingerprint: `spack install` would do nothing.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os

STAMP_VERSION = 1
CONFIG_SUFFIXES = ('.yaml', '.yml', '.json')
PLATFORMS = ('linux', 'darwin', 'windows', 'freebsd', 'cray', 'base')


def file_digest(path):
    """sha256 of a file's content, or None when it does not exist."""
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                h.update(block)
    except (IOError, OSError):
        return None
    return h.hexdigest()


def config_files(directory):
    """Spack configuration files of one scope directory and of its platform subdirectories.

    Other subdirectories (bootstrap stores and caches in ~/.spack) are not configuration.
    """
    found = []
    if not directory or not os.path.isdir(directory):
        return found
    for d in [directory] + [os.path.join(directory, p) for p in PLATFORMS]:
        if os.path.isdir(d):
            found.extend(os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(CONFIG_SUFFIXES))
    return found


def config_scopes(spack_root, env_vars, home=None):
    """The scope directories Spack reads, as its environment variables decide."""
    env_vars = env_vars or {}
    home = home or os.path.expanduser('~')
    site = os.path.join(spack_root, 'etc', 'spack')
    scopes = [os.path.join(site, 'defaults'), site]
    if not env_vars.get('SPACK_DISABLE_LOCAL_CONFIG'):
        scopes.append(env_vars.get('SPACK_SYSTEM_CONFIG_PATH') or '/etc/spack')
        scopes.append(env_vars.get('SPACK_USER_CONFIG_PATH') or os.path.join(home, '.spack'))
    return scopes


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


def git_checkout(root):
    """Digests of a git checkout's HEAD and of the commit its branch points to (a pull moves the
    branch, not HEAD)."""
    git = os.path.join(root, '.git')
    head = os.path.join(git, 'HEAD')
    if not os.path.isfile(head):
        return {}
    found = {'spack_git_head': file_digest(head)}
    with open(head) as f:
        ref = f.read().strip()
    if ref.startswith('ref: '):
        loose = os.path.join(git, *ref[5:].split('/'))
        found['spack_git_ref'] = file_digest(loose if os.path.isfile(loose) else os.path.join(git, 'packed-refs'))
    return found


def host_fingerprint(spack_root, env_vars, env_path, prefixes, database, home=None):
    """What `spack -e ENV install` depends on, as {what: digest}; a missing file digests to None."""
    env_vars = env_vars or {}
    fp = {'spack': file_digest(os.path.join(spack_root, 'lib', 'spack', 'spack', '__init__.py')),
          'spack_env_vars': json.dumps(env_vars, sort_keys=True)}
    fp.update(git_checkout(spack_root))
    for scope in config_scopes(spack_root, env_vars, home):
        for path in config_files(scope):
            fp['config:' + path] = file_digest(path)
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
            return False, '%s changed' % key.replace('config:', 'Spack configuration ')
    return True, 'nothing changed since the last deployment'
