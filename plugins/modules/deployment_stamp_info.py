#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: deployment_stamp_info
short_description: Tell, without running Spack, whether a deployed environment is still what its last deploy left
version_added: 0.1.0
description:
  - Compares the host with the stamp M(research.wizard.deployment_stamp) recorded after the last
    successful deployment and returns RV(current). When it is true, C(spack -e ENV install) would have
    nothing to do and every role task of a re-deploy would report no change, so C(playbooks/deploy.yml)
    ends the host there.
  - Reads files only (no Spack process). A change anywhere the stamp covers (inputs, Spack's version,
    configuration scopes, package repositories, the environment, the install database, an install
    prefix), a stamp from another version or no Spack at all gives RV(current=false) and the reason.
  - The action plugin of the same name computes O(inputs_digest) on the controller exactly as the one of
    M(research.wizard.deployment_stamp) does; give O(inputs_digest) to use a digest of your own instead.
  - Replaces O(research.wizard.deployment_stamp#module:state=check).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.info_module
  - research.wizard.spack.actiongroup_spack
  - research.wizard.spack.deployment_stamp
options:
  summary:
    description: Deployment summary file returned as RV(summary) when the deployment is current.
    type: path
notes:
  - The check cannot see what Spack does not record either, such as a file edited inside an install
    prefix. Run the deploy with C(-e deploy_force=true) to go through every role anyway.
seealso:
  - module: research.wizard.deployment_stamp
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Is the chemistry deployment current?
  research.wizard.deployment_stamp_info:
    path: /var/lib/research-wizard/deployments/chemistry.stamp.json
    summary: /var/lib/research-wizard/deployments/chemistry.json
    env: chemistry
    domain: chemistry
    spack_root: /opt/spack
  register: current

- name: Nothing to do
  ansible.builtin.meta: end_host
  when: current.current
'''

RETURN = r'''
current:
  description: The host is as the last successful deployment left it, with the same inputs.
  returned: always
  type: bool
  sample: false
reason:
  description: Why the deployment is (not) current; names the first thing that changed.
  returned: always
  type: str
  sample: Spack configuration /opt/spack/etc/spack/config.yaml changed
summary:
  description: The last deployment summary (see the domain_pack role), when current and O(summary) is readable.
  returned: always
  type: dict
inputs_digest:
  description: The inputs digest compared.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import STAMP_ARGS, check, require_digest
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def _main(sm):
    require_digest(sm)
    return check(sm)


def main():
    SpackModule(dict(STAMP_ARGS), needs_yaml=False).run(_main)


if __name__ == '__main__':
    main()
