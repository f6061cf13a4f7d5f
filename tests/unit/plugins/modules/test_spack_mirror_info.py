# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_mirror_info: the exact Spack commands and results of each case in test_spack_mirror_info.yaml (helpers.module_runner);
a case's `http` scripts the probe's HTTP requests (helpers.mirror_http)."""
import pytest

from ansible_collections.research.wizard.plugins.modules import spack_mirror_info
from helpers.mirror_http import scripted_http
from helpers.module_runner import load_cases, run_case

CASES = load_cases(__file__)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_spack_mirror_info(case, capsys, tmp_path):
    with scripted_http(case, tmp_path) as asked:
        run_case(spack_mirror_info.main, case, tmp_path, capsys)
    assert sorted(asked) == sorted(case.get('http') or {}), 'every scripted HTTP probe is made, once'
