# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The options every spack_* module shares (module_utils/_spack.py SPACK_COMMON_ARGS).
    DOCUMENTATION = r'''
options:
  spack_root:
    description:
      - Root of the Spack installation to drive (the directory holding C(bin/spack)).
      - When not set, C(SPACK_ROOT) from O(spack_env_vars) or the module's environment is used, then C(spack) on E(PATH).
    type: path
  spack_env_vars:
    description:
      - Extra environment variables for every Spack command, for example C(SPACK_PYTHON),
        C(SPACK_DISABLE_LOCAL_CONFIG), C(SPACK_USER_CONFIG_PATH) or C(SPACK_USER_CACHE_PATH).
      - C(LC_ALL=C) is always set and colour is always off, so output is parsed reliably.
    type: dict
    default: {}
  spack_config:
    description:
      - Configuration overrides passed to every Spack command as C(spack -c VALUE),
        for example C(config:install_tree:root:/scratch/spack) to use another install root.
    type: list
    elements: str
    default: []
  spack_secret_env:
    description:
      - Environment variables holding secrets, for every Spack command, kept out of logs and results.
      - Spack 1.x stores only the B(name) of the variable that holds an S3 secret key, session token or
        OCI password (C(secret_variable) in C(mirrors.yaml)), so every later Spack command that reads the
        mirror (concretize, install, push, keys) needs the variable set. The role
        M(research.wizard.spack_mirror) documents the default names; the role C(research.wizard.binary_cache)
        sets the fact C(binary_cache_spack_secret_env) for the other modules.
      - To run Spack by hand on such a host, export the same variable first.
    type: dict
    default: {}
requirements:
  - Spack 0.21 to 0.23, or 1.x, on the target host.
  - PyYAML on the target host's Python (to read and write Spack YAML files).
'''

    # The attributes of a module that changes something (community.docker's attributes fragment): a
    # module overrides single keys, e.g. `diff_mode: {support: none}`; its own values win.
    ATTRIBUTES = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
'''

    # The attributes of a module that only reads (*_info, status); use instead of ATTRIBUTES.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This action does not modify state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This action does not modify state.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details: This action does not modify state.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
'''

    # Members of the action group `spack` (meta/runtime.yml action_groups), for module_defaults.
    ACTIONGROUP_SPACK = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/research.wizard.spack) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - research.wizard.spack
'''

    # The options deployment_stamp and deployment_stamp_info share (_deployment_stamp.STAMP_ARGS).
    DEPLOYMENT_STAMP = r'''
options:
  path:
    description: Stamp file on the host.
    type: path
    required: true
  env:
    description: Managed Spack environment the stamp is about.
    type: str
    required: true
  inputs_digest:
    description:
      - Digest of everything the deployment is made from; the action plugin computes it when omitted.
    type: str
  domain:
    description: Domain pack name, resolved by the action plugin into O(inputs_digest).
    type: str
  size:
    description: Pack size, resolved by the action plugin into O(inputs_digest).
    type: str
  overrides:
    description: Pack overrides, resolved by the action plugin into O(inputs_digest).
    type: dict
  domains_dir:
    description: Directory of the domain packs (default the collection's C(domains/)).
    type: path
'''
