#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_env
short_description: Manage a Spack environment (its spack.yaml and, optionally, its concretization)
version_added: 0.1.0
description:
  - Creates, updates or removes a Spack environment, either a managed one (O(name)) or an environment
    directory (O(path)).
  - Root specs and configuration (concretizer unify, view, target, repositories, mirrors, includes,
    any other C(spack:) key) are merged into the environment's C(spack.yaml).
  - Every change is prepared and validated in a scratch copy of the environment first. New specs go
    through C(spack add) (which rejects malformed specs and unknown packages) and, with
    O(concretize=true), the scratch copy is concretized. Only when that succeeds are C(spack.yaml)
    and C(spack.lock) written, so a bad spec leaves the environment exactly as it was (or not created).
  - Reports C(changed) only when C(spack.yaml) or C(spack.lock) changed.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
options:
  name:
    description: Name of a managed environment (C(spack env create NAME)). Mutually exclusive with O(path).
    type: str
  path:
    description: Directory of an independent environment (holding C(spack.yaml)). Mutually exclusive with O(name).
    type: path
  state:
    description: Whether the environment should exist.
    type: str
    choices: [present, absent]
    default: present
  specs:
    description:
      - Root specs of the environment.
      - Roots already in the environment and not listed are kept, unless O(exclusive=true).
    type: list
    elements: str
  exclusive:
    description: Remove root specs that are not listed in O(specs).
    type: bool
    default: false
  unify:
    description: C(concretizer:unify) of the environment.
    type: str
    choices: ['true', 'false', 'when_possible']
  view:
    description:
      - C(view) of the environment. V(true) or V(false), or a path for the view directory.
    type: raw
  target:
    description:
      - Micro-architecture target every package must be built for, written as
        C(packages:all:require:target=TARGET). Use a generic one (V(x86_64_v3), V(aarch64), V(neoverse_v1))
        so a binary cache serves many machines.
    type: str
  repos:
    description: Package repository directories to add to the environment's C(repos).
    type: list
    elements: path
  mirrors:
    description: Mirrors to merge into the environment's C(mirrors) (name to URL or mirror mapping).
    type: dict
  include:
    description: Configuration files or directories to add to the environment's C(include).
    type: list
    elements: str
  config:
    description: Any other configuration merged (deeply) into the C(spack:) section.
    type: dict
  concretize:
    description: Concretize the environment and return counts.
    type: bool
    default: false
  force:
    description:
      - With O(concretize=true), re-concretize from scratch (C(spack concretize --force)).
      - Done anyway when anything but the root specs changed in C(spack.yaml) (packages, target,
        concretizer, repositories, ...), because without it Spack keeps the old concretization of existing roots.
    type: bool
    default: false
seealso:
  - module: research.wizard.spack_env_info
  - module: research.wizard.spack_install
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Chemistry environment, concretized for a generic x86_64 target
  research.wizard.spack_env:
    name: chemistry
    specs:
      - gromacs+mpi
      - cp2k
    unify: 'true'
    target: x86_64_v3
    view: false
    concretize: true
  register: env

- name: An environment in a directory, from a package repository of our own, exactly these roots
  research.wizard.spack_env:
    path: /srv/envs/selftest
    specs: [tinyapp, tinycmake+fancy]
    exclusive: true
    repos: [/srv/repos/wizardtest]
    spack_root: /opt/spack
    spack_env_vars:
      SPACK_DISABLE_LOCAL_CONFIG: '1'

- name: Remove it
  research.wizard.spack_env:
    name: chemistry
    state: absent
'''

RETURN = r'''
env_path:
  description: Directory of the environment.
  returned: state=present, or state=absent when it existed
  type: str
  sample: /opt/spack/var/spack/environments/chemistry
specs:
  description: Root specs in the environment's spack.yaml after the change.
  returned: state=present
  type: list
  elements: str
  sample: [gromacs+mpi, cp2k]
added:
  description: Root specs this run added.
  returned: state=present
  type: list
  elements: str
removed:
  description: Root specs this run removed (O(exclusive=true)).
  returned: state=present
  type: list
  elements: str
manifest:
  description: The environment's spack.yaml content after the change.
  returned: state=present
  type: dict
concretized:
  description: Counts from spack.lock, or null when the environment is not concretized.
  returned: state=present
  type: dict
  contains:
    root_count:
      description: Number of root specs.
      type: int
    spec_count:
      description: Number of concrete specs (roots and dependencies).
      type: int
    external_count:
      description: Number of concrete specs that are externals.
      type: int
    roots:
      description: Root specs as concretized.
      type: list
      elements: str
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
  sample: 0.23.0.dev0
