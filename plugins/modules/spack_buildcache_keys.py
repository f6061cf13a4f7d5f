#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_buildcache_keys
short_description: Manage the signing keys of Spack binary caches
version_added: 0.1.0
description:
  - Creates a signing key once, exports its public part, publishes it into a cache, and trusts keys (from
    files, or every key the configured caches publish).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  diff_mode:
    support: none
options:
  mirror:
    description: Mirror name, URL or local path to publish into. Required with O(publish_key=true).
    type: str
  create_key:
    description: Make sure a signing key with this name and email exists, creating it if not.
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
    description: Write the public part of the signing key(s) to this file.
    type: path
  publish_key:
    description: Publish the public part of the signing key(s) into O(mirror) so consumers can trust it.
    type: bool
    default: false
  trust:
    description: Public key files to trust.
    type: list
    elements: path
    default: []
  trust_from_mirrors:
    description: Fetch and trust every key the configured binary caches publish.
    type: bool
    default: false
notes:
  - Keys live in Spack's GnuPG home (C($SPACK_ROOT/opt/spack/gpg), or C(SPACK_GNUPGHOME) from O(spack_env_vars)).
  - Secrets a mirror names by variable (Spack 1.x) come from O(spack_secret_env).
seealso:
  - module: research.wizard.spack_buildcache_push
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: A signing key for the S3 cache, published in it
  research.wizard.spack_buildcache_keys:
    mirror: s3-cache
    create_key: {name: research-wizard, email: hpc@example.org}
    publish_key: true

- name: On consumers, trust the keys the caches publish
  research.wizard.spack_buildcache_keys:
    trust_from_mirrors: true
'''

RETURN = r'''
signing_keys:
  description: Signing keys after the run, each with C(fingerprint) and C(uids).
  returned: success
  type: list
  elements: dict
trusted_keys:
  description: Fingerprints of the trusted keys after the run.
  returned: success
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

from ansible_collections.research.wizard.plugins.module_utils._spack_buildcache import KEYS_ARGS, MIRROR_ARG, keys
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def main():
    SpackModule(dict(MIRROR_ARG, **KEYS_ARGS), required_if=[('publish_key', True, ('mirror',))]).run(keys)


if __name__ == '__main__':
    main()
