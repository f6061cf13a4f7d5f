#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_env_info
short_description: List Spack environments, or describe one (roots, concrete specs, what is installed)
version_added: 0.1.0
description:
  - Without O(name) or O(path), lists the managed environments.
  - With O(name) or O(path), returns the environment's roots, every concrete spec (name, version, hash,
    installed, external, and with O(prefixes) its install prefix) and counts.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.info_module
  - research.wizard.spack.actiongroup_spack
options:
  name:
    description: Managed environment to describe.
    type: str
  path:
    description: Environment directory to describe.
    type: path
  prefixes:
    description:
      - Also return where each installed spec of the environment is (RV(specs[].prefix)), from one more
        Spack process (C(spack find --format)).
    type: bool
    default: false
seealso:
  - module: research.wizard.spack_env
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Which environments exist?
  research.wizard.spack_env_info:
  register: envs

- name: What is installed in chemistry?
  research.wizard.spack_env_info:
    name: chemistry
  register: chem

- name: Fail when something is missing
  ansible.builtin.assert:
    that: chem.counts.missing == 0

- name: Where is gromacs installed?
  research.wizard.spack_env_info:
    name: chemistry
    prefixes: true
  register: chem

- name: Run it
  ansible.builtin.command:
    argv: ["{{ (chem.specs | selectattr('name', 'equalto', 'gromacs') | first).prefix }}/bin/gmx", --version]
  changed_when: false
'''

RETURN = r'''
environments:
  description: Names of the managed environments.
  returned: when neither name nor path is given
  type: list
  elements: str
  sample: [chemistry, selftest]
exists:
  description: Whether the environment exists.
  returned: when name or path is given
  type: bool
env_path:
  description: Directory of the environment.
  returned: when it exists
  type: str
roots:
  description: Root specs from spack.yaml.
  returned: when it exists
  type: list
  elements: str
concretized:
  description: Whether the environment has a spack.lock.
  returned: when it exists
  type: bool
specs:
  description: Every concrete spec of the environment.
  returned: when it exists
  type: list
  elements: dict
  contains:
    name:
      description: Package name.
      type: str
    version:
      description: Version.
      type: str
    hash:
      description: DAG hash.
      type: str
    installed:
      description: Installed (or external).
      type: bool
    external:
      description: An external package.
      type: bool
    root:
      description: A root spec of the environment.
      type: bool
    prefix:
      description: Install prefix (for an external, its path), null when not installed.
      type: str
      returned: with O(prefixes)
counts:
  description: Number of roots, concrete specs, installed, external and missing specs.
  returned: when it exists
  type: dict
  sample: {roots: 2, specs: 7, installed: 7, external: 3, missing: 0}
spack_version:
  description: Version of the Spack that was queried.
  returned: always
  type: str
'''

import os

from ansible_collections.research.wizard.plugins.module_utils._spack import read_json, read_yaml
from ansible_collections.research.wizard.plugins.module_utils._spack_env import concrete_specs
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule


def _prefixes(spack, env_dir):
    """{full hash: install prefix} of the environment's installed specs."""
    out = spack.stdout('find', format='{hash} {prefix}', env_dir=env_dir, what='environment %s' % env_dir)
    where = dict(line.strip().partition(' ')[::2] for line in out.splitlines())
    return dict((h, prefix) for h, prefix in where.items() if prefix.startswith('/'))


def describe(spack, env_dir, prefixes=False):
    manifest = read_yaml(os.path.join(env_dir, 'spack.yaml'))
    lock = read_json(os.path.join(env_dir, 'spack.lock'))
    specs = concrete_specs(lock, set(spack.installed())) if lock else []
    if prefixes and specs:
        where = _prefixes(spack, env_dir)
        for s in specs:
            s['prefix'] = where.get(s['hash'])
    installed = sum(1 for s in specs if s['installed'])
    return dict(
        changed=False, exists=True, env_path=env_dir, roots=list(manifest.get('spack', {}).get('specs', [])),
        concretized=lock is not None, specs=specs,
        counts=dict(roots=len(manifest.get('spack', {}).get('specs', [])), specs=len(specs), installed=installed,
                    external=sum(1 for s in specs if s['external']), missing=len(specs) - installed))


def _main(sm):
    p, spack = sm.params, sm.spack
    if not p['name'] and not p['path']:
        return dict(changed=False, environments=spack.env_names())
    env_dir = p['path'] if p['path'] else spack.env_path(p['name'])
    if env_dir and os.path.isfile(os.path.join(env_dir, 'spack.yaml')):
        return describe(spack, env_dir, p['prefixes'])
    return dict(changed=False, exists=False)


def main():
    SpackModule(dict(name=dict(type='str'), path=dict(type='path'), prefixes=dict(type='bool', default=False)),
                mutually_exclusive=[('name', 'path')]).run(_main)


if __name__ == '__main__':
    main()
