"""spack_mirror: exact Spack commands for each case, idempotence from Spack's stored config.

Secrets per Spack generation are data-driven (test_spack_mirror.yaml): ordered commands, the environment
each one gets, what the probe scope and a `config add -f` file hold, and that no secret is in any argv."""
import os
import stat
from unittest import mock

import pytest
import yaml

from helpers import module_runner

from ansible_collections.research.wizard.plugins.modules import spack_mirror
from helpers.module_runner import SPACK, run

GET = ['config', '--scope', 'site', 'get', 'mirrors']
STORED_S3 = """mirrors:
  cache:
    url: s3://b/p
    access_pair:
    - a
    - sekrit
    endpoint_url: http://x
    binary: true
    source: false
    autopush: false
    signed: false
"""
S3_ARGS = dict(name='cache', url='s3://b/p', type=['binary'], signed=False, s3_endpoint_url='http://x',
               s3_access_key_id='a', s3_access_key_secret='sekrit')


@pytest.fixture(autouse=True)
def version():
    with mock.patch('ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version',
                    return_value=((0, 23, 0), '0.23.0.dev0')):
        yield


def test_add_new(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='local', url='file:///srv/c', type=['binary'], signed=False),
                            [(GET, 0, 'mirrors: {}\n', ''),
                             (['mirror', 'add', '--scope', 'site', '--type', 'binary', '--unsigned', 'local', 'file:///srv/c'], 0, '', '')],
                            capsys=capsys)
    assert rc == 0 and result['changed']


def test_check_mode_runs_nothing(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='local', url='file:///srv/c'),
                            [(GET, 0, 'mirrors: {}\n', '')], check_mode=True, capsys=capsys)
    assert result['changed'] and len(calls) == 1
    assert result['cmd'] == [[SPACK, '--color', 'never', 'mirror', 'add', '--scope', 'site', 'local', 'file:///srv/c']]


def test_plain_url_entry_is_idempotent(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='local', url='file:///srv/c'),
                            [(GET, 0, 'mirrors:\n  local: file:///srv/c\n', '')], capsys=capsys)
    assert not result['changed']


def test_absent(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='cache', state='absent'), [
        (GET, 0, STORED_S3, ''), (['mirror', 'remove', '--scope', 'site', 'cache'], 0, '', '')], capsys=capsys)
    assert result['changed']
    rc, result, calls = run(spack_mirror.main, dict(name='cache', state='absent'),
                            [(GET, 0, 'mirrors: {}\n', '')], capsys=capsys)
    assert not result['changed']


def test_old_spack_refuses_signed(capsys):
    with mock.patch('ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version',
                    return_value=((0, 21, 2), '0.21.2')):
        rc, result, calls = run(spack_mirror.main, dict(name='c', url='file:///x', signed=False),
                                [(GET, 0, 'mirrors: {}\n', '')], capsys=capsys)
    assert rc == 1 and 'signed (Spack >= 0.22)' in result['msg']


def test_spack_error_is_actionable(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='c', url='file:///x'),
                            [(GET, 0, 'mirrors: {}\n', ''),
                             (['mirror', 'add', '--scope', 'site', 'c', 'file:///x'], 1, '', '==> Error: boom\n')],
                            capsys=capsys)
    assert rc == 1
    assert result['msg'].startswith('spack mirror add failed (rc=1) for mirror c: boom')
    assert result['rc'] == 1 and result['stderr'] == '==> Error: boom'


DEAD = ('==> Error: Could not connect to the endpoint URL: "http://127.0.0.1:9/b/build_cache/index.json"\n')


def test_unreachable_mirror_is_skipped_and_removed(capsys):
    rc, result, calls = run(spack_mirror.main, dict(S3_ARGS, verify=True, on_unreachable='skip'), [
        (GET, 0, STORED_S3, ''),
        (['buildcache', 'list'], 3, '', DEAD),
        (['mirror', 'remove', '--scope', 'site', 'cache'], 0, '', ''),
    ], capsys=capsys)
    assert rc == 0 and result['changed'] and result['reachable'] is False
    assert 'is unreachable' in result['module_warnings'][0]
    assert calls[1][3] == '-C', 'the probe runs with only this mirror configured'


def test_unreachable_mirror_fails_by_default(capsys):
    rc, result, calls = run(spack_mirror.main, dict(S3_ARGS, verify=True), [
        (GET, 0, 'mirrors: {}\n', ''),
        (['buildcache', 'list'], 3, '', DEAD),
    ], capsys=capsys)
    assert rc == 1 and 'is unreachable: ==> Error: Could not connect' in result['msg']


def test_reachable_mirror_is_added(capsys):
    rc, result, calls = run(spack_mirror.main, dict(name='remote', url='s3://b/c', verify=True), [
        (GET, 0, 'mirrors: {}\n', ''),
        (['buildcache', 'list'], 0, '', ''),
        (['mirror', 'add', '--scope', 'site', 'remote', 's3://b/c'], 0, '', ''),
    ], capsys=capsys)
    assert result['changed'] and result['reachable']


