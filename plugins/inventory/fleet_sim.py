# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_sim
short_description: A simulated fleet of research.wizard hosts on this machine
version_added: 0.1.0
description:
  - N hosts that are all this machine (local connection), each with a Spack root, install tree, Spack user
    configuration and cache, GnuPG home and data directory of its own under O(base_dir), and one binary cache
    folder they all share (O(cache_dir)), as the hosts of a lab or an EC2 fleet share an S3 bucket or an NFS
    folder. deploy.yml against it behaves as against a real fleet (one builder builds what the cache lacks
    and pushes it, the other hosts install from the cache after it).
  - Every host is in the group C(wizard_fleet_sim); the hosts named in O(builders) are also in
    C(wizard_builders).
  - Host variables set are C(ansible_connection), C(ansible_python_interpreter) (the controller's Python),
    C(spack_root), C(domain_pack_data_dir), C(spack_extra_env_vars) (C(SPACK_USER_CONFIG_PATH),
    C(SPACK_USER_CACHE_PATH), C(SPACK_GNUPGHOME)), C(binary_cache_local_path),
    C(binary_cache_shared=true) and C(wizard_sim_dir), then O(host_vars) over them.
  - The config file name must end in C(fleet_sim.yml) or C(fleet_sim.yaml).
author:
  - research.wizard developers (@research-wizard)
options:
  plugin:
    description: Marks the file as a config of this plugin.
    type: str
    required: true
    choices: [research.wizard.fleet_sim]
  hosts:
    description: How many hosts.
    type: int
    default: 3
  name_prefix:
    description: Host names are this prefix and a number from 1, for example C(sim1).
    type: str
    default: sim
  base_dir:
    description:
      - Directory under which each host has its own directory, named as the host. Relative to the config
        file's directory when relative.
    type: str
    required: true
  cache_dir:
    description: The binary cache folder every host shares. Default C(<base_dir>/cache); relative as O(base_dir).
    type: str
  builders:
    description: Hosts of the C(wizard_builders) group (deploy.yml's builder is the first of them that deploys).
    type: list
    elements: str
    default: []
  host_vars:
    description:
      - Variables for every host, over the plugin's own, for example how the spack role gets Spack
        (C(spack_source), C(spack_local_source)) and C(spack_install_prereqs=false) (hosts that are one
        machine must not all run apt at once).
    type: dict
    default: {}
"""

EXAMPLES = r"""
# fleet.fleet_sim.yml: six simulated hosts, Spack from a local tarball, the first one builds.
plugin: research.wizard.fleet_sim
hosts: 6
base_dir: /scratch/fleet
host_vars:
  spack_source: local
  spack_local_source: /srv/spack/spack-1.1.1.tar.gz
  spack_install_prereqs: false
# ansible-playbook -i fleet.fleet_sim.yml playbooks/deploy.yml -e domain=selftest
"""

import os
import sys

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

GROUP = 'wizard_fleet_sim'
BUILDERS = 'wizard_builders'


def sim_host_vars(name, base_dir, cache_dir, python):
    """The variables that make host NAME a separate machine under BASE_DIR sharing CACHE_DIR."""
    home = os.path.join(base_dir, name)
    return {
        'ansible_connection': 'local',
        'ansible_python_interpreter': python,
        'wizard_sim_dir': home,
        'spack_root': os.path.join(home, 'spack'),
        'domain_pack_data_dir': os.path.join(home, 'data'),
        'spack_extra_env_vars': {
            'SPACK_USER_CONFIG_PATH': os.path.join(home, 'user'),
            'SPACK_USER_CACHE_PATH': os.path.join(home, 'user-cache'),
            'SPACK_GNUPGHOME': os.path.join(home, 'gpg'),
        },
        'binary_cache_local_path': cache_dir,
        'binary_cache_shared': True,
    }


class InventoryModule(BaseInventoryPlugin):

    NAME = 'research.wizard.fleet_sim'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('fleet_sim.yml', 'fleet_sim.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        count = self.get_option('hosts')
        if count < 1:
            raise AnsibleParserError('%s: hosts must be 1 or more, not %d' % (path, count))
        here = os.path.dirname(os.path.abspath(path))
        base_dir = os.path.normpath(os.path.join(here, os.path.expanduser(self.get_option('base_dir'))))
        cache_dir = (os.path.normpath(os.path.join(here, os.path.expanduser(self.get_option('cache_dir'))))
                     if self.get_option('cache_dir') else os.path.join(base_dir, 'cache'))
        names = ['%s%d' % (self.get_option('name_prefix'), i) for i in range(1, count + 1)]
        unknown = sorted(set(self.get_option('builders')) - set(names))
        if unknown:
            raise AnsibleParserError('%s: builders %s are not hosts of the fleet (%s)'
                                     % (path, ', '.join(unknown), ', '.join(names)))
        self.inventory.add_group(GROUP)
        if self.get_option('builders'):
            self.inventory.add_group(BUILDERS)
        for name in names:
            self.inventory.add_host(name, group=GROUP)
            values = sim_host_vars(name, base_dir, cache_dir, sys.executable)
            values.update(self.get_option('host_vars'))
            for key, value in values.items():
                self.inventory.set_variable(name, key, value)
            if name in self.get_option('builders'):
                self.inventory.add_host(name, group=BUILDERS)
