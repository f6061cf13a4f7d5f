"""spack_env and spack_install logic with run_command mocked: exact commands, nothing written on errors."""
import json
import os
import shutil
from unittest import mock

import pytest

from ansible_collections.research.wizard.plugins.modules import spack_env, spack_env_info, spack_install
from helpers.module_runner import run
from helpers.spack_fixtures import DIR, err, out


@pytest.fixture(autouse=True)
def version():
    with mock.patch('ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version',
                    return_value=((0, 23, 0), '0.23.0.dev0')):
        yield


def test_unknown_package_writes_nothing(tmp_path, capsys):
    env_dir = tmp_path / 'env'
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['nosuchpkg']), [
        (['add', 'nosuchpkg'], 1, '', err('err-env-add-nosuchpkg')),
    ], capsys=capsys)
    assert rc == 1
    assert result['msg'].startswith('spack add nosuchpkg failed (rc=1): no such package: nosuchpkg')
    assert result['error_kind'] == 'unknown-package'
    assert calls[0][3] == '-D' and calls[0][4] != str(env_dir), 'validation runs in a scratch copy'
    assert not env_dir.exists()


def test_malformed_spec(tmp_path, capsys):
    rc, result, calls = run(spack_env.main, dict(path=str(tmp_path / 'e'), specs=['zlib@@1']), [
        (['add', 'zlib@@1'], 3, '', err('err-env-add-malformed')),
    ], capsys=capsys)
    assert rc == 1 and result['rc'] == 3 and 'zlib@@1' in result['msg'] and 'fix the spec syntax' in result['msg']


def test_new_env_in_check_mode_writes_nothing(tmp_path, capsys):
    env_dir = tmp_path / 'env'
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['tinyapp'], target='x86_64_v3'), [
        (['add', 'tinyapp'], 0, '', ''),
    ], check_mode=True, diff=True, capsys=capsys)
    assert result['changed'] and not env_dir.exists()
    assert 'target=x86_64_v3' in result['diff']['after']


def test_named_env_absent(tmp_path, capsys):
    env_dir = tmp_path / 'envs' / 'chem'
    env_dir.mkdir(parents=True)
    (env_dir / 'spack.yaml').write_text('spack:\n  specs: [zlib]\n')
    rc, result, calls = run(spack_env.main, dict(name='chem', state='absent'), [
        (['location', '--env', 'chem'], 0, str(env_dir) + '\n', ''),
        (['env', 'remove', '-y', 'chem'], 0, '', ''),
    ], capsys=capsys)
    assert result['changed'] and result['env_path'] == str(env_dir)


def test_named_env_absent_when_missing(capsys):
    rc, result, calls = run(spack_env.main, dict(name='chem', state='absent'), [
        (['location', '--env', 'chem'], 1, '', '==> Error: no such environment'),
    ], capsys=capsys)
    assert not result['changed']


def _env_with_lock(tmp_path):
    env_dir = tmp_path / 'env'
    env_dir.mkdir()
    shutil.copy(os.path.join(DIR, 'env-spack.yaml'), str(env_dir / 'spack.yaml'))
    shutil.copy(os.path.join(DIR, 'env-spack.lock.json'), str(env_dir / 'spack.lock'))
    return env_dir


def test_install_plan_in_check_mode(tmp_path, capsys):
    env_dir = _env_with_lock(tmp_path)
    installed = [s for s in json.loads(out('env-find-json')) if s['name'] in ('cmake', 'glibc', 'gmake', 'libtiny', 'gcc-runtime')]
    listing = 'funjglg libtiny@1.0\npto5yzt tinyapp@1.0\n'
    rc, result, calls = run(spack_install.main, dict(env_path=str(env_dir)), [
        (['buildcache', 'list', '--allarch', '-l'], 0, listing, ''),
        (['find', '--json'], 0, json.dumps(installed), ''),
    ], check_mode=True, capsys=capsys)
    plan = result['plan']
    missing = dict((m['name'], m) for m in plan['missing'])
    assert set(missing) == {'tinyapp', 'tinycmake'}
    assert missing['tinyapp']['from_cache'] and not missing['tinycmake']['from_cache']
    assert plan['from_cache'] == 1 and plan['from_source'] == 1 and result['changed']
    assert result['cmd'][-2:] == [str(env_dir), 'install']


