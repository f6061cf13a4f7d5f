#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_buildcache
short_description: Push to a Spack binary cache, rebuild its index, and manage its signing keys
version_added: 0.1.0
description:
  - O(action=push) pushes an environment's installed specs (or given specs) to a binary cache.
    Only what the cache lacks is pushed (unless O(force=true)); C(changed) reports whether anything was.
  - O(action=update_index) rebuilds the cache's index (C(spack buildcache update-index)).
  - O(action=keys) manages signing keys - creates a signing key once, exports its public part,
    publishes it into the cache, and trusts keys (from files, or every key the configured caches publish).
extends_documentation_fragment:
  - research.wizard.spack
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed, when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: partial
    details: O(action=update_index) always rebuilds the index and reports a change.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
options:
  action:
    description: What to do.
    type: str
    choices: [push, update_index, keys]
    required: true
  mirror:
    description: Mirror name, URL or local path. Required for O(action=push), O(action=update_index) and O(publish_key=true).
    type: str
  env:
    description: Managed environment whose installed specs are pushed.
    type: str
  env_path:
    description: Environment directory whose installed specs are pushed.
    type: path
  specs:
    description: Installed specs to push (with their dependencies), instead of an environment.
    type: list
    elements: str
  signed:
    description: Sign what is pushed (needs a signing key, see O(create_key)). V(false) pushes unsigned tarballs.
    type: bool
    default: false
  key:
    description: Fingerprint or name of the key to sign with, when several signing keys exist.
    type: str
  force:
    description: Overwrite what the cache already has.
    type: bool
    default: false
  update_index:
    description: Rebuild the cache index after a push that pushed something.
    type: bool
    default: true
  only:
    description: Push only the packages themselves, or only their dependencies. Both by default.
    type: str
    choices: [package, dependencies]
  jobs:
    description: Parallel uploads (Spack 0.22 or later).
    type: int
  create_key:
    description:
      - With O(action=keys), make sure a signing key with this name and email exists, creating it if not.
    type: dict
    suboptions:
      name:
        description: Key owner name (matched against existing signing keys' user ids).
        type: str
        required: true
      email:
        description: Key owner email.
        type: str
        required: true
  export_key:
    description: With O(action=keys), write the public part of the signing key(s) to this file.
    type: path
  publish_key:
    description: With O(action=keys), publish the public part of the signing key(s) into O(mirror) so consumers can trust it.
    type: bool
    default: false
  trust:
    description: With O(action=keys), public key files to trust.
    type: list
    elements: path
    default: []
  trust_from_mirrors:
    description: With O(action=keys), fetch and trust every key the configured binary caches publish.
    type: bool
    default: false
notes:
  - On Spack 1.x, rebuilding the index of an V(s3://) cache that has an C(endpoint_url) (MinIO, Ceph, any
    S3-compatible store) runs with a do-nothing C(aws) first on E(PATH), because Spack would otherwise list the
    cache with the C(aws) CLI without that endpoint and fail; Spack then lists it through boto3.
  - Secrets a mirror names by variable (Spack 1.x) come from O(spack_secret_env).
  - Keys live in Spack's GnuPG home (C($SPACK_ROOT/opt/spack/gpg), or C(SPACK_GNUPGHOME) from O(spack_env_vars)).
seealso:
  - module: research.wizard.spack_mirror
  - module: research.wizard.spack_install
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Push what the environment built to the local cache, unsigned
  research.wizard.spack_buildcache:
    action: push
    env: chemistry
    mirror: local-cache

- name: A signing key for the S3 cache, published in it
  research.wizard.spack_buildcache:
    action: keys
    mirror: s3-cache
    create_key: {name: research-wizard, email: hpc@example.org}
    publish_key: true

- name: Push signed
  research.wizard.spack_buildcache:
    action: push
    env: chemistry
    mirror: s3-cache
    signed: true

- name: On consumers, trust the keys the caches publish
  research.wizard.spack_buildcache:
    action: keys
    trust_from_mirrors: true
'''

RETURN = r'''
pushed:
  description: Specs pushed by this run (name, version, short hash).
  returned: action=push
  type: list
  elements: dict
  sample: [{name: libtiny, version: '1.0', hash: funjglg}]
selected:
  description: Number of specs Spack considered for the push.
  returned: action=push
  type: int
missing:
  description: In check mode, installed specs the cache lacks (what a push would upload).
  returned: action=push in check mode
  type: list
  elements: dict
signing_keys:
  description: Signing keys after the run, each with C(fingerprint) and C(uids).
  returned: action=keys
  type: list
  elements: dict
trusted_keys:
  description: Fingerprints of the trusted keys after the run.
  returned: action=keys
  type: list
  elements: str
cmd:
  description: The Spack commands run (or that would run in check mode).
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

import contextlib
import filecmp
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.research.wizard.plugins.module_utils._spack import (
    SPACK_COMMON_ARGS, Spack, SpackError, fail, load_lock, load_yaml, redact)
from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import single_mirror_scope
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    parse_buildcache_list, parse_gpg_keys, parse_push_output)


