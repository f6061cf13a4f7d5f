#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_mirror_info
short_description: The mirrors Spack has configured, and whether it can read them
version_added: 0.1.0
description:
  - Returns the configured mirrors (C(spack config get mirrors)), merged over every scope or of one O(scope),
    with their URLs, types, signing and connection settings, credentials masked.
  - With O(probe=true), also whether Spack can read each one (the probe of M(research.wizard.spack_mirror)
    with O(research.wizard.spack_mirror#module:verify=true)).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.info_module
  - research.wizard.spack.actiongroup_spack
options:
  scope:
    description: Only the mirrors of this scope (V(site), V(user), V(env:NAME) ...). All scopes merged by default.
    type: str
  name:
    description: Only this mirror.
    type: str
  probe:
    description:
      - Check that Spack can read each mirror (C(spack buildcache list) with only that mirror configured; a
        V(file://) mirror is checked on the host directly).
      - Secrets a mirror names by variable (Spack 1.x) come from O(spack_secret_env).
    type: bool
    default: false
seealso:
  - module: research.wizard.spack_mirror
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Mirrors, and whether Spack can read them
  research.wizard.spack_mirror_info:
    probe: true
  register: mirrors

- name: Unreadable ones
  ansible.builtin.debug:
    msg: "{{ mirrors.mirrors | dict2items | rejectattr('value.reachable') | map(attribute='key') }}"
'''

RETURN = r'''
mirrors:
  description: Each mirror by name, normalised, credentials masked.
  returned: success
  type: dict
  sample:
    wizard-cache:
      url: file:///var/cache/research-wizard/spack-cache
      fetch_url: file:///var/cache/research-wizard/spack-cache
      push_url: file:///var/cache/research-wizard/spack-cache
      type: [binary]
      binary: true
      source: false
      signed: false
      autopush: false
      reachable: true
  contains:
    reachable:
      description: Whether Spack could read the mirror.
      returned: O(probe=true)
      type: bool
    unreachable_reason:
      description: Why not (Spack's error line, or the missing local directory).
      returned: O(probe=true) and the mirror is unreachable
      type: str
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import configured, describe, reachable
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def _main(sm):
    p = sm.params
    mirrors = {}
    for name, entry in sorted(configured(sm.spack, p['scope']).items()):
        if p['name'] and name != p['name']:
            continue
        info = describe(entry)
        if p['probe']:
            info['reachable'], why = reachable(sm.spack, info['fetch_url'], entry)
            if not info['reachable']:
                info['unreachable_reason'] = why
        mirrors[name] = info
    return dict(changed=False, mirrors=mirrors)


def main():
    SpackModule(dict(
        scope=dict(type='str'),
        name=dict(type='str'),
        probe=dict(type='bool', default=False),
    )).run(_main)


if __name__ == '__main__':
    main()
