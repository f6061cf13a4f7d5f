# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_env, spack_env_info and spack_install (check mode) from the cases in test_spack_env_install.yaml:
exact commands, results, and nothing written when Spack refuses a change."""
import itertools
import os
import shutil
import tempfile
from unittest import mock

import pytest

from ansible_collections.research.wizard.plugins.modules import spack_env, spack_env_info, spack_install
from helpers.module_runner import FIXTURES, fill, load_cases, run_case

MODULES = {'spack_env': spack_env, 'spack_env_info': spack_env_info, 'spack_install': spack_install}
CASES = load_cases(__file__)


def make_files(tmp_path, files):
    """SETUP's files under TMP_PATH: text, or {fixture: NAME} for a recorded file; {NAME: text} back."""
    written = {}
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            shutil.copy(os.path.join(FIXTURES, 'spack', content['fixture']), str(path))
        else:
            path.write_text(fill(content, str(tmp_path)))
        written[name] = path.read_text()
    return written


@pytest.fixture
def scratch(tmp_path):
    """The module's scratch directories at known places: {tmp}/scratch, then {tmp}/scratch1, ..."""
    names = ('scratch%s' % (i or '') for i in itertools.count())

    def mkdtemp(prefix='', **kwargs):
        path = str(tmp_path / next(names))
        os.mkdir(path)
        return path
    with mock.patch.object(tempfile, 'mkdtemp', side_effect=mkdtemp):
        yield


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_case(case, tmp_path, capsys, scratch):
    written = make_files(tmp_path, case.get('setup'))
    rc, result, calls = run_case(MODULES[case['module']].main, case, tmp_path, capsys, fixtures='spack')
    for name in case.get('absent') or ():
        assert not (tmp_path / name).exists(), '%s written although Spack refused the change' % name
    for name in case.get('unchanged') or ():
        assert (tmp_path / name).read_text() == written[name], '%s changed' % name
    for name, prefix in (case.get('specs') or {}).items():
        (spec,) = [s for s in result['specs'] if s['name'] == name]
        assert spec['prefix'] == prefix, spec
    assert not list(tmp_path.glob('scratch*')), 'the scratch copy is removed'
