# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from helpers.spack_sandbox import make_sandbox


@pytest.fixture(scope='module')
def sandbox(spack, tmp_path_factory):
    return make_sandbox(str(tmp_path_factory.mktemp('spack')), spack['root'], python=spack['python'])


@pytest.fixture
def playbook_env():
    # The sandbox's user scope must apply: a SPACK_DISABLE_LOCAL_CONFIG inherited from the
    # caller's shell would hide it.
    return {'SPACK_DISABLE_LOCAL_CONFIG': None}
