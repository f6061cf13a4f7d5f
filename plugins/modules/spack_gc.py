#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_gc
short_description: Uninstall the packages only one Spack environment uses
version_added: 0.1.0
description:
  - C(spack gc) for one environment, before it is removed. Uninstalls each installed spec of the
    environment's C(spack.lock) that nothing else needs, with one C(spack -e ENV uninstall -y /HASH ...).
  - Kept are the specs in the lock of any other managed environment (their build dependencies
    included, so the other environment still counts as installed) and every link or run dependency of
    an installed spec outside the environment (what a user installed with C(spack install)). Externals
    are never touched.
  - Plain C(spack gc) does not do this on Spack 0.23 or 1.x. Without options it only removes implicitly
    installed specs no explicit one needs, and an environment's roots are explicit, so they stay; it
    also removes the build-only dependencies of every other environment. C(spack gc -E) keeps only
    what an environment needs and removes everything users installed outside environments.
  - Remove the environment afterwards with M(research.wizard.spack_env) O(research.wizard.spack_env#module:state=absent).
  - In check mode, RV(removed) lists what would be uninstalled.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  diff_mode:
    support: none
options:
  env:
    description: Managed environment whose packages are uninstalled. Nothing happens when it does not exist.
    type: str
    required: true
notes:
  - A spec of the environment that a user also installed explicitly, outside any environment, has the
    same hash and cannot be told apart in Spack's database; it is uninstalled with the environment.
  - Environments in a directory outside Spack's environments root (C(spack -D DIR)) are not known to
    Spack; what only they use is not protected, as with C(spack gc -E).
seealso:
  - module: research.wizard.spack_env
  - module: research.wizard.spack_env_info
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Uninstall what only chemistry uses
  research.wizard.spack_gc:
    env: chemistry
  register: gone

- name: Then remove the environment
  research.wizard.spack_env:
    name: chemistry
    state: absent
'''

RETURN = r'''
removed:
  description: Specs uninstalled (in check mode, that would be), sorted by name.
  returned: always
  type: list
  elements: dict
  sample: [{name: tinycmake, version: '0.5', hash: cr4gceh}]
kept:
  description: Installed specs of the environment kept because something else needs them.
  returned: always
  type: list
  elements: dict
  sample: [{name: libtiny, version: '1.0', hash: funjglg}]
cmd:
  description: The C(spack uninstall) command run (or that would run in check mode); empty when nothing goes.
  returned: always
  type: list
  elements: str
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

import os

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, read_json
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule

RUNTIME = frozenset(('link', 'run'))


def dependencies(record, runtime_only=True):
    """Hashes of a find --json / spack.lock node's dependencies (link or run ones with RUNTIME_ONLY)."""
    for dep in record.get('dependencies') or ():
        types = (dep.get('parameters') or {}).get('deptypes') or dep.get('type') or ()
        if not runtime_only or RUNTIME & set(types):
            yield dep['hash']


def collectable(installed, own, others):
    """(remove, keep): hashes of OWN (one environment's lock) that are installed, not external, and
    not needed by OTHERS (the hashes of every other environment's lock) nor by any installed spec
    outside OWN (through link or run dependencies)."""
    mine = set(h for h in own if h in installed and not installed[h].get('external'))
    needed, todo = set(), [h for h in installed if h not in own] + [h for h in others if h in installed]
    while todo:
        dag_hash = todo.pop()
        if dag_hash in needed or dag_hash not in installed:
            continue
        needed.add(dag_hash)
        todo.extend(dependencies(installed[dag_hash]))
    return mine - needed, mine & needed


def lock_hashes(env_dir, name):
    """The hashes of an environment's spack.lock; an empty set when it was never concretized."""
    path = os.path.join(env_dir, 'spack.lock')
    if not os.path.exists(path):
        return set()
    lock = read_json(path)
    if lock is None:
        raise SpackError('Cannot read %s (environment %s): what it needs is unknown, so nothing is uninstalled. '
                         'Fix or remove that environment, then run again.' % (path, name))
    return set(lock.get('concrete_specs') or {})


def other_envs(spack, env_dir, name):
    """{name: directory} of the other managed environments."""
    out = {}
    for other in spack.env_names():
        if other == name:
            continue
        sibling = os.path.join(os.path.dirname(env_dir), other)
        path = sibling if os.path.isfile(os.path.join(sibling, 'spack.yaml')) else spack.env_path(other)
        if path:
            out[other] = path
    return out


def describe(installed, hashes):
    return sorted((dict(name=installed[h].get('name'), version=installed[h].get('version'), hash=h[:7])
                   for h in hashes), key=lambda s: (s['name'], s['hash']))


def _main(sm):
    p, spack = sm.params, sm.spack
    result = dict(changed=False, removed=[], kept=[], cmd=[])
    env_dir = spack.env_path(p['env'])
    if not env_dir:
        return result
    own = lock_hashes(env_dir, p['env'])
    if not own:
        return result
    others = set()
    for other, path in other_envs(spack, env_dir, p['env']).items():
        others |= lock_hashes(path, other)
    installed = spack.installed()
    remove, keep = collectable(installed, own, others)
    result.update(removed=describe(installed, remove), kept=describe(installed, keep))
    if not remove:
        return result
    specs = ['/' + h for h in sorted(remove)]
    result.update(changed=True, cmd=spack.argv('uninstall', env=p['env'], assume_yes=True, specs=specs))
    if not sm.check_mode:
        spack.run('uninstall', env=p['env'], assume_yes=True, specs=specs,
                  what='what only environment %s uses' % p['env'])
    return result


def main():
    SpackModule(dict(env=dict(type='str', required=True))).run(_main)


if __name__ == '__main__':
    main()