def test_install_plan_when_caches_unreachable(tmp_path, capsys):
    env_dir = _env_with_lock(tmp_path)
    rc, result, calls = run(spack_install.main, dict(env_path=str(env_dir), use_buildcache='only'), [
        (['buildcache', 'list', '--allarch', '-l'], 3, '', err('err-unreachable-dead-s3-spec')),
        (['find', '--json'], 0, '[]', ''),
    ], check_mode=True, capsys=capsys)
    assert result['plan']['from_cache'] is None and len(result['plan']['missing']) == 4


def test_env_info(tmp_path, capsys):
    env_dir = _env_with_lock(tmp_path)
    rc, result, calls = run(spack_env_info.main, dict(path=str(env_dir)), [
        (['find', '--json'], 0, out('env-find-json'), ''),
    ], capsys=capsys)
    assert result['counts'] == {'roots': 2, 'specs': 7, 'installed': 7, 'external': 3, 'missing': 0}
    assert not result['changed']


def _concretized_env(env_dir, lock_roots):
    env_dir.mkdir()
    manifest = {'spack': {'specs': ['tinyapp'], 'view': False}}
    (env_dir / 'spack.yaml').write_text(json.dumps(manifest))
    (env_dir / 'spack.lock').write_text(json.dumps({
        '_meta': {'lockfile-version': 5}, 'roots': [{'hash': 'h1', 'spec': s} for s in lock_roots],
        'concrete_specs': {'h1': {'name': 'tinyapp', 'version': '1.0'}}}))
    return manifest


def test_unchanged_concretized_env_runs_no_spack(tmp_path, capsys):
    env_dir = tmp_path / 'env'
    _concretized_env(env_dir, ['tinyapp'])
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['tinyapp'], view=False, concretize=True),
                            [], capsys=capsys)
    assert rc == 0 and not result['changed'] and calls == []
    assert result['concretized']['roots'] == ['tinyapp']


def test_force_or_uncovered_roots_concretize(tmp_path, capsys):
    env_dir = tmp_path / 'env'
    _concretized_env(env_dir, ['zlib'])
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['tinyapp'], view=False, concretize=True),
                            [(['concretize'], 0, '', '')], capsys=capsys)
    assert rc == 0 and len(calls) == 1
    _concretized_env(tmp_path / 'env2', ['tinyapp'])
    rc, result, calls = run(spack_env.main, dict(path=str(tmp_path / 'env2'), specs=['tinyapp'], view=False,
                                                 concretize=True, force=True),
                            [(['concretize', '--force'], 0, '', '')], capsys=capsys)
    assert rc == 0 and len(calls) == 1


def test_changed_settings_reconcretize_with_force(tmp_path, capsys):
    env_dir = tmp_path / 'env'
    _concretized_env(env_dir, ['tinyapp'])
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['tinyapp'], view=False, concretize=True,
                                                 target='x86_64_v3'),
                            [(['concretize', '--force'], 0, '', '')], capsys=capsys)
    assert rc == 0 and len(calls) == 1


def test_new_root_on_a_concretized_env_is_concretized(tmp_path, capsys):
    # The new root is added by `spack add` in the scratch copy, not in the wanted manifest: the
    # unchanged-env shortcut must not skip the concretize that proves it satisfiable.
    env_dir = tmp_path / 'env'
    _concretized_env(env_dir, ['tinyapp'])
    before = (env_dir / 'spack.yaml').read_text()
    rc, result, calls = run(spack_env.main, dict(path=str(env_dir), specs=['libtiny@9.9'], view=False,
                                                 concretize=True),
                            [(['add', 'libtiny@9.9'], 0, '', ''),
                             (['concretize'], 1, '', err('err-spec-unsat-version'))], capsys=capsys)
    assert rc == 1 and [c[5:] for c in calls] == [['add', 'libtiny@9.9'], ['concretize']]
    assert (env_dir / 'spack.yaml').read_text() == before
