# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Binary caches: push, index and signing keys, for spack_buildcache_{push,index,keys}.

Each action is a function of a SpackModule (its params, check mode and Spack) returning the module's
result. The argument specs live here too, so the deprecated spack_buildcache front takes the same ones.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import filecmp
import os
import re
import shutil

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, read_json, redact
from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import (
    endpoint, entry_url, file_url_path, is_url, lookup, single_mirror_scope)
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    parse_buildcache_list, parse_gpg_keys, parse_push_output)
from ansible_collections.research.wizard.plugins.module_utils._spack_scratch import env_override, scratch_dir

MIRROR_ARG = dict(mirror=dict(type='str'))
SOURCE_ARGS = dict(
    env=dict(type='str'),
    env_path=dict(type='path'),
)
PUSH_ARGS = dict(
    specs=dict(type='list', elements='str'),
    signed=dict(type='bool', default=False),
    key=dict(type='str', no_log=False),
    force=dict(type='bool', default=False),
    update_index=dict(type='bool', default=True),
    only=dict(type='str', choices=['package', 'dependencies']),
    jobs=dict(type='int'),
)
KEYS_ARGS = dict(
    create_key=dict(type='dict', no_log=False, options=dict(name=dict(type='str', required=True),
                                                            email=dict(type='str', required=True))),
    export_key=dict(type='path', no_log=False),
    publish_key=dict(type='bool', default=False),
    trust=dict(type='list', elements='path', default=[]),
    trust_from_mirrors=dict(type='bool', default=False),
)
# Hashes of the specs a cache holds, from the file names of either layout: build_cache/*.spec.json[.sig]
# (layout v2, Spack 0.2x) and v3/manifests/spec/**/*.spec.manifest.json (layout v3, Spack 1.x).
_SPEC_FILE = re.compile(r'-([a-z0-9]{32})\.spec\.(?:json(?:\.sig)?|yaml|manifest\.json)$')


def env_dir(sm):
    """The directory of the environment the params name (env or env_path), or None."""
    p = sm.params
    path = p.get('env_path') or (sm.spack.env_path(p['env']) if p.get('env') else None)
    if p.get('env') and path is None:
        raise SpackError('No Spack environment named %s.' % p['env'])
    return path


@contextlib.contextmanager
def without_aws_cli(sm, env_path=None, entry=None):
    """Keep Spack 1.x's `aws s3 sync` fast path away from an S3-compatible store.

    To rebuild an index, Spack 1.x lists an s3:// cache with the `aws` CLI when one is on PATH, without the
    mirror's endpoint_url or credentials, and fails when it errors (MinIO, Ceph, moto...). When the CLI
    finds nothing, Spack falls back to its own boto3 listing, which honours both; so a do-nothing `aws`
    goes first on PATH for this module's Spack commands. Nothing changes without an `aws` on PATH, on
    0.2x (which falls back on an error by itself) or for a mirror without endpoint_url (real AWS).
    """
    spack, mirror = sm.spack, sm.params['mirror']
    path = spack.env_vars.get('PATH') or os.environ.get('PATH', '')
    if not (spack.at_least(1, 0) and mirror and shutil.which('aws', path=path)):
        entry = None
    elif entry is None:
        entry = lookup(spack, mirror, env_path)
    if entry is None or not (entry_url(entry, 'push').startswith('s3://') and endpoint(entry)):
        yield
        return
    with scratch_dir('wizard-noaws-') as scratch:
        shim = os.path.join(scratch, 'aws')
        with open(shim, 'w') as f:
            f.write('#!/bin/sh\n# research.wizard: Spack falls back to boto3, which knows the endpoint.\nexit 0\n')
        os.chmod(shim, 0o700)
        with env_override(spack, PATH=scratch + os.pathsep + path):
            yield


@contextlib.contextmanager
def _nothing():
    yield


def cache_hashes(spack, entry):
    """Short hashes of the specs the cache's index lists (None when Spack cannot read it), read afresh.

    A misc_cache of its own: Spack keeps listing the index it fetched last when the cache has none now.
    """
    with single_mirror_scope(entry) as scope, scratch_dir('wizard-index-') as cache:
        rc, out, err = spack.run('buildcache_list', allarch=True, long=True, scope_dirs=[scope], check=False,
                                 config=['config:binary_index_ttl:0', 'config:misc_cache:%s' % cache])
    return sorted(set(e['hash'][:7] for e in parse_buildcache_list(out))) if rc == 0 else None


