#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: deployment_stamp
short_description: Tell, without running Spack, whether a deployed environment is still what its last deploy left
version_added: 0.1.0
description:
  - With O(state=record) (after a successful deployment) writes a stamp next to the deployment summary,
    holding a digest of the deployment's inputs and a fingerprint of the host — Spack's version, every
    configuration file of the scopes Spack reads, the package repositories they configure, the
    environment's C(spack.yaml) and C(spack.lock), the store's install database and the install prefix
    of every package of the environment.
  - The scopes are those of the installed Spack. Spack 1.1 and later name them in C(etc/spack/include.yaml)
    and C(etc/spack/defaults/include.yaml) (the site scope C(etc/spack/site), the user and system scopes
    with their C(path_override_env_var) and C(when) conditions, as O(spack_env_vars) decide them); Spack
    0.2x has C(etc/spack/defaults), C(etc/spack), the system and the user scope.
  - A package repository that is a git checkout (a spack-packages checkout, whose repository is
    C(<checkout>/repos/spack_repo/builtin)) is fingerprinted by its HEAD and branch, any other by the
    names, sizes and modification times of its files.
  - With O(state=check) compares the host with the stamp and returns RV(current). When it is true,
    C(spack -e ENV install) would have nothing to do and every role task of a re-deploy would report
    no change, so C(playbooks/deploy.yml) ends the host there. Checking reads files only (no Spack
    process); a change anywhere, or a stamp from another version, gives RV(current=false) and the
    reason.
  - The action plugin of the same name computes O(inputs_digest) on the controller from the values of
    the role variables (C(spack_*), C(binary_cache_*), C(domain_pack_*) as declared in the roles'
    defaults, with V(domain), V(size), V(cache), V(target), V(wizard_overrides), V(wizard_cache_url)),
    the resolved domain pack with its files, and the collection's own code. Give O(inputs_digest) to
    use a digest of your own instead.
extends_documentation_fragment:
  - research.wizard.spack
attributes:
  check_mode:
    description: O(state=check) only reads; O(state=record) reports what it would write.
    support: full
  diff_mode:
    description: Nothing to show beyond RV(reason).
    support: none
  idempotent:
    description: Recording the same deployment twice writes the same stamp and reports no change.
    support: full
options:
  state:
    description: Compare the host with the stamp (V(check)) or record it after a successful deploy (V(record)).
    type: str
    choices: [check, record]
    default: check
  path:
    description: Stamp file on the host.
    type: path
    required: true
  env:
    description: Managed Spack environment the stamp is about.
    type: str
    required: true
  env_path:
    description:
      - Directory of the environment. Found with C(spack location --env) when not given (O(state=record)).
    type: path
  inputs_digest:
    description:
      - Digest of everything the deployment was made from; the action plugin computes it when omitted.
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
  summary:
    description: Deployment summary file returned as RV(summary) when the deployment is current.
    type: path
notes:
  - The check cannot see what Spack does not record either, such as a file edited inside an install
    prefix. Run the deploy with C(-e deploy_force=true) to go through every role anyway.
seealso:
  - module: research.wizard.spack_install
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Is the chemistry deployment current?
  research.wizard.deployment_stamp:
    state: check
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
    state: record
    path: /var/lib/research-wizard/deployments/chemistry.stamp.json
    env: chemistry
    domain: chemistry
    spack_root: /opt/spack
'''

RETURN = r'''
current:
  description: The host is as the last successful deployment left it, with the same inputs.
  returned: state=check
  type: bool
reason:
  description: Why the deployment is (not) current; names the first thing that changed.
  returned: always
  type: str
  sample: Spack configuration /opt/spack/etc/spack/config.yaml changed
summary:
  description: The last deployment summary (see the domain_pack role), when current and O(summary) is readable.
  returned: state=check
  type: dict
prefixes:
  description: Number of install prefixes recorded.
  returned: state=record
  type: int
inputs_digest:
  description: The inputs digest compared or recorded.
  returned: always
  type: str
'''

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import compare, make_stamp
from ansible_collections.research.wizard.plugins.module_utils._spack import (
    SPACK_COMMON_ARGS, Spack, SpackError, fail, load_lock as read_json)


def check(module, spack_root):
    p = module.params
    current, reason = compare(read_json(p['path']), p['inputs_digest'], spack_root, p['spack_env_vars'])
    summary = read_json(p['summary']) if current and p['summary'] else None
    return dict(changed=False, current=current, reason=reason, summary=summary)


def record(module, spack):
    p = module.params
    env_path = p['env_path'] or spack.env_path(p['env'])
    if not env_path:
        raise SpackError('No Spack environment %s to record (spack location --env %s finds none)' % (p['env'], p['env']))
    out = spack.stdout(['find', '--format', '{prefix}'], env=p['env'], what='environment %s' % p['env'])
    prefixes = [line.strip() for line in out.splitlines() if line.strip().startswith('/')]
    stamp = make_stamp(p['inputs_digest'], spack.root, p['spack_env_vars'], env_path, prefixes)
    text = json.dumps(stamp, indent=1, sort_keys=True) + '\n'
    try:
        with open(p['path']) as f:
            changed = f.read() != text
    except (IOError, OSError):
        changed = True
    if changed and not module.check_mode:
        directory = os.path.dirname(p['path'])
        if not os.path.isdir(directory):
            os.makedirs(directory)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.stamp.')
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        module.atomic_move(tmp, p['path'])
    return dict(changed=changed, reason='recorded', prefixes=len(stamp['prefixes']))


def main():
    argument_spec = dict(
        state=dict(type='str', default='check', choices=['check', 'record']),
        path=dict(type='path', required=True),
        env=dict(type='str', required=True),
        env_path=dict(type='path'),
        inputs_digest=dict(type='str'),
        domain=dict(type='str'),
        size=dict(type='str'),
        overrides=dict(type='dict'),
        domains_dir=dict(type='path'),
        summary=dict(type='path'),
    )
    argument_spec.update(SPACK_COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if not p['inputs_digest']:
        module.fail_json(msg='inputs_digest is empty: run this module through its action plugin, or give a digest')
    try:
        if p['state'] == 'check':
            # No Spack process: the point is to answer faster than `spack install` could.
            root = p['spack_root'] or (p['spack_env_vars'] or {}).get('SPACK_ROOT') or os.environ.get('SPACK_ROOT', '')
            result = check(module, root)
        else:
            result = record(module, Spack(module))
    except SpackError as e:
        fail(module, e)
    result['inputs_digest'] = p['inputs_digest']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
