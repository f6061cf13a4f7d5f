"""spack_mirror: exact Spack commands for each case, idempotence from Spack's stored config."""
from unittest import mock

import pytest

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


def test_s3_unchanged_and_secret_masked(capsys):
    rc, result, calls = run(spack_mirror.main, S3_ARGS, [(GET, 0, STORED_S3, '')], capsys=capsys)
    assert not result['changed']
    assert result['mirror']['access_pair'] == ['********', '********']


def test_s3_changed_endpoint_is_readded(capsys):
    args = dict(S3_ARGS, s3_endpoint_url='http://y')
    rc, result, calls = run(spack_mirror.main, args, [
        (GET, 0, STORED_S3, ''),
        (['mirror', 'remove', '--scope', 'site', 'cache'], 0, '', ''),
        (['mirror', 'add', '--scope', 'site', '--type', 'binary', '--unsigned', '--s3-access-key-id', 'a',
          '--s3-access-key-secret', 'sekrit', '--s3-endpoint-url', 'http://y', 'cache', 's3://b/p'], 0, '', ''),
    ], diff=True, capsys=capsys)
    assert result['changed'] and result['changed_keys'] == ['endpoint_url']
    assert result['diff']['before']['endpoint_url'] == 'http://x'
    flat = ' '.join(' '.join(c) for c in result['cmd'])
    assert '--s3-access-key-secret ********' in flat and 'sekrit' not in flat


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
