#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_mirror
short_description: Add, change or remove a Spack mirror (binary cache and/or source mirror)
version_added: 0.1.0
description:
  - Manages one entry of Spack's C(mirrors) configuration in a given scope with C(spack mirror add) and
    C(spack mirror remove), comparing against what Spack itself has stored in that scope.
  - A mirror whose settings differ is removed and added again with the wanted settings.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.ATTRIBUTES
attributes:
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
options:
  name:
    description: Mirror name.
    type: str
    required: true
  url:
    description:
      - Mirror URL, for example V(file:///srv/spack-cache), V(s3://bucket/prefix), V(https://cache.example.org)
        or V(oci://registry/repo). Required with O(state=present).
    type: str
  state:
    description: Whether the mirror should be configured.
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - Configuration scope to write, as C(spack --scope) takes it (V(site), V(user), V(system), V(env:NAME)).
      - The default V(site) (C($SPACK_ROOT/etc/spack)) serves every user of this Spack.
    type: str
    default: site
  type:
    description: What the mirror serves. Both by default.
    type: list
    elements: str
    choices: [binary, source]
  signed:
    description:
      - Require signatures when pushing to and installing from this binary cache (V(true)), or not (V(false)).
      - Unset leaves Spack's default (signed). Needs Spack 0.22 or later.
    type: bool
  autopush:
    description: Push every package to this mirror right after it is installed (Spack 0.22 or later).
    type: bool
    default: false
  s3_endpoint_url:
    description: Endpoint of an S3-compatible store (MinIO, Ceph, a local emulator).
    type: str
  s3_profile:
    description: AWS profile to use for an V(s3://) mirror.
    type: str
  s3_access_key_id:
    description: Access key id for an V(s3://) mirror. Without keys, the instance profile or environment credentials apply.
    type: str
  s3_access_key_secret:
    description: Secret access key for an V(s3://) mirror.
    type: str
  s3_access_token:
    description: Session token for an V(s3://) mirror.
    type: str
  oci_username:
    description: User name for an V(oci://) registry.
    type: str
  oci_password:
    description: Password or token for an V(oci://) registry.
    type: str
  verify:
    description:
      - Before configuring the mirror, check that Spack can read it (C(spack buildcache list) with only this
        mirror configured). Spack fails every concretization while an V(s3://) mirror is unreachable, so a
        dead mirror must not be left in the configuration.
      - A V(file://) mirror is checked directly on the host instead (a readable directory), which saves a
        Spack process.
    type: bool
    default: false
  on_unreachable:
    description:
      - With O(verify=true), what to do when the mirror cannot be read. V(fail) fails the task;
        V(skip) warns and makes sure the mirror is B(not) configured (removing it if it was), so the
        deployment goes on without it.
    type: str
    choices: [fail, skip]
    default: fail
notes:
  - Spack stores S3 and OCI credentials in plain text in the scope's C(mirrors.yaml); prefer instance
    profiles (S3) where you can.
seealso:
  - module: research.wizard.spack_buildcache
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: A local-folder binary cache, unsigned
  research.wizard.spack_mirror:
    name: local-cache
    url: file:///srv/spack-cache
    type: [binary]
    signed: false

- name: An S3 binary cache in an S3-compatible store
  research.wizard.spack_mirror:
    name: s3-cache
    url: s3://research-cache/spack
    type: [binary]
    s3_endpoint_url: https://minio.example.org
    s3_access_key_id: "{{ cache_key_id }}"
    s3_access_key_secret: "{{ cache_key_secret }}"

- name: Offline source mirror
  research.wizard.spack_mirror:
    name: sources
    url: file:///srv/spack-sources
    type: [source]

- name: Remove a mirror
  research.wizard.spack_mirror:
    name: old-cache
    state: absent
'''

RETURN = r'''
mirror:
  description: The mirror as Spack stores it after the change, normalised, credentials masked.
  returned: state=present
  type: dict
  sample: {url: file:///srv/spack-cache, binary: true, source: false, signed: false, autopush: false}
reachable:
  description: With O(verify=true), whether Spack could read the mirror.
  returned: state=present and O(verify=true)
  type: bool
changed_keys:
  description: Settings that differed from what was configured (the mirror was re-added).
  returned: state=present
  type: list
  elements: str
cmd:
  description: The Spack commands that were (or, in check mode, would be) run, credentials masked.
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.research.wizard.plugins.module_utils._spack import (
    SPACK_COMMON_ARGS, Spack, SpackError, fail, load_yaml, redact)
from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import (
    add_args, desired, differs, file_url_path, normalize, raw_entry, redacted, single_mirror_scope, unsupported)


def reachable(spack, params):
    """(ok, Spack's error line): can Spack list this mirror's build cache, with only it configured?"""
    path = file_url_path(params['url'])
    if path is not None:
        # A local folder needs no Spack process (~2 s) to tell whether it is there.
        if os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
            return True, ''
        return False, 'no readable directory %s on this host' % path
    with single_mirror_scope(raw_entry(params)) as scope:
        rc, out, err = spack.run(['buildcache', 'list'], scope_dirs=[scope], check=False)
    lines = (err or '').strip().splitlines()
    return rc == 0, lines[-1] if lines else ''


def current_entry(spack, scope, name):
    out = spack.stdout(['config', '--scope', scope, 'get', 'mirrors'], what='scope %s' % scope)
    mirrors = load_yaml(out).get('mirrors') or {}
    return normalize(mirrors.get(name))


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        url=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        scope=dict(type='str', default='site'),
        type=dict(type='list', elements='str', choices=['binary', 'source']),
        signed=dict(type='bool'),
        autopush=dict(type='bool', default=False),
        s3_endpoint_url=dict(type='str'),
        s3_profile=dict(type='str'),
        s3_access_key_id=dict(type='str', no_log=False),
        s3_access_key_secret=dict(type='str', no_log=True),
        s3_access_token=dict(type='str', no_log=True),
        oci_username=dict(type='str'),
        oci_password=dict(type='str', no_log=True),
        verify=dict(type='bool', default=False),
        on_unreachable=dict(type='str', default='fail', choices=['fail', 'skip']),
    )
    argument_spec.update(SPACK_COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('state', 'present', ('url',))],
                           required_together=[('s3_access_key_id', 's3_access_key_secret')])
    p = module.params
    cmds = []
    try:
        spack = Spack(module)
        spack.require_yaml()
        version = spack.version
        current = current_entry(spack, p['scope'], p['name'])
        remove = ['mirror', 'remove', '--scope', p['scope'], p['name']]
        if p['state'] == 'absent':
            if current is not None:
                cmds.append(remove)
            result = dict(changed=current is not None)
            if module._diff:
                result['diff'] = dict(before=redacted(current) or {}, after={})
        else:
            missing = unsupported(p, version)
            if missing:
                raise SpackError('Spack %s does not support %s for mirror %s: upgrade Spack or leave them unset.'
                                 % (spack.version_string, ', '.join(missing), p['name']))
            wanted = desired(p)
            ok = True
            if p['verify']:
                ok, why = reachable(spack, p)
                if not ok and p['on_unreachable'] == 'fail':
                    raise SpackError('Mirror %s (%s) is unreachable: %s. Check the URL, endpoint and credentials, '
                                     'or set on_unreachable=skip to deploy without it.' % (p['name'], p['url'], why))
                if not ok:
                    module.warn('Mirror %s (%s) is unreachable (%s): it is left out of the configuration, because '
                                'Spack fails every concretization while an S3 mirror is down.' % (p['name'], p['url'], why))
            if not ok:
                wanted = None
                changed_keys = ['unreachable'] if current is not None else []
                if current is not None:
                    cmds.append(remove)
            else:
                changed_keys = differs(current, wanted)
            if ok and current is not None and changed_keys:
                cmds.append(remove)
            if ok and changed_keys:
                cmds.append(add_args(p, version))
            result = dict(changed=bool(changed_keys), changed_keys=changed_keys if current is not None else [],
                          mirror=redacted(wanted if changed_keys else current))
            if p['verify']:
                result['reachable'] = ok
            if module._diff:
                result['diff'] = dict(before=redacted(current) or {}, after=redacted(wanted) or {})
        if not module.check_mode:
            for args in cmds:
                spack.run(args, what='mirror %s' % p['name'])
        result['cmd'] = [redact(spack.command(a)) for a in cmds]
        result['spack_version'] = spack.version_string
    except SpackError as e:
        fail(module, e)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