def _is_url(mirror):
    return '://' in mirror or mirror.startswith('/')


def mirror_entry(spack, mirror, env_dir=None):
    """The configured entry of mirror NAME, or a file:// entry for a URL or path."""
    if _is_url(mirror):
        return mirror if '://' in mirror else 'file://' + mirror
    out = spack.stdout(['config', 'get', 'mirrors'], env_dir=env_dir)
    entry = (load_yaml(out).get('mirrors') or {}).get(mirror)
    if entry is None:
        raise SpackError('No mirror named %s is configured: add it with research.wizard.spack_mirror, '
                         'or give its URL.' % mirror)
    return entry


def _entry_url(entry):
    if isinstance(entry, dict):
        fetch = entry.get('push') or entry.get('fetch')
        return entry.get('url') or (fetch.get('url') if isinstance(fetch, dict) else fetch) or ''
    return entry or ''


def _endpoint(entry):
    if not isinstance(entry, dict):
        return None
    conn = entry.get('push') if isinstance(entry.get('push'), dict) else entry
    return conn.get('endpoint_url') or entry.get('endpoint_url')


@contextlib.contextmanager
def without_aws_cli(module, spack, env_dir=None):
    """Keep Spack 1.x's `aws s3 sync` fast path away from an S3-compatible store.

    To rebuild an index, Spack 1.x lists an s3:// cache with the `aws` CLI when one is on PATH, without the
    mirror's endpoint_url or credentials, and fails when it errors (MinIO, Ceph, moto...). When the CLI
    finds nothing, Spack falls back to its own boto3 listing, which honours both; so a do-nothing `aws`
    goes first on PATH for this module's Spack commands. Nothing changes without an `aws` on PATH, on
    0.2x (which falls back on an error by itself) or for a mirror without endpoint_url (real AWS).
    """
    p = module.params
    path = spack.env_vars.get('PATH') or os.environ.get('PATH', '')
    if not (spack.at_least(1, 0) and p['mirror'] and shutil.which('aws', path=path)):
        yield
        return
    entry = mirror_entry(spack, p['mirror'], env_dir)
    if not (_entry_url(entry).startswith('s3://') and _endpoint(entry)):
        yield
        return
    scratch = tempfile.mkdtemp(prefix='wizard-noaws-')
    saved = spack.env_vars.get('PATH')
    try:
        shim = os.path.join(scratch, 'aws')
        with open(shim, 'w') as f:
            f.write('#!/bin/sh\n# research.wizard: Spack falls back to boto3, which knows the endpoint.\nexit 0\n')
        os.chmod(shim, 0o700)
        spack.env_vars['PATH'] = scratch + os.pathsep + path
        yield
    finally:
        if saved is None:
            spack.env_vars.pop('PATH', None)
        else:
            spack.env_vars['PATH'] = saved
        shutil.rmtree(scratch, ignore_errors=True)


