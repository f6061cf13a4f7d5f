# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_config: the exact Spack commands and results of each case in test_spack_config.yaml (helpers.module_runner)."""
import pytest

from ansible_collections.research.wizard.plugins.modules import spack_config
from helpers.module_runner import load_cases, run_case

CASES = load_cases(__file__)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_spack_config(case, capsys, tmp_path):
    run_case(spack_config.main, case, tmp_path, capsys)
