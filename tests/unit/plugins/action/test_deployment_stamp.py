# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller side of the up-to-date check: what counts as the deployment's inputs."""
import os

from ansible_collections.research.wizard.plugins.action import deployment_stamp as action


def test_inputs_are_the_role_defaults_and_their_roots():
    names = action.input_variables()
    for name in ('spack_root', 'spack_install_tree', 'binary_cache_type', 'domain_pack_use_buildcache',
                 'domain_pack_view', 'domain', 'size', 'cache', 'target', 'wizard_overrides'):
        assert name in names
    # Run-time results are not inputs: a reachable cache or a registered result must not make two
    # runs with the same inputs differ.
    for name in ('binary_cache_active', 'spack_env_vars', 'domain_pack_summary', 'domain_pack_install'):
        assert name not in names


def test_digest_follows_variables_and_pack_not_runtime_values():
    base = {'domain': 'selftest', 'spack_root': '/opt/spack', 'binary_cache_active': ''}
    pack = {'domain': 'selftest'}
    d1 = action.inputs_digest(base, pack)
    assert action.inputs_digest(dict(base, binary_cache_active='wizard-cache'), pack) == d1
    assert action.inputs_digest(dict(base, spack_root='/srv/spack'), pack) != d1
    assert action.inputs_digest(dict(base, domain_pack_jobs=4), pack) != d1
    assert action.inputs_digest(base, {'domain': 'selftest', 'size': 'large'}) != d1


def test_unknown_domain_never_matches_a_valid_one():
    base = {'domain': 'selftest'}
    assert action.inputs_digest(base, {'domain': 'nosuchdomain'}) != action.inputs_digest(base, {'domain': 'selftest'})


def test_code_digest_ignores_bytecode(tmp_path):
    for d in action.CODE_DIRS:
        (tmp_path / d).mkdir()
    (tmp_path / 'plugins' / 'x.py').write_text('x = 1\n')
    before = action.code_digest(str(tmp_path))
    (tmp_path / 'plugins' / '__pycache__').mkdir()
    (tmp_path / 'plugins' / '__pycache__' / 'x.cpython-311.pyc').write_bytes(b'\0')
    assert action.code_digest(str(tmp_path)) == before
    (tmp_path / 'roles' / 'main.yml').write_text('---\n')
    assert action.code_digest(str(tmp_path)) != before
    assert os.path.isdir(action.COLLECTION)