def push(module, spack, env_dir):
    p = module.params
    args = ['buildcache', 'push']
    args.append('--key' if p['key'] else ('--signed' if p['signed'] else '--unsigned'))
    if p['key']:
        args.append(p['key'])
    if p['force']:
        args.append('--force')
    if p['update_index']:
        args.append('--update-index')
    if p['only']:
        args += ['--only', p['only']]
    if p['jobs'] and spack.at_least(0, 22):
        args += ['-j', str(p['jobs'])]
    args += [p['mirror']] + list(p['specs'] or [])

    if module.check_mode:
        missing = missing_in_mirror(module, spack, env_dir)
        return dict(changed=bool(missing), missing=missing, cmd=[redact(spack.command(args, env_dir=env_dir))])
    with without_aws_cli(module, spack, env_dir) if p['update_index'] else _nothing():
        rc, out, err = spack.run(args, env_dir=env_dir, what='mirror %s' % p['mirror'])
    parsed = parse_push_output(out + '\n' + err)
    return dict(changed=bool(parsed['pushed']), pushed=parsed['pushed'], selected=parsed['selected'],
                cmd=[redact(spack.command(args, env_dir=env_dir))])


@contextlib.contextmanager
def _nothing():
    yield


def missing_in_mirror(module, spack, env_dir):
    """Installed, non-external specs of the environment that the mirror does not list."""
    if module.params['specs'] or not env_dir:
        raise SpackError('Check mode for action=push needs env or env_path (Spack cannot tell, without '
                         'pushing, what given specs would add).')
    lock = load_lock(os.path.join(env_dir, 'spack.lock')) or {}
    installed = spack.installed()
    with single_mirror_scope(mirror_entry(spack, module.params['mirror'], env_dir)) as scope:
        rc, out, err = spack.run(['buildcache', 'list', '--allarch', '--long'], scope_dirs=[scope], check=False)
    have = set(e['hash'][:7] for e in parse_buildcache_list(out)) if rc == 0 else set()
    out = []
    for h, spec in sorted((lock.get('concrete_specs') or {}).items()):
        if h in installed and not spec.get('external') and h[:7] not in have:
            out.append(dict(name=spec.get('name'), version=spec.get('version'), hash=h[:7]))
    return out


def _fingerprints(spack, which):
    out = spack.stdout(['gpg', 'list', which])
    return parse_gpg_keys(out)


def _file_fingerprints(module, path):
    gpg = module.get_bin_path('gpg', required=True)
    rc, out, err = module.run_command([gpg, '--batch', '--with-colons', '--import-options', 'show-only', '--import', path],
                                      environ_update=dict(LC_ALL='C'))
    if rc != 0:
        raise SpackError('%s is not a readable public key file: %s' % (path, err.strip()), rc=rc, stderr=err)
    return [l.split(':')[9] for l in out.splitlines() if l.startswith('fpr:')][:1]


