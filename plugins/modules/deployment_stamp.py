#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: deployment_stamp
short_description: Record what a successful deployment left, for M(research.wizard.deployment_stamp_info)
version_added: 0.1.0
description:
  - After a successful deployment, writes a stamp next to the deployment summary holding a digest of
    the deployment's inputs and a fingerprint of the host - Spack's version, every configuration file of
    the scopes Spack reads, the package repositories they configure, the environment's C(spack.yaml) and
    C(spack.lock), the store's install database and the install prefix of every package of the environment.
  - The scopes are those of the installed Spack. Spack 1.1 and later name them in C(etc/spack/include.yaml)
    and C(etc/spack/defaults/include.yaml) (the site scope C(etc/spack/site), the user and system scopes
    with their C(path_override_env_var) and C(when) conditions, as O(spack_env_vars) decide them); Spack
    0.2x has C(etc/spack/defaults), C(etc/spack), the system and the user scope.
  - A package repository that is a git checkout (a spack-packages checkout, whose repository is
    C(<checkout>/repos/spack_repo/builtin)) is fingerprinted by its HEAD and branch, any other by the
    names, sizes and modification times of its files.
  - M(research.wizard.deployment_stamp_info) compares the host with the stamp; C(playbooks/deploy.yml)
    ends a host there when nothing changed.
  - The action plugin of the same name computes O(inputs_digest) on the controller from the values of
    the role variables (C(spack_*), C(binary_cache_*), C(domain_pack_*) as declared in the roles'
    defaults, with V(domain), V(size), V(cache), V(target), V(wizard_overrides), V(wizard_cache_url)),
    the resolved domain pack with its files, and the collection's own code. Give O(inputs_digest) to
    use a digest of your own instead.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
  - research.wizard.spack.deployment_stamp
attributes:
  check_mode:
    details: Reports whether the stamp would change, writes nothing.
  diff_mode:
    support: none
    details: Nothing to show beyond RV(reason).
  idempotent:
    details: Recording the same deployment twice writes the same stamp and reports no change.
options:
  state:
    description:
      - V(present) records the stamp.
      - V(record) is the deprecated name of V(present), V(check) the deprecated way to run
        M(research.wizard.deployment_stamp_info); both are removed in version 2.0.0 of research.wizard.
      - When not set, the deprecated V(check) is done (the default becomes V(present) in version 2.0.0).
    type: str
    choices: [present, check, record]
  env_path:
    description:
      - Directory of the environment. Found with C(spack location --env) when not given.
    type: path
  summary:
    description:
      - Deployment summary file; only used by the deprecated O(state=check) (see
        M(research.wizard.deployment_stamp_info)).
    type: path
seealso:
  - module: research.wizard.deployment_stamp_info
  - module: research.wizard.spack_install
author:
  - research.wizard developers (@research-wizard)
"""

EXAMPLES = r"""
- name: Is the chemistry deployment current?
  research.wizard.deployment_stamp_info:
    path: /var/lib/research-wizard/deployments/chemistry.stamp.json
    env: chemistry
    domain: chemistry
    spack_root: /opt/spack
  register: current

- name: Nothing to do
  ansible.builtin.meta: end_host
  when: current.current

# ... the roles run ...

- name: Remember this deployment
  research.wizard.deployment_stamp:
    state: present
    path: /var/lib/research-wizard/deployments/chemistry.stamp.json
    env: chemistry
    domain: chemistry
    spack_root: /opt/spack
"""

RETURN = r"""
reason:
  description: C(recorded), or (deprecated O(state=check)) why the deployment is (not) current.
  returned: always
  type: str
  sample: recorded
prefixes:
  description: Number of install prefixes recorded.
  returned: O(state=present)
  type: int
inputs_digest:
  description: The inputs digest recorded (or compared).
  returned: always
  type: str
current:
  description: The host is as the last successful deployment left it (deprecated O(state=check)).
  returned: O(state=check)
  type: bool
summary:
  description: The last deployment summary, when current (deprecated O(state=check)).
  returned: O(state=check)
  type: dict
spack_version:
  description: Version of the Spack that was asked for the install prefixes.
  returned: O(state=present)
  type: str
"""

import json
import os
import tempfile

from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import (
    STAMP_ARGS, check, make_stamp, require_digest)
from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule

DEPRECATED_STATES = {
    'check': 'deployment_stamp state=check is deprecated: use research.wizard.deployment_stamp_info',
    'record': 'deployment_stamp state=record is deprecated: use state=present',
    None: 'deployment_stamp without state checks the stamp, which is deprecated: use '
          'research.wizard.deployment_stamp_info to check, state=present to record (the default from 2.0.0)',
}


def record(sm):
    p, spack = sm.params, sm.spack
    env_path = p['env_path'] or spack.env_path(p['env'])
    if not env_path:
        raise SpackError('No Spack environment %s to record (spack location --env %s finds none)' % (p['env'], p['env']))
    out = spack.stdout('find', format='{prefix}', env=p['env'], what='environment %s' % p['env'])
    prefixes = [line.strip() for line in out.splitlines() if line.strip().startswith('/')]
    stamp = make_stamp(p['inputs_digest'], spack.root, p['spack_env_vars'], env_path, prefixes)
    text = json.dumps(stamp, indent=1, sort_keys=True) + '\n'
    try:
        with open(p['path']) as f:
            changed = f.read() != text
    except (IOError, OSError):
        changed = True
    if changed and not sm.check_mode:
        directory = os.path.dirname(p['path'])
        if not os.path.isdir(directory):
            os.makedirs(directory)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.stamp.')
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        sm.module.atomic_move(tmp, p['path'])
    return dict(changed=changed, reason='recorded', prefixes=len(stamp['prefixes']), inputs_digest=p['inputs_digest'])


def _main(sm):
    require_digest(sm)
    state = sm.params['state']
    if state in DEPRECATED_STATES:
        sm.module.deprecate(DEPRECATED_STATES[state], version='2.0.0', collection_name='research.wizard')
    return record(sm) if state in ('present', 'record') else check(sm)


def main():
    SpackModule(dict(STAMP_ARGS, state=dict(type='str', choices=['present', 'check', 'record']),
                     env_path=dict(type='path')), needs_yaml=False).run(_main)


if __name__ == '__main__':
    main()
