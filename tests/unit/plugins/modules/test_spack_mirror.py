# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_mirror: the exact Spack commands of each case in test_spack_mirror.yaml (idempotence from Spack's
stored config, credentials per Spack generation, the direct 0600 write on 0.2x, the reachability probe),
run by helpers.module_runner.

A case's `http` lists what the probe's HTTP requests get ({URL: [status or null, reason]}); a request
to any other URL fails the case (unit tests reach no network). `own_files` are created before the run
with their text and mode; `scope_file` is what {tmp}/mirrors.yaml holds afterwards."""
import os
import stat

import pytest
import yaml

from ansible_collections.research.wizard.plugins.modules import spack_mirror
from helpers.mirror_http import scripted_http
from helpers.module_runner import load_cases, run_case

CASES = load_cases(__file__)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_spack_mirror(case, capsys, tmp_path):
    for name, (text, before, dummy) in (case.get('own_files') or {}).items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(int(before, 8))
    with scripted_http(case, tmp_path) as asked:
        run_case(spack_mirror.main, case, tmp_path, capsys)
    assert sorted(asked) == sorted(case.get('http') or {}), 'every scripted HTTP probe is made, once'
    for name, (dummy, before, after) in (case.get('own_files') or {}).items():
        info = os.stat(str(tmp_path / name))
        assert stat.S_IMODE(info.st_mode) == int(after, 8) and info.st_uid == os.geteuid()
    if 'scope_file' in case:
        with open(str(tmp_path / 'mirrors.yaml')) as f:
            assert yaml.safe_load(f) == case['scope_file']
        leftovers = [n for n in os.listdir(str(tmp_path)) if n.endswith('.tmp')]
        assert not leftovers, 'the atomic write leaves no temporary file: %r' % leftovers