def keys(module, spack):
    p = module.params
    cmds, changed = [], False

    def run(args, what=None):
        cmds.append(redact(spack.command(args)))
        if not module.check_mode:
            spack.run(args, what=what)

    signing = _fingerprints(spack, '--signing')
    if p['create_key']:
        name, email = p['create_key']['name'], p['create_key']['email']
        ours = [k for k in signing if any(name in u and email in u for u in k['uids'])]
        if not ours:
            run(['gpg', 'create', name, email], what='key %s <%s>' % (name, email))
            changed = True
            if not module.check_mode:
                signing = _fingerprints(spack, '--signing')
    if p['export_key']:
        scratch = tempfile.mkdtemp(prefix='wizard-key-')
        try:
            tmp = os.path.join(scratch, 'key.pub')
            spack.run(['gpg', 'export', tmp] + [k['fingerprint'] for k in signing], what='export')
            if not (os.path.exists(p['export_key']) and filecmp.cmp(tmp, p['export_key'], shallow=False)):
                changed = True
                cmds.append(['spack', 'gpg', 'export', p['export_key']])
                if not module.check_mode:
                    module.atomic_move(tmp, p['export_key'])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if p['publish_key']:
        with single_mirror_scope(mirror_entry(spack, p['mirror'])) as scope:
            # --force: list what the mirror has now, not what an earlier run cached. -d: Spack 1.x (layout
            # v3) names a key only in its debug line "Found key FPR"; 0.2x also in the /_pgp/FPR.pub URL.
            rc, out, err = spack.run(['-d', 'buildcache', 'keys', '--force'], scope_dirs=[scope], check=False)
        published = _fetched_fingerprints(out + err)
        unpublished = [k['fingerprint'] for k in signing if k['fingerprint'] not in published]
        if unpublished:
            target = ['--mirror-url', p['mirror']] if _is_url(p['mirror']) else ['--mirror-name', p['mirror']]
            run(['gpg', 'publish'] + target + ['--rebuild-index'] + unpublished, what='mirror %s' % p['mirror'])
            changed = True
    trusted = set(k['fingerprint'] for k in _fingerprints(spack, '--trusted'))
    for path in p['trust']:
        if not set(_file_fingerprints(module, path)) <= trusted:
            run(['gpg', 'trust', path], what=path)
            changed = True
    if p['trust_from_mirrors']:
        if module.check_mode:
            rc, out, err = spack.run(['-d', 'buildcache', 'keys', '--force'], check=False)
            changed = changed or any(f not in trusted for f in _fetched_fingerprints(out + err))
        else:
            run(['buildcache', 'keys', '--install', '--trust'])
            after = set(k['fingerprint'] for k in _fingerprints(spack, '--trusted'))
            changed = changed or bool(after - trusted)
            trusted = after
    return dict(changed=changed, cmd=cmds, signing_keys=signing, trusted_keys=sorted(trusted))


def _fetched_fingerprints(text):
    """Fingerprints of the keys a `buildcache keys` run found, from either cache layout's output."""
    found = re.findall(r'/_pgp/([0-9A-F]{40})\.pub', text) + re.findall(r'Found key ([0-9A-F]{40})\b', text)
    return sorted(set(found))


def main():
    argument_spec = dict(
        action=dict(type='str', required=True, choices=['push', 'update_index', 'keys']),
        mirror=dict(type='str'),
        env=dict(type='str'),
        env_path=dict(type='path'),
        specs=dict(type='list', elements='str'),
        signed=dict(type='bool', default=False),
        key=dict(type='str', no_log=False),
        force=dict(type='bool', default=False),
        update_index=dict(type='bool', default=True),
        only=dict(type='str', choices=['package', 'dependencies']),
        jobs=dict(type='int'),
        create_key=dict(type='dict', no_log=False, options=dict(name=dict(type='str', required=True),
                                                                email=dict(type='str', required=True))),
        export_key=dict(type='path', no_log=False),
        publish_key=dict(type='bool', default=False),
        trust=dict(type='list', elements='path', default=[]),
        trust_from_mirrors=dict(type='bool', default=False),
    )
    argument_spec.update(SPACK_COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[('env', 'env_path', 'specs')],
                           required_if=[('action', 'push', ('mirror',)), ('action', 'update_index', ('mirror',)),
                                        ('action', 'push', ('env', 'env_path', 'specs'), True),
                                        ('publish_key', True, ('mirror',))])
    p = module.params
    try:
        spack = Spack(module)
        spack.require_yaml()
        spack.version
        env_dir = p['env_path'] or (spack.env_path(p['env']) if p['env'] else None)
        if p['env'] and env_dir is None:
            raise SpackError('No Spack environment named %s.' % p['env'])
        if p['action'] == 'push':
            result = push(module, spack, env_dir)
        elif p['action'] == 'update_index':
            args = ['buildcache', 'update-index', p['mirror']]
            if not module.check_mode:
                with without_aws_cli(module, spack, env_dir):
                    spack.run(args, what='mirror %s' % p['mirror'])
            result = dict(changed=True, cmd=[redact(spack.command(args))])
        else:
            result = keys(module, spack)
        result['spack_version'] = spack.version_string
    except SpackError as e:
        fail(module, e)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
