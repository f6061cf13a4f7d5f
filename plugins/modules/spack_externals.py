#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_externals
short_description: Detect compilers and external packages into a Spack configuration scope
version_added: 0.1.0
description:
  - Runs C(spack compiler find) (O(compilers=true)) and C(spack external find) for O(packages), writing what
    Spack detects into O(scope). C(changed) says whether Spack added anything.
  - With O(compilers=true), also returns the compilers Spack has afterwards (C(spack compiler list)), so a
    play can fail early on a host without any.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  check_mode:
    support: full
    details:
      - Runs the same finds with a scratch user scope in which Spack writes, the real user scope read-only
        above it, and reports what they would add; nothing of the real configuration changes.
      - With C(SPACK_DISABLE_LOCAL_CONFIG) set there is no user scope to stand in for, and check mode detects nothing.
  diff_mode:
    support: none
options:
  compilers:
    description: Detect compilers (C(spack compiler find)); on Spack 1.x they are external packages too.
    type: bool
    default: false
  packages:
    description: Packages to detect as externals (C(spack external find PACKAGE...)).
    type: list
    elements: str
    default: []
  buildable:
    description:
      - Whether Spack may still build the packages detected as externals. V(false) (C(--not-buildable)) makes
        the detected versions the only ones allowed.
    type: bool
    default: true
  scope:
    description: Configuration scope to write, as C(spack --scope) takes it.
    type: str
    default: site
seealso:
  - module: research.wizard.spack_config
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Compilers and build tools of the host
  research.wizard.spack_externals:
    compilers: true
    packages: [cmake, gmake, perl, python]
  register: detected

- name: Fail on a host without a compiler
  ansible.builtin.assert:
    that: detected.compilers | length > 0
'''

RETURN = r'''
compilers_added:
  description: Compilers Spack added (in check mode, would add).
  returned: success
  type: list
  elements: str
  sample: [gcc@12.2.0]
externals_added:
  description: External packages Spack added (in check mode, would add).
  returned: success
  type: list
  elements: str
  sample: [cmake@3.25.1, perl@5.36.0]
compilers:
  description: Every compiler Spack has afterwards (in check mode, would have).
  returned: O(compilers=true)
  type: list
  elements: str
stdout:
  description: What the finds printed.
  returned: success
  type: str
stderr:
  description: What the finds printed on standard error (Spack's warnings, a package repository it could not read).
  returned: success
  type: str
cmd:
  description: The Spack commands a run makes (in check mode the same ones write into a scratch scope instead).
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack_detect import detect
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def main():
    SpackModule(dict(
        compilers=dict(type='bool', default=False),
        packages=dict(type='list', elements='str', default=[]),
        buildable=dict(type='bool', default=True),
        scope=dict(type='str', default='site'),
    )).run(detect)


if __name__ == '__main__':
    main()
