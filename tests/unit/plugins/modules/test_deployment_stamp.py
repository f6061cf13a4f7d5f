# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""deployment_stamp records (asking Spack once for the env's prefixes); deployment_stamp_info checks and
runs no Spack at all. Single runs are the cases in test_deployment_stamp.yaml; a deployment's life
(record, record again, check, change, check) is the scenario below."""
import json
from unittest import mock

import pytest

from ansible_collections.research.wizard.plugins.module_utils._spack import Spack, SpackError
from ansible_collections.research.wizard.plugins.modules import deployment_stamp, deployment_stamp_info
from helpers.module_runner import load_cases, run, run_case

MODULES = {'deployment_stamp': deployment_stamp, 'deployment_stamp_info': deployment_stamp_info}
CASES = load_cases(__file__)
FIND = (['find', '--format', '{prefix}'], 0, None, '')


def _site(tmp_path):
    env = tmp_path / 'env'
    env.mkdir()
    (env / 'spack.yaml').write_text('spack: {specs: [tinyapp]}\n')
    (env / 'spack.lock').write_text('{}\n')
    prefix = tmp_path / 'store' / 'linux' / 'tinyapp-1.0-aaaa'
    (prefix / '.spack').mkdir(parents=True)
    (prefix / '.spack' / 'spec.json').write_text('{}')
    (tmp_path / 'store' / '.spack-db').mkdir()
    (tmp_path / 'store' / '.spack-db' / 'index.json').write_text('{}')
    (tmp_path / 'summary.json').write_text(json.dumps({'env': 'selftest', 'rc': 0}))
    return dict(path=str(tmp_path / 'd' / 'selftest.stamp.json'), env='selftest',
                inputs_digest='abc', summary=str(tmp_path / 'summary.json'),
                spack_env_vars={'SPACK_DISABLE_LOCAL_CONFIG': '1'}), str(prefix)


def _record(args, tmp_path):
    """The record's arguments: the check's and the environment's directory."""
    return dict(args, state='present', env_path=str(tmp_path / 'env'))


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_case(case, tmp_path, capsys):
    args, prefix = _site(tmp_path)
    if case['module'] == 'deployment_stamp':
        args = _record(args, tmp_path)
    case = dict(case, input=dict((k, v) for k, v in dict(args, **case['input']).items() if v is not None))
    run_case(MODULES[case['module']].main, case, tmp_path, capsys)
    if 'stamp' in case:
        assert (tmp_path / 'd' / 'selftest.stamp.json').exists() == case['stamp']


def test_record_then_check(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    record = _record(args, tmp_path)
    find = (FIND[0], 0, '%s\n/usr\n' % prefix, '')
    rc, result, calls = run(deployment_stamp.main, record, [find], capsys=capsys)
    assert rc == 0 and result['changed'] and result['prefixes'] == 1
    rc, result, calls = run(deployment_stamp.main, record, [find], capsys=capsys)
    assert not result['changed'], 'the same deployment records the same stamp'

    rc, result, calls = run(deployment_stamp_info.main, args, [], capsys=capsys)
    assert calls == [] and result['current'] and result['summary'] == {'env': 'selftest', 'rc': 0}
    assert not result['changed'] and result['reason'] == 'nothing changed since the last deployment'

    rc, result, calls = run(deployment_stamp_info.main, dict(args, inputs_digest='other'), [], capsys=capsys)
    assert not result['current'] and result['summary'] is None
    (tmp_path / 'env' / 'spack.yaml').write_text('spack: {specs: [tinyapp, zlib]}\n')
    rc, result, calls = run(deployment_stamp_info.main, args, [], capsys=capsys)
    assert not result['current'] and result['reason'] == 'env:spack.yaml changed'


def test_without_state_the_deprecated_check_is_done(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    run(deployment_stamp.main, _record(args, tmp_path), [(FIND[0], 0, prefix + '\n', '')], capsys=capsys)
    rc, result, calls = run(deployment_stamp.main, args, [], capsys=capsys)
    assert calls == [] and result['current'] and not result['changed']
    (deprecation,) = result['module_deprecations']
    assert 'deployment_stamp_info' in deprecation['msg'] and deprecation['version'] == '2.0.0'


def test_no_spack_is_not_current_and_no_error(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    missing = SpackError('No Spack at spack_root=/opt/spack (expected an executable /opt/spack/bin/spack).')
    with mock.patch.object(Spack, '_find', side_effect=missing):
        rc, result, calls = run(deployment_stamp_info.main, args, [], capsys=capsys)
    assert rc == 0 and not result['current'] and result['reason'].startswith('No Spack at spack_root=/opt/spack')
