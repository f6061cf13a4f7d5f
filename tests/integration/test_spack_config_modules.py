# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration: spack_config, spack_externals and spack_mirror_info through ansible-playbook against the
real Spack, on both generations: 1.1.1 (primary) and 0.23 (compat)."""
import os

import pytest

from helpers.ansible import explain, recap, run_playbook

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'spack_config_modules.yml')
pytestmark = pytest.mark.parametrize('spack', ['primary', 'compat'], indirect=True, scope='module')


def test_config_detection_and_mirror_info(sandbox, playbook_env):
    proc = run_playbook(PLAYBOOK, dict(sb=sandbox), env=playbook_env)
    assert proc.returncode == 0, explain(proc)
    assert recap(proc.stdout)['localhost']['failed'] == 0, explain(proc)
