#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

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
  - No credential is ever in a process argument list (which C(ps) shows every local user). Spack 1.x gets
    the key id, secret, token and OCI user and password through environment variables only (C(mirror add
    --s3-access-key-id-variable ... --s3-access-key-secret-variable ...)); on Spack 0.2x, which has no
    C(*-variable) forms, an entry holding a secret is written into the scope's file directly (parsed,
    merged, and replaced atomically by a C(0600) file owned by the user running the module).
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
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
    description:
      - Access key id for an V(s3://) mirror. Without keys, the instance profile or environment credentials apply.
      - Spack 1.x stores only the name of the variable holding it (O(s3_access_key_id_variable)), like the secret.
    type: str
  s3_access_key_id_variable:
    description:
      - Spack 1.x - name of the environment variable that holds the access key id.
      - Default C(SPACK_MIRROR_<NAME>_S3_ID) (see O(s3_access_key_secret_variable) for how O(name) is spelled).
      - Without O(s3_access_key_id), the variable must be set in O(spack_secret_env).
    type: str
  s3_access_key_secret:
    description:
      - Secret access key for an V(s3://) mirror. It never appears in a process argument or in a result.
      - Spack 1.x stores only the name of an environment variable (O(s3_access_key_secret_variable)); the
        module sets that variable for its own Spack commands, and every other module that reads the mirror
        needs it in O(spack_secret_env).
      - Spack 0.2x stores the secret itself in the scope's C(mirrors.yaml); the module writes that file
        itself, atomically, mode C(0600), owned by the user running the module (and makes an existing one
        holding the secret private again).
    type: str
  s3_access_key_secret_variable:
    description:
      - Spack 1.x - name of the environment variable that holds the secret access key.
      - Default C(SPACK_MIRROR_<NAME>_S3_SECRET), with O(name) upper-cased and every character other than
        a letter or digit replaced by C(_) (V(wizard-cache) gives C(SPACK_MIRROR_WIZARD_CACHE_S3_SECRET)).
      - Without O(s3_access_key_secret), the variable must be set in O(spack_secret_env) (or in the
        environment of whoever runs Spack).
    type: str
  s3_access_token:
    description: Session token for an V(s3://) mirror (handled like O(s3_access_key_secret)).
    type: str
  s3_access_token_variable:
    description: Spack 1.x - variable holding the session token. Default C(SPACK_MIRROR_<NAME>_S3_TOKEN).
    type: str
  oci_username:
    description: User name for an V(oci://) registry (Spack 1.x - by variable, like O(s3_access_key_id)).
    type: str
  oci_username_variable:
    description: Spack 1.x - variable holding the OCI user name. Default C(SPACK_MIRROR_<NAME>_OCI_USERNAME).
    type: str
  oci_password:
    description: Password or token for an V(oci://) registry (handled like O(s3_access_key_secret)).
    type: str
  oci_password_variable:
    description: Spack 1.x - variable holding the OCI password. Default C(SPACK_MIRROR_<NAME>_OCI_PASSWORD).
    type: str
  verify:
    description:
      - Before configuring the mirror, check that it can be read, by a probe for its scheme that waits at most
        about O(probe_timeout) seconds for the server.
      - V(file://) - a readable directory on the host.
      - V(http://), V(https://) - the server answers; a binary-only mirror must serve its build cache index
        (C(v3/manifests/index/index.manifest.json) or C(build_cache/index.json)). Spack's own C(buildcache list)
        cannot tell, it exits 0 and says nothing for an https mirror it cannot reach.
      - V(s3://) - the endpoint answers an unsigned C(HEAD) of the bucket (no credentials leave the host; a
        404 means there is no such bucket), then C(spack buildcache list) with only this mirror configured
        checks what Spack makes of it with its credentials. Spack fails every concretization while an S3
        mirror is down, so a dead mirror must not be left in the configuration.
      - V(oci://) - the registry answers at C(/v2/).
    type: bool
    default: false
  probe_timeout:
    description: Seconds the probe of O(verify=true) waits for the mirror's server (per request).
    type: int
    default: 10
  on_unreachable:
    description:
      - With O(verify=true), what to do when the mirror cannot be read. V(fail) fails the task;
        V(skip) warns and makes sure the mirror is B(not) configured (removing it if it was), so the
        deployment goes on without it.
    type: str
    choices: [fail, skip]
    default: fail
notes:
  - Spack 0.2x stores S3 and OCI credentials in plain text in the scope's C(mirrors.yaml) (kept C(0600) by
    this module, so other users of that scope lose its other mirrors too); Spack 1.x stores only variable
    names. Prefer instance profiles (S3) where you can.
  - Writing the file directly (Spack 0.2x with a secret) drops comments in it, as Spack's own writes do.
  - To run Spack by hand against a mirror configured with credentials on Spack 1.x, export the variables first,
    for example C(export SPACK_MIRROR_WIZARD_CACHE_S3_ID=... SPACK_MIRROR_WIZARD_CACHE_S3_SECRET=...) (the
    names are in RV(secret_env_names)).
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
  register: s3_cache

- name: Later Spack commands get the credentials through the environment (Spack 1.x stores only variable names)
  research.wizard.spack_install:
    env: chemistry
    spack_secret_env: >-
      {{ {s3_cache.secret_env_names.s3_access_key_id: cache_key_id,
          s3_cache.secret_env_names.s3_access_key_secret: cache_key_secret}
         if s3_cache.secret_env_names is defined else {} }}

- name: Spack's public cache, if this host can reach it within 5 s (else warned about and left out)
  research.wizard.spack_mirror:
    name: spack-public
    url: https://binaries.spack.io/releases/v2025.11
    type: [binary]
    verify: true
    on_unreachable: skip
    probe_timeout: 5

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
  description: With O(verify=true), whether the mirror could be read.
  returned: state=present and O(verify=true)
  type: bool
unreachable_reason:
  description: Why the mirror could not be read (no answer within the timeout, no bucket, Spack's error line...).
  returned: O(verify=true) and the mirror is unreachable
  type: str
  sample: 'cannot reach https://127.0.0.1:9/v3/manifests/index/index.manifest.json: [Errno 111] Connection refused'
changed_keys:
  description: Settings that differed from what was configured (the mirror was re-added).
  returned: state=present
  type: list
  elements: str
secret_variables:
  description:
    - Spack 1.x - names of the environment variables the stored entry reads its secrets from. Every Spack
      command that uses the mirror needs them set (O(spack_secret_env) for the other modules).
  returned: state=present on Spack 1.x
  type: list
  elements: str
  sample: [SPACK_MIRROR_S3_CACHE_S3_ID, SPACK_MIRROR_S3_CACHE_S3_SECRET]
secret_env_names:
  description:
    - Spack 1.x - the same variables by the option whose value each holds (O(s3_access_key_id),
      O(s3_access_key_secret), O(s3_access_token), O(oci_username), O(oci_password)), to build
      O(spack_secret_env) for the other modules.
  returned: state=present on Spack 1.x
  type: dict
  sample: {s3_access_key_id: SPACK_MIRROR_S3_CACHE_S3_ID, s3_access_key_secret: SPACK_MIRROR_S3_CACHE_S3_SECRET}
cmd:
  description:
    - The Spack commands that were (or, in check mode, would be) run, credentials masked. The direct write
      of the scope's file (Spack 0.2x with a secret) is listed as C([write, '0600', PATH]).
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, redact
from ansible_collections.research.wizard.plugins.module_utils._spack_mirror import (
    add_values, configured, desired, differs, holds_secret, normalize, private, raw_entry, reachable, redacted,
    secret_env, unsupported, uses_variables, variable_names, write_entry)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def scope_file(spack, scope):
    """The file of `scope` that holds its mirrors (Spack 0.2x keeps secrets there, so it must stay private)."""
    out = spack.stdout('config_print_file', scope=scope, section='mirrors', what='scope %s' % scope)
    return out.strip().splitlines()[-1]


def present(sm, p, current, steps):
    """Plan state=present into STEPS (applied later, outside check mode); return the result."""
    spack = sm.spack
    version = spack.version
    missing = unsupported(p, version)
    if missing:
        raise SpackError('Spack %s does not support %s for mirror %s: upgrade Spack or leave them unset.'
                         % (spack.version_string, ', '.join(missing), p['name']))
    # The probe and every command below read the credentials from the environment (Spack 1.x).
    spack.secret_env.update(secret_env(p, version))
    wanted = desired(p, version)
    ok = True
    if p['verify']:
        ok, why = reachable(spack, p['url'], raw_entry(p, version), p['probe_timeout'])
        if not ok and p['on_unreachable'] == 'fail':
            raise SpackError('Mirror %s (%s) is unreachable: %s. Check the URL, endpoint and credentials, '
                             'or set on_unreachable=skip to deploy without it.' % (p['name'], p['url'], why))
        if not ok:
            sm.module.warn('Mirror %s (%s) is unreachable (%s): it is left out of the configuration%s.'
                           % (p['name'], p['url'], why, ' (it was configured: removed)' if current else ''))
    remove = dict(command='mirror_remove', values=dict(scope=p['scope'], name=p['name']))
    if not ok:
        wanted = None
        changed_keys = ['unreachable'] if current is not None else []
        if current is not None:
            steps.append(remove)
    else:
        changed_keys = differs(current, wanted)
    secret = ok and holds_secret(p, version)
    if secret:
        # Spack 0.2x has no *-variable options: `mirror add` would put the secret in argv, and
        # `config add` would create the file 0644. One atomic write of a private file does both.
        path = scope_file(spack, p['scope'])
        if changed_keys or not private(path):
            if not changed_keys:
                changed_keys.append('file_mode')
            steps.append(dict(write=path, entry=raw_entry(p, version)))
    elif ok and changed_keys:
        if current is not None:
            steps.append(remove)
        steps.append(dict(command='mirror_add', values=add_values(p, version)))
    result = dict(changed=bool(changed_keys), changed_keys=changed_keys if current is not None else [],
                  mirror=redacted(wanted if changed_keys else current))
    if uses_variables(version):
        names = variable_names(p)
        result['secret_variables'] = sorted(names.values())
        result['secret_env_names'] = names
    if p['verify']:
        result['reachable'] = ok
        if not ok:
            result['unreachable_reason'] = why
    if sm.module._diff:
        result['diff'] = dict(before=redacted(current) or {}, after=redacted(wanted) or {})
    return result


def apply(sm, p, steps):
    """Run the planned steps (none in check mode); the commands as shown in `cmd`."""
    spack, shown = sm.spack, []
    for step in steps:
        if 'write' in step:
            shown.append(['write', '0600', step['write']])
            if not sm.check_mode:
                write_entry(step['write'], p['name'], step['entry'])
            continue
        if not sm.check_mode:
            spack.run(step['command'], what='mirror %s' % p['name'], **step['values'])
        shown.append(redact(spack.argv(step['command'], **step['values'])))
    return shown


def _main(sm):
    p = sm.params
    for ident, secret, need_secret in (('s3_access_key_id', 's3_access_key_secret', True),
                                       ('oci_username', 'oci_password', False)):
        has_id = p[ident] or p[ident + '_variable']
        has_secret = p[secret] or p[secret + '_variable']
        if has_id and need_secret and not has_secret:
            sm.fail('%s needs %s (or, on Spack 1.x, %s_variable naming a variable set in spack_secret_env).'
                    % (ident, secret, secret))
        if has_secret and not has_id:
            sm.fail('%s needs %s (or, on Spack 1.x, %s_variable naming a variable set in spack_secret_env).'
                    % (secret, ident, ident))
    steps = []
    current = normalize(configured(sm.spack, p['scope']).get(p['name']))
    if p['state'] == 'absent':
        if current is not None:
            steps.append(dict(command='mirror_remove', values=dict(scope=p['scope'], name=p['name'])))
        result = dict(changed=current is not None)
        if sm.module._diff:
            result['diff'] = dict(before=redacted(current) or {}, after={})
    else:
        result = present(sm, p, current, steps)
    result['cmd'] = apply(sm, p, steps)
    return result


def main():
    SpackModule(
        dict(
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
            s3_access_key_id_variable=dict(type='str', no_log=False),
            s3_access_key_secret=dict(type='str', no_log=True),
            s3_access_key_secret_variable=dict(type='str', no_log=False),
            s3_access_token=dict(type='str', no_log=True),
            s3_access_token_variable=dict(type='str', no_log=False),
            oci_username=dict(type='str'),
            oci_username_variable=dict(type='str', no_log=False),
            oci_password=dict(type='str', no_log=True),
            oci_password_variable=dict(type='str', no_log=False),
            verify=dict(type='bool', default=False),
            on_unreachable=dict(type='str', default='fail', choices=['fail', 'skip']),
            probe_timeout=dict(type='int', default=10),
        ),
        required_if=[('state', 'present', ('url',))],
    ).run(_main)


if __name__ == '__main__':
    main()