'''

import os
import shutil
import tempfile

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, dump_yaml, read_json, read_yaml
from ansible_collections.research.wizard.plugins.module_utils._spack_env import (
    desired_manifest, lock_covers, lock_summary, same_lock, settings_changed)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def _read(path):
    manifest = os.path.join(path, 'spack.yaml') if path else None
    if not manifest or not os.path.isfile(manifest):
        return None, None
    return read_yaml(manifest), read_json(os.path.join(path, 'spack.lock'))


def _write(module, directory, name, text):
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % name)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    module.atomic_move(tmp, os.path.join(directory, name))


def _unify(value):
    return {'true': True, 'false': False}.get(value, value)


def present(module, spack):
    p = module.params
    name, path = p['name'], p['path']
    env_dir = path if path else spack.env_path(name)
    current, current_lock = _read(env_dir)
    current_specs = list((current or {}).get('spack', {}).get('specs', []))
    wanted, new_specs = desired_manifest(
        current, specs=p['specs'], exclusive=p['exclusive'], unify=_unify(p['unify']), view=p['view'],
        target=p['target'], repos=p['repos'], mirrors=p['mirrors'], include=p['include'], config=p['config'])

    scratch = tempfile.mkdtemp(prefix='wizard-env-')
    try:
        with open(os.path.join(scratch, 'spack.yaml'), 'w') as f:
            f.write(dump_yaml(wanted))
        if current_lock:
            shutil.copy(os.path.join(env_dir, 'spack.lock'), os.path.join(scratch, 'spack.lock'))
        if new_specs:
            # `spack add` rejects malformed specs (rc 3) and unknown packages before anything is real.
            spack.run('add', specs=new_specs, env_dir=scratch, what=', '.join(new_specs))
        unchanged = wanted == current and not new_specs and lock_covers(current_lock, current)
        # Without --force Spack only concretizes roots missing from the lock: changed packages,
        # target or concretizer settings would be silently ignored by an existing lock.
        force = p['force'] or (current_lock is not None and settings_changed(current, wanted))
        if p['concretize'] and (force or not unchanged):
            spack.run('concretize', force=force, env_dir=scratch, what='environment %s' % (name or path))
        after, after_lock = _read(scratch)
        if not p['concretize'] and current_lock and after == current:
            after_lock = current_lock
        yaml_changed = after != current
        lock_changed = p['concretize'] and not same_lock(after_lock, current_lock)
        changed = current is None or yaml_changed or lock_changed

        if changed and not module.check_mode:
            if env_dir is None and name:
                spack.run('env_create', name=name, manifest=os.path.join(scratch, 'spack.yaml'),
                          what='environment %s' % name)
                env_dir = spack.env_path(name)
                if env_dir is None:
                    raise SpackError('spack env create %s succeeded but `spack location --env %s` finds no spack.yaml' % (name, name))
            if env_dir is None:
                env_dir = path
            if not os.path.isdir(env_dir):
                os.makedirs(env_dir)
            if lock_changed and after_lock is not None:
                shutil.copy(os.path.join(scratch, 'spack.lock'), os.path.join(scratch, 'spack.lock.new'))
                module.atomic_move(os.path.join(scratch, 'spack.lock.new'), os.path.join(env_dir, 'spack.lock'))
            if yaml_changed or current is None:
                _write(module, env_dir, 'spack.yaml', dump_yaml(after))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    after_specs = list(after.get('spack', {}).get('specs', []))
    result = dict(
        changed=changed,
        env_path=env_dir or path,
        specs=after_specs,
        added=[s for s in after_specs if s not in current_specs],
        removed=[s for s in current_specs if s not in after_specs],
        manifest=after,
        concretized=lock_summary(after_lock if p['concretize'] else (current_lock if not yaml_changed else None)),
    )
    if module._diff:
        result['diff'] = dict(before=dump_yaml(current) if current else '', after=dump_yaml(after),
                              before_header='%s/spack.yaml' % (env_dir or path), after_header='%s/spack.yaml' % (env_dir or path))
    return result


def absent(module, spack):
    p = module.params
    env_dir = p['path'] if p['path'] else spack.env_path(p['name'])
    if not env_dir or not os.path.isfile(os.path.join(env_dir, 'spack.yaml')):
        return dict(changed=False)
    if not module.check_mode:
        if p['name']:
            spack.run('env_remove', name=p['name'], what='environment %s' % p['name'])
        else:
            shutil.rmtree(env_dir)
    result = dict(changed=True, env_path=env_dir)
    if module._diff:
        with open(os.path.join(env_dir, 'spack.yaml')) as f:
            result['diff'] = dict(before=f.read(), after='')
    return result


def _main(sm):
    return (present if sm.params['state'] == 'present' else absent)(sm.module, sm.spack)


def main():
    SpackModule(
        dict(
            name=dict(type='str'),
            path=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            specs=dict(type='list', elements='str'),
            exclusive=dict(type='bool', default=False),
            unify=dict(type='str', choices=['true', 'false', 'when_possible']),
            view=dict(type='raw'),
            target=dict(type='str'),
            repos=dict(type='list', elements='path'),
            mirrors=dict(type='dict'),
            include=dict(type='list', elements='str'),
            config=dict(type='dict'),
            concretize=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('name', 'path')], required_one_of=[('name', 'path')],
    ).run(_main)


if __name__ == '__main__':
    main()
