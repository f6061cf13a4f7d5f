#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_buildcache
short_description: Push to a Spack binary cache, rebuild its index, and manage its signing keys
version_added: 0.1.0
deprecated:
  removed_in: 2.0.0
  why: One module for one concern; O(action=update_index) always reported a change.
  alternative: >-
    M(research.wizard.spack_buildcache_push), M(research.wizard.spack_buildcache_index) and
    M(research.wizard.spack_buildcache_keys), which take the same options (without O(action)).
description:
  - Deprecated front of M(research.wizard.spack_buildcache_push) (O(action=push)),
    M(research.wizard.spack_buildcache_index) (O(action=update_index)) and
    M(research.wizard.spack_buildcache_keys) (O(action=keys)); it runs the same code and warns.
  - O(action=push) pushes an environment's installed specs (or given specs) to a binary cache.
    Only what the cache lacks is pushed (unless O(force=true)); C(changed) reports whether anything was.
  - O(action=update_index) rebuilds the cache's index (C(spack buildcache update-index)); C(changed) says
    whether the specs the index lists changed.
  - O(action=keys) manages signing keys - creates a signing key once, exports its public part,
    publishes it into the cache, and trusts keys (from files, or every key the configured caches publish).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  check_mode:
    support: partial
    details: As M(research.wizard.spack_buildcache_push) and M(research.wizard.spack_buildcache_index).
  diff_mode:
    support: none
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
  - module: research.wizard.spack_buildcache_push
  - module: research.wizard.spack_buildcache_index
  - module: research.wizard.spack_buildcache_keys
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
before:
  description: Short hashes of the specs the index listed before the run.
  returned: action=update_index
  type: list
  elements: str
after:
  description: Short hashes of the specs the index lists after the run (in check mode, those a local cache holds).
  returned: action=update_index
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

from ansible_collections.research.wizard.plugins.module_utils._spack_buildcache import (
    KEYS_ARGS, MIRROR_ARG, PUSH_ARGS, SOURCE_ARGS, keys, push, update_index)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule

ACTIONS = dict(push=push, update_index=update_index, keys=keys)


def _main(sm):
    action = sm.params['action']
    sm.module.deprecate('research.wizard.spack_buildcache is deprecated: use research.wizard.spack_buildcache_%s '
                        '(the same options, without action).' % ('index' if action == 'update_index' else action),
                        version='2.0.0', collection_name='research.wizard')
    return ACTIONS[action](sm)


def main():
    spec = dict(action=dict(type='str', required=True, choices=sorted(ACTIONS)))
    for args in (MIRROR_ARG, SOURCE_ARGS, PUSH_ARGS, KEYS_ARGS):
        spec.update(args)
    SpackModule(spec, mutually_exclusive=[('env', 'env_path', 'specs')],
                required_if=[('action', 'push', ('mirror',)), ('action', 'update_index', ('mirror',)),
                             ('action', 'push', ('env', 'env_path', 'specs'), True),
                             ('publish_key', True, ('mirror',))]).run(_main)


if __name__ == '__main__':
    main()
