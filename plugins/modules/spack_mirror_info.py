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
  - With O(probe=true), also whether each one can be read (the probe of M(research.wizard.spack_mirror)
    with O(research.wizard.spack_mirror#module:verify=true), one per scheme, with a bounded timeout).
  - For Spack 1.x entries, the names of the environment variables their credentials are read from
    (RV(mirrors.secret_env_names)), so a play can build O(spack_secret_env) for the modules that use them.
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
      - Check that each mirror can be read. V(file://) - a readable directory on the host; V(http(s)://) - the
        server answers (and a binary-only mirror serves its index); V(s3://) - the endpoint answers for the
        bucket, then C(spack buildcache list) with only that mirror configured; V(oci://) - the registry answers.
      - Credentials a mirror names by variable (Spack 1.x) come from O(spack_secret_env); without them an
        S3 mirror with explicit keys is reported unreachable (Spack's error names the missing variable).
    type: bool
    default: false
  probe_timeout:
    description: Seconds a probe waits for a mirror's server (per request).
    type: int
    default: 10
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
      description: Whether the mirror could be read.
      returned: O(probe=true)
      type: bool
    unreachable_reason:
      description: Why not (no answer within the timeout, no bucket, no index, Spack's error line, the missing local directory).
      returned: O(probe=true) and the mirror is unreachable
      type: str
    secret_env_names:
      description:
        - Spack 1.x - the variables the entry reads its credentials from, by the
          M(research.wizard.spack_mirror) option whose value each holds (C(s3_access_key_id),
          C(s3_access_key_secret), C(s3_access_token), C(oci_username), C(oci_password)). Empty without.
      returned: success
      type: dict
      sample: {s3_access_key_id: SPACK_MIRROR_WIZARD_CACHE_S3_ID, s3_access_key_secret: SPACK_MIRROR_WIZARD_CACHE_S3_SECRET}
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import (
    configured, describe, reachable, stored_variables)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def _main(sm):
    p = sm.params
    mirrors = {}
    for name, entry in sorted(configured(sm.spack, p['scope']).items()):
        if p['name'] and name != p['name']:
            continue
        info = describe(entry)
        info['secret_env_names'] = stored_variables(entry)
        if p['probe']:
            info['reachable'], why = reachable(sm.spack, info['fetch_url'], entry, p['probe_timeout'])
            if not info['reachable']:
                info['unreachable_reason'] = why
        mirrors[name] = info
    return dict(changed=False, mirrors=mirrors)


def main():
    SpackModule(dict(
        scope=dict(type='str'),
        name=dict(type='str'),
        probe=dict(type='bool', default=False),
        probe_timeout=dict(type='int', default=10),
    )).run(_main)


if __name__ == '__main__':
    main()
