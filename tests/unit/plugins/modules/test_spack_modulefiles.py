# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_modulefiles from the cases in test_spack_modulefiles.yaml: a refresh changes something only when
a module file's content (its time stamp aside) did; check mode predicts it from a scratch root."""
import os
import tempfile
from unittest import mock

import pytest
import yaml

from ansible_collections.research.wizard.plugins.modules import spack_modulefiles
from helpers import module_runner
from helpers.module_runner import fill, load_cases, run_case

CASES = load_cases(__file__)
TIMES = {'{T1}': '## Module file created by spack (https://github.com/spack/spack) on 2025-11-28 10:00:00.123456',
         '{T2}': '## Module file created by spack (https://github.com/spack/spack) on 2025-11-29 11:11:11.654321'}


def _text(content, tmp):
    for mark, line in TIMES.items():
        content = content.replace(mark, line)
    return fill(content, tmp)


def _write(tmp, files):
    for name, content in (files or {}).items():
        path = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(_text(content, tmp))


class Refresh(module_runner.CommandScript):
    """The expected commands, where a refresh also writes the module files its step names."""

    def _step(self, step, got, env):
        answer = super(Refresh, self)._step(step, got, env)
        if 'env_copy' in step:
            with open(os.path.join(got[1], 'spack.yaml')) as f:
                assert yaml.safe_load(f) == fill(step['env_copy'], self.tmp), 'the copy points at the scratch root'
            lock = os.path.join(got[1], 'spack.lock')
            assert os.path.exists(lock) == ('lock' in step), 'the lock is copied when there is one'
            if 'lock' in step:
                with open(lock) as f:
                    assert f.read() == step['lock']
        _write(self.tmp, step.get('writes'))
        return answer


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_case(case, tmp_path, capsys):
    tmp = str(tmp_path)
    _write(tmp, case.get('setup'))
    scratch = str(tmp_path / 'scratch')
    Refresh.tmp = tmp
    with mock.patch.object(module_runner, 'CommandScript', Refresh), \
            mock.patch.object(tempfile, 'mkdtemp', side_effect=lambda **kw: os.mkdir(scratch) or scratch):
        run_case(spack_modulefiles.main, case, tmp_path, capsys)
    for name in case.get('unchanged') or ():
        with open(os.path.join(tmp, name)) as f:
            assert f.read() == _text(case['setup'][name], tmp), '%s changed in check mode' % name
    assert not os.path.exists(scratch), 'the scratch root is removed'
