# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""research.wizard.fleet_sim through ansible-inventory, as a user runs it: hosts, groups, each host's own
directories and the one shared cache, host_vars over them, and config errors that name the fix."""
import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
INVENTORY = os.path.join(os.path.dirname(sys.executable), 'ansible-inventory')


def inventory(tmp_path, config, name='lab.fleet_sim.yml'):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({'plugin': 'research.wizard.fleet_sim'}, **config)))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_INVENTORY_UNPARSED_FAILED='1')
    return subprocess.run([INVENTORY, '-i', str(path), '--list'], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)


def plain(value):
    """ansible-inventory's JSON without the unsafe marks of values read from the config file."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def test_hosts_with_their_own_directories_and_one_shared_cache(tmp_path):
    proc = inventory(tmp_path, {'hosts': 3, 'base_dir': 'fleet', 'builders': ['sim2'],
                                'host_vars': {'spack_install_prereqs': False, 'spack_root': '/override/{{ inventory_hostname }}'}})
    assert proc.returncode == 0, proc.stderr
    data = plain(json.loads(proc.stdout))
    assert data['wizard_fleet_sim']['hosts'] == ['sim1', 'sim2', 'sim3']
    assert data['wizard_builders']['hosts'] == ['sim2']
    hostvars = data['_meta']['hostvars']
    base = str(tmp_path / 'fleet')  # relative to the config file
    one = hostvars['sim1']
    assert one['ansible_connection'] == 'local'
    assert os.path.realpath(one['ansible_python_interpreter']) == os.path.realpath(sys.executable)
    assert one['domain_pack_data_dir'] == os.path.join(base, 'sim1', 'data')
    assert one['spack_extra_env_vars'] == {'SPACK_USER_CONFIG_PATH': os.path.join(base, 'sim1', 'user'),
                                           'SPACK_USER_CACHE_PATH': os.path.join(base, 'sim1', 'user-cache'),
                                           'SPACK_GNUPGHOME': os.path.join(base, 'sim1', 'gpg')}
    assert {h['binary_cache_local_path'] for h in hostvars.values()} == {os.path.join(base, 'cache')}
    assert all(h['binary_cache_shared'] is True for h in hostvars.values())
    assert len({h['domain_pack_data_dir'] for h in hostvars.values()}) == 3
    # host_vars win over the plugin's own.
    assert one['spack_install_prereqs'] is False and one['spack_root'] == '/override/{{ inventory_hostname }}'


def test_cache_dir_and_prefix(tmp_path):
    proc = inventory(tmp_path, {'hosts': 2, 'base_dir': str(tmp_path / 'b'), 'cache_dir': 'shared', 'name_prefix': 'ws'})
    assert proc.returncode == 0, proc.stderr
    hostvars = plain(json.loads(proc.stdout))['_meta']['hostvars']
    assert sorted(hostvars) == ['ws1', 'ws2']
    assert hostvars['ws2']['binary_cache_local_path'] == str(tmp_path / 'shared')
    assert hostvars['ws2']['spack_root'] == str(tmp_path / 'b' / 'ws2' / 'spack')


@pytest.mark.parametrize('config, message', [
    ({'hosts': 0, 'base_dir': 'x'}, 'hosts must be 1 or more, not 0'),
    ({'hosts': 2, 'base_dir': 'x', 'builders': ['sim3']}, 'builders sim3 are not hosts of the fleet (sim1, sim2)'),
])
def test_config_errors_name_the_fix(tmp_path, config, message):
    proc = inventory(tmp_path, config)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


def test_other_file_names_are_not_taken(tmp_path):
    proc = inventory(tmp_path, {'hosts': 2, 'base_dir': 'x'}, name='lab.yml')
    assert proc.returncode != 0 or 'sim1' not in proc.stdout
