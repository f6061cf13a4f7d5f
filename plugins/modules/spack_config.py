#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_config
short_description: Set or remove keys of one section of a Spack configuration scope
version_added: 0.1.0
description:
  - Reads the section as the scope holds it (C(spack config --scope SCOPE get SECTION)), compares it key by key
    with O(settings), and writes only the keys that differ, with C(spack config add -f) and
    C(spack config remove). Other keys of the section, and other sections of the scope, are left as they are.
  - Values are written from a private temporary file, never as command arguments.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
options:
  section:
    description: Configuration section, for example V(config), V(bootstrap), V(repos), V(packages), V(concretizer).
    type: str
    required: true
  scope:
    description:
      - Configuration scope to write, as C(spack --scope) takes it (V(site), V(user), V(system), V(env:NAME)).
      - The default V(site) (C($SPACK_ROOT/etc/spack), or C($SPACK_ROOT/etc/spack/site) on Spack 1.1 and later)
        serves every user of this Spack, and a user scope can still override it.
    type: str
    default: site
  settings:
    description:
      - With O(state=present), the keys to set, merged into the section; a nested mapping sets only the keys it
        names (C(install_tree) with only C(root) leaves the other C(install_tree) keys alone). A list or any other
        value replaces what the key held.
      - With O(state=absent), the keys to remove, named the same way (their values are not compared).
      - A section that is a list (C(repos) on Spack 0.2x) takes a list of entries, or a mapping whose values are
        the entries (the form Spack 1.x uses for C(repos), C(builtin) mapped to a path).
    type: raw
    required: true
  state:
    description: Whether the keys should be set or absent.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: research.wizard.spack_mirror
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Build settings in the site scope
  research.wizard.spack_config:
    section: config
    settings:
      build_jobs: 4
      install_tree: {root: /opt/software, padded_length: 128}

- name: Spack 1.x builtin packages from a local checkout (a list entry on 0.2x)
  research.wizard.spack_config:
    section: repos
    settings: {builtin: /srv/spack-packages/repos/spack_repo/builtin}

- name: Let Spack choose the number of build jobs again
  research.wizard.spack_config:
    section: config
    settings: {build_jobs: null}
    state: absent
'''

RETURN = r'''
changed_keys:
  description: The keys (C(:)-separated paths below the section) that were (or would be) set or removed.
  returned: success
  type: list
  elements: str
  sample: ['build_jobs', 'install_tree:root']
config:
  description: The section as the scope holds it after the run (in check mode, as it would).
  returned: success
  type: raw
cmd:
  description: The Spack commands run (or that would run in check mode); the file with the values shows as C(<file>).
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

from ansible_collections.research.wizard.plugins.module_utils._spack import dump_yaml, load_yaml, redact
from ansible_collections.research.wizard.plugins.module_utils._spack_config import (
    leaves, plan_absent, plan_list, plan_present)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule
from ansible_collections.research.wizard.plugins.module_utils._spack_scratch import private_file


def _list_values(settings):
    return list(settings.values()) if isinstance(settings, dict) else list(settings)


def plan(current, settings, present):
    """(paths or list entries to remove, what to add or None, changed keys, the section afterwards)."""
    if isinstance(current, list):
        add, remove, after = plan_list(current, _list_values(settings), present)
        return [[v] for v in remove], add or None, [str(v) for v in add + remove], after
    if not isinstance(settings, dict):
        raise ValueError('settings must be a mapping for a section that is a mapping')
    if present:
        add, replace, after = plan_present(current, settings)
        keys = sorted(':'.join(path) for path, dummy in leaves(add))
        return replace, add or None, keys, after
    remove, after = plan_absent(current, settings)
    return remove, None, [':'.join(p) for p in remove], after


def _main(sm):
    p, spack = sm.params, sm.spack
    section, scope = p['section'], p['scope']
    what = 'section %s of scope %s' % (section, scope)
    current = load_yaml(spack.stdout('config_get', scope=scope, section=section, what=what)).get(section)
    if current is None:
        current = [] if isinstance(p['settings'], list) else {}
    try:
        remove, add, keys, after = plan(current, p['settings'], p['state'] == 'present')
    except ValueError as e:
        sm.fail('%s: %s of scope %s is a %s.' % (e, section, scope, type(current).__name__))
    cmds = []
    for path in remove:
        values = dict(scope=scope, path=':'.join([section] + [str(k) for k in path]))
        cmds.append(redact(spack.argv('config_remove', **values)))
        if not sm.check_mode:
            spack.run('config_remove', what=what, **values)
    if add is not None:
        cmds.append(redact(spack.argv('config_add', scope=scope, file='<file>')))
        if not sm.check_mode:
            with private_file(dump_yaml({section: add}), '%s.yaml' % section) as path:
                spack.run('config_add', what=what, scope=scope, file=path)
    result = dict(changed=bool(cmds), changed_keys=keys, config=after, cmd=cmds)
    if sm.module._diff:
        result['diff'] = dict(before=dump_yaml({section: current}), after=dump_yaml({section: after}),
                              before_header='%s (scope %s)' % (section, scope),
                              after_header='%s (scope %s)' % (section, scope))
    return result


def main():
    SpackModule(dict(
        section=dict(type='str', required=True),
        scope=dict(type='str', default='site'),
        settings=dict(type='raw', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )).run(_main)


if __name__ == '__main__':
    main()
