# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration: the spack_* modules through ansible-playbook against the real Spack (and moto for S3),
on both generations: 1.1.1 (primary) and 0.23 (compat)."""
import os

import pytest

from helpers.ansible import explain, recap, run_playbook

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')
pytestmark = pytest.mark.parametrize('spack', ['primary', 'compat'], indirect=True, scope='module')


def play(name, sandbox, env, **extra):
    proc = run_playbook(os.path.join(HERE, name), dict(sb=sandbox, **extra), env=env)
    assert proc.returncode == 0, explain(proc)
    assert recap(proc.stdout)['localhost']['failed'] == 0, explain(proc)
    return proc


def test_spack_env(sandbox, playbook_env):
    play('spack_env.yml', sandbox, playbook_env)


def test_install_push_and_install_from_caches(sandbox, playbook_env, moto_endpoint):
    play('spack_cache_roundtrip.yml', sandbox, playbook_env, s3_endpoint=moto_endpoint)


def test_failures_are_clear(sandbox, playbook_env):
    play('spack_failures.yml', sandbox, playbook_env)


def test_signed_cache(sandbox, playbook_env):
    play('spack_keys.yml', sandbox, playbook_env)


def test_modulefiles(sandbox, playbook_env):
    play('spack_modulefiles.yml', sandbox, playbook_env)