def push(sm):
    p, spack = sm.params, sm.spack
    directory = env_dir(sm)
    values = dict(signed=None if p['key'] else p['signed'], key=p['key'], force=p['force'],
                  update_index=p['update_index'], only=p['only'], jobs=p['jobs'] if spack.at_least(0, 22) else None,
                  mirror=p['mirror'], specs=p['specs'])
    cmd = [redact(spack.argv('buildcache_push', env_dir=directory, **values))]
    if sm.check_mode:
        missing = missing_in_mirror(sm, directory)
        return dict(changed=bool(missing), missing=missing, cmd=cmd)
    with without_aws_cli(sm, directory) if p['update_index'] else _nothing():
        rc, out, err = spack.run('buildcache_push', env_dir=directory, what='mirror %s' % p['mirror'], **values)
    parsed = parse_push_output(out + '\n' + err)
    return dict(changed=bool(parsed['pushed']), pushed=parsed['pushed'], selected=parsed['selected'], cmd=cmd)


def missing_in_mirror(sm, directory):
    """Installed, non-external specs of the environment (or of its given /HASH specs) the mirror does not list."""
    if not directory:
        raise SpackError('Check mode for a push needs env or env_path (Spack cannot tell, without '
                         'pushing, what given specs would add).')
    lock = read_json(os.path.join(directory, 'spack.lock')) or {}
    concrete = lock.get('concrete_specs') or {}
    wanted = selected_hashes(concrete, sm.params['specs'], sm.params['only']) if sm.params['specs'] else set(concrete)
    installed = sm.spack.installed()
    have = set(cache_hashes(sm.spack, lookup(sm.spack, sm.params['mirror'], directory)) or ())
    out = []
    for h, spec in sorted(concrete.items()):
        if h in wanted and h in installed and not spec.get('external') and h[:7] not in have:
            out.append(dict(name=spec.get('name'), version=spec.get('version'), hash=h[:7]))
    return out


def selected_hashes(concrete, specs, only=None):
    """Full hashes of the lock's CONCRETE specs a push of SPECS (each /HASH) selects, as Spack does:
    each spec and, unless ONLY is 'package', its dependencies of every type (only 'dependencies': those alone).

    Raises SpackError for a spec that is not a hash of the environment: what it would push is Spack's to say.
    """
    roots = []
    for spec in specs:
        prefix = spec[1:].strip() if spec.startswith('/') else None
        found = [h for h in concrete if prefix and h.startswith(prefix)] if prefix else []
        if len(found) != 1:
            raise SpackError('Check mode of a push with specs needs each spec as /HASH of one spec of the environment '
                             '(got %r): name the specs by hash, or push the whole environment (no specs).' % spec)
        roots.append(found[0])
    deps = set()
    todo = list(roots) if only != 'package' else []
    while todo:
        for dep in (concrete.get(todo.pop()) or {}).get('dependencies') or ():
            if dep.get('hash') in concrete and dep['hash'] not in deps:
                deps.add(dep['hash'])
                todo.append(dep['hash'])
    return (set() if only == 'dependencies' else set(roots)) | deps


def stored_hashes(path):
    """Short hashes of the specs a local cache holds as files, whatever its index says."""
    found = set()
    for dummy, dummy2, files in os.walk(path):
        found.update(m.group(1)[:7] for m in (_SPEC_FILE.search(f) for f in files) if m)
    return sorted(found)


def update_index(sm):
    """Rebuild the cache's index; changed when the specs it lists differ from before."""
    p, spack = sm.params, sm.spack
    directory = env_dir(sm)
    entry = lookup(spack, p['mirror'], directory)
    cmd = [redact(spack.argv('buildcache_update_index', mirror=p['mirror']))]
    before = cache_hashes(spack, entry)
    result = dict(cmd=cmd, before=before)
    if sm.check_mode:
        local = file_url_path(entry_url(entry, 'push'))
        # A remote cache cannot be listed without Spack rebuilding its index: assume it would change.
        # A local one would gain the specs it holds that the index lacks (the index also lists
        # externals, which have no files).
        after = sorted(set(before or ()) | set(stored_hashes(local))) if local is not None else None
        result.update(changed=after is None or after != before, after=after)
        return result
    with without_aws_cli(sm, directory, entry):
        spack.run('buildcache_update_index', what='mirror %s' % p['mirror'], mirror=p['mirror'])
    after = cache_hashes(spack, entry)
    result.update(changed=after != before, after=after)
    return result


