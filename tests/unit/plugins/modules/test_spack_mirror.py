# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_mirror: the exact Spack commands of each case in test_spack_mirror.yaml (idempotence from Spack's
stored config, secrets per Spack generation, the reachability probe), run by helpers.module_runner."""
import pytest

from ansible_collections.research.wizard.plugins.modules import spack_mirror
from helpers.module_runner import load_cases, run_case

CASES = load_cases(__file__)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_spack_mirror(case, capsys, tmp_path):
    run_case(spack_mirror.main, case, tmp_path, capsys)
