#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_buildcache_index
short_description: Rebuild the index of a Spack binary cache
version_added: 0.1.0
description:
  - Rebuilds the cache's index with C(spack buildcache update-index), so consumers see every spec the
    cache holds.
  - C(changed) compares the specs the index lists before and after (read afresh, with only this cache
    configured); a rebuild that lists the same specs changes nothing.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  check_mode:
    support: partial
    details:
      - For a local cache (V(file://) or a path), compares the index with the spec files the cache holds.
      - A remote cache (V(s3://), V(https://), V(oci://)) cannot be compared without rebuilding its index;
        check mode reports a change.
  diff_mode:
    support: none
options:
  mirror:
    description: Mirror name, URL or local path.
    type: str
    required: true
  env:
    description: Managed environment whose configuration names the mirror (when it is configured only there).
    type: str
  env_path:
    description: Environment directory whose configuration names the mirror.
    type: path
notes:
  - On Spack 1.x, rebuilding the index of an V(s3://) cache that has an C(endpoint_url) (MinIO, Ceph, any
    S3-compatible store) runs with a do-nothing C(aws) first on E(PATH), because Spack would otherwise list the
    cache with the C(aws) CLI without that endpoint and fail; Spack then lists it through boto3.
  - Secrets a mirror names by variable (Spack 1.x) come from O(spack_secret_env).
seealso:
  - module: research.wizard.spack_buildcache_push
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Rebuild the index of the local cache after copying packages into it
  research.wizard.spack_buildcache_index:
    mirror: local-cache
'''

RETURN = r'''
before:
  description: Short hashes of the specs the index listed before the run (null when Spack could not read it).
  returned: success
  type: list
  elements: str
after:
  description:
    - Short hashes of the specs the index lists after the run.
    - In check mode, those the local cache holds (null for a remote cache).
  returned: success
  type: list
  elements: str
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
    MIRROR_ARG, SOURCE_ARGS, update_index)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def main():
    spec = dict(MIRROR_ARG, **SOURCE_ARGS)
    spec['mirror'] = dict(spec['mirror'], required=True)
    SpackModule(spec, mutually_exclusive=[('env', 'env_path')]).run(update_index)


if __name__ == '__main__':
    main()