def test_local_folder_is_verified_without_spack(capsys, tmp_path):
    url = 'file://%s' % tmp_path
    rc, result, calls = run(spack_mirror.main, dict(name='local', url=url, type=['binary'], signed=False, verify=True),
                            [(GET, 0, 'mirrors: {}\n', ''),
                             (['mirror', 'add', '--scope', 'site', '--type', 'binary', '--unsigned', 'local', url], 0, '', '')],
                            capsys=capsys)
    assert rc == 0 and result['changed'] and result['reachable'] is True
    assert not any('buildcache' in c for c in calls)


def test_missing_local_folder_is_unreachable(capsys, tmp_path):
    url = 'file://%s/gone' % tmp_path
    rc, result, calls = run(spack_mirror.main, dict(name='local', url=url, verify=True),
                            [(GET, 0, 'mirrors: {}\n', '')], capsys=capsys)
    assert rc == 1 and 'is unreachable: no readable directory %s/gone' % tmp_path in result['msg']


CASES = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), 'test_spack_mirror.yaml')))
SECRET_OPTIONS = ('s3_access_key_secret', 's3_access_token', 'oci_password')


def _fill(value, tmp):
    if isinstance(value, str):
        return value.replace('{tmp}', tmp)
    if isinstance(value, list):
        return [_fill(v, tmp) for v in value]
    if isinstance(value, dict):
        return dict((k, _fill(v, tmp)) for k, v in value.items())
    return value


def _read_scope_file(path):
    """A mirrors.yaml as written for Spack, `mirrors::` (override) read as `mirrors`."""
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, 'a file that may hold a secret must be private'
    with open(path) as f:
        data = yaml.safe_load(f)
    return dict((k.rstrip(':'), v) for k, v in data.items())


def _subset(expected, got, where='result'):
    if isinstance(expected, dict):
        assert isinstance(got, dict), '%s: %r is not a mapping' % (where, got)
        for key, value in expected.items():
            assert key in got, '%s: no %s in %r' % (where, key, got)
            _subset(value, got[key], '%s.%s' % (where, key))
    else:
        assert expected == got, '%s: expected %r, got %r' % (where, expected, got)


class Recorder(module_runner.CommandScript):
    """The expected commands of one case, in order, with their environments and files checked."""

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd)
        assert self.expected, 'unexpected command: %r' % (cmd,)
        step = self.expected.pop(0)
        assert cmd[:3] == [SPACK, '--color', 'never'], cmd
        got = cmd[3:]
        assert ('scope' in step) == (got[0] == '-C'), 'only a probe runs with a scratch scope: %r' % got
        if 'scope' in step:
            _subset(step['scope'], _read_scope_file(os.path.join(got[1], 'mirrors.yaml')), 'probe scope')
            got = got[2:]
        if 'file' in step:
            path, got = got[-1], got[:-1]
            assert _read_scope_file(path) == step['file']
        assert got == step['args']
        env = kwargs.get('environ_update') or {}
        assert env.get('LC_ALL') == 'C'
        for key, value in (step.get('env') or {}).items():
            assert env.get(key) == value, '%s=%r expected in the environment of %r' % (key, value, got)
        for key in step.get('no_env') or ():
            assert key not in env, '%s must not be in the environment of %r' % (key, got)
        return step.get('rc', 0), step.get('out', ''), step.get('err', '')


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_secrets_per_spack_version(case, capsys, tmp_path):
    tmp = str(tmp_path)
    for name, (before, after) in (case.get('files') or {}).items():
        path = tmp_path / name
        path.write_text('mirrors: {}\n')
        path.chmod(int(before, 8))
    args = dict(case['input'])
    diff = args.pop('_ansible_diff', False)
    steps = _fill(case['commands'], tmp)
    version = tuple(case['spack'])
    with mock.patch('ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version',
                    return_value=(version, '.'.join(str(v) for v in version))), \
            mock.patch.object(module_runner, 'CommandScript', Recorder):
        rc, result, calls = run(spack_mirror.main, args, steps, diff=diff, capsys=capsys)
    _subset(_fill(case['output'], tmp), result)
    assert (rc != 0) == bool(case['output'].get('failed'))
    secrets = [args[k] for k in SECRET_OPTIONS if args.get(k)]
    secrets += list((args.get('spack_secret_env') or {}).values())
    shown = [' '.join(c) for c in calls] + [' '.join(c) for c in result.get('cmd') or []]
    for secret in secrets:
        assert not any(secret in line for line in shown), 'secret %r in a command line' % secret
    for name, (before, after) in (case.get('files') or {}).items():
        assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == int(after, 8)