def _signing(spack):
    return parse_gpg_keys(spack.stdout('gpg_list', gpg_which='signing'))


def _trusted(spack):
    return set(k['fingerprint'] for k in parse_gpg_keys(spack.stdout('gpg_list', gpg_which='trusted')))


def _file_fingerprints(module, path):
    gpg = module.get_bin_path('gpg', required=True)
    rc, out, err = module.run_command([gpg, '--batch', '--with-colons', '--import-options', 'show-only', '--import', path],
                                      environ_update=dict(LC_ALL='C'))
    if rc != 0:
        raise SpackError('%s is not a readable public key file: %s' % (path, err.strip()), rc=rc, stderr=err)
    return [line.split(':')[9] for line in out.splitlines() if line.startswith('fpr:')][:1]


def fetched_fingerprints(text):
    """Fingerprints of the keys a `buildcache keys` run found, from either cache layout's output."""
    found = re.findall(r'/_pgp/([0-9A-F]{40})\.pub', text) + re.findall(r'Found key ([0-9A-F]{40})\b', text)
    return sorted(set(found))


def _published(spack, entry=None):
    """Fingerprints the caches (or only ENTRY) publish now: --force lists afresh, not what a run cached.

    -d: Spack 1.x (layout v3) names a key only in its debug line "Found key FPR"; 0.2x also in the
    /_pgp/FPR.pub URL.
    """
    with _only(entry) as scopes:
        rc, out, err = spack.run('buildcache_keys', debug=True, force=True, scope_dirs=scopes, check=False)
    return fetched_fingerprints(out + err)


@contextlib.contextmanager
def _only(entry):
    """[a scope dir] in which ENTRY is the only mirror; [] (every configured mirror) for None."""
    if entry is None:
        yield []
    else:
        with single_mirror_scope(entry) as scope:
            yield [scope]


def keys(sm):
    p, spack, module = sm.params, sm.spack, sm.module
    cmds, changed = [], False

    def run(command, what=None, **values):
        cmds.append(redact(spack.argv(command, **values)))
        if not sm.check_mode:
            spack.run(command, what=what, **values)

    signing = _signing(spack)
    if p['create_key']:
        name, email = p['create_key']['name'], p['create_key']['email']
        ours = [k for k in signing if any(name in u and email in u for u in k['uids'])]
        if not ours:
            run('gpg_create', what='key %s <%s>' % (name, email), name=name, email=email)
            changed = True
            if not sm.check_mode:
                signing = _signing(spack)
    if p['export_key']:
        with scratch_dir('wizard-key-') as scratch:
            tmp = os.path.join(scratch, 'key.pub')
            spack.run('gpg_export', what='export', path=tmp, fingerprints=[k['fingerprint'] for k in signing])
            if not (os.path.exists(p['export_key']) and filecmp.cmp(tmp, p['export_key'], shallow=False)):
                changed = True
                cmds.append(['spack', 'gpg', 'export', p['export_key']])
                if not sm.check_mode:
                    module.atomic_move(tmp, p['export_key'])
    if p['publish_key']:
        published = _published(spack, lookup(spack, p['mirror']))
        unpublished = [k['fingerprint'] for k in signing if k['fingerprint'] not in published]
        if unpublished:
            target = dict(publish_mirror_url=p['mirror']) if is_url(p['mirror']) else dict(publish_mirror=p['mirror'])
            run('gpg_publish', what='mirror %s' % p['mirror'], rebuild_index=True, fingerprints=unpublished, **target)
            changed = True
    trusted = _trusted(spack)
    for path in p['trust']:
        if not set(_file_fingerprints(module, path)) <= trusted:
            run('gpg_trust', what=path, path=path)
            changed = True
    if p['trust_from_mirrors']:
        if sm.check_mode:
            changed = changed or any(f not in trusted for f in _published(spack))
        else:
            run('buildcache_keys', install_keys=True, trust=True)
            after = _trusted(spack)
            changed = changed or bool(after - trusted)
            trusted = after
    return dict(changed=changed, cmd=cmds, signing_keys=signing, trusted_keys=sorted(trusted))
