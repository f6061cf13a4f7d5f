#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_buildcache_push
short_description: Push an environment's installed specs (or given specs) to a Spack binary cache
version_added: 0.1.0
description:
  - Pushes with C(spack buildcache push). Only what the cache lacks is pushed (unless O(force=true));
    C(changed) reports whether anything was.
  - In check mode, lists the environment's installed specs the cache lacks (RV(missing)) without pushing.
  - With O(specs) and O(env) (or O(env_path)) together, pushes only those specs of the environment. The
    research.wizard.domain_pack role pushes exactly what a run built from source that way, by hash (V(/abcdefg)),
    also when other packages of the environment failed and are not installed (a push of the whole environment
    would stop at them).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  check_mode:
    support: partial
    details: Needs O(env) or O(env_path), and O(specs), if given, as hashes (V(/abcdefg)) of that environment's
      specs; Spack cannot tell what other given O(specs) would add without pushing.
  diff_mode:
    support: none
options:
  mirror:
    description: Mirror name, URL or local path.
    type: str
    required: true
  env:
    description:
      - Managed environment whose installed specs are pushed.
      - With O(specs), the environment the specs are looked up in.
    type: str
  env_path:
    description:
      - Environment directory whose installed specs are pushed.
      - With O(specs), the environment the specs are looked up in.
    type: path
  specs:
    description:
      - Installed specs to push (with their dependencies unless O(only=package)), instead of a whole environment.
      - Any spec Spack accepts; V(/HASH) (7 characters or more) names one installed spec exactly.
      - With O(env) or O(env_path), they are looked up among that environment's specs.
    type: list
    elements: str
  signed:
    description: Sign what is pushed (needs a signing key, see M(research.wizard.spack_buildcache_keys)). V(false) pushes unsigned tarballs.
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
    description: Parallel uploads (Spack 0.22 or later; ignored before).
    type: int
notes:
  - On Spack 1.x, rebuilding the index of an V(s3://) cache that has an C(endpoint_url) (MinIO, Ceph, any
    S3-compatible store) runs with a do-nothing C(aws) first on E(PATH), because Spack would otherwise list the
    cache with the C(aws) CLI without that endpoint and fail; Spack then lists it through boto3.
  - Secrets a mirror names by variable (Spack 1.x) come from O(spack_secret_env).
seealso:
  - module: research.wizard.spack_buildcache_index
  - module: research.wizard.spack_buildcache_keys
  - module: research.wizard.spack_mirror
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Push what the environment built to the local cache, unsigned
  research.wizard.spack_buildcache_push:
    env: chemistry
    mirror: local-cache

- name: Push only what this run built from source, even though other packages of the environment failed
  research.wizard.spack_buildcache_push:
    env: chemistry
    mirror: local-cache
    specs: "{{ install.packages | selectattr('status', 'equalto', 'installed')
              | selectattr('origin', 'equalto', 'source') | map(attribute='hash') | map('regex_replace', '^', '/') }}"
    only: package

- name: Push signed
  research.wizard.spack_buildcache_push:
    env: chemistry
    mirror: s3-cache
    signed: true
'''

RETURN = r'''
pushed:
  description: Specs pushed by this run (name, version, short hash).
  returned: success, not in check mode
  type: list
  elements: dict
  sample: [{name: libtiny, version: '1.0', hash: funjglg}]
selected:
  description: Number of specs Spack considered for the push.
  returned: success, not in check mode
  type: int
missing:
  description: In check mode, installed specs the cache lacks (what a push would upload).
  returned: check mode
  type: list
  elements: dict
cmd:
  description: The Spack command run (or that would run in check mode).
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack_buildcache import (
    MIRROR_ARG, PUSH_ARGS, SOURCE_ARGS, push)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def main():
    spec = dict(MIRROR_ARG, **SOURCE_ARGS)
    spec.update(PUSH_ARGS)
    spec['mirror'] = dict(spec['mirror'], required=True)
    SpackModule(spec, mutually_exclusive=[('env', 'env_path')],
                required_one_of=[('env', 'env_path', 'specs')]).run(push)


if __name__ == '__main__':
    main()
