"""spack_buildcache: key publishing from recorded real output of both Spacks, and the `aws` CLI kept away
from S3-compatible stores on Spack 1.x (cases in test_spack_buildcache.yaml)."""
import os
import shutil
import subprocess
from unittest import mock

import pytest
import yaml

from ansible_collections.research.wizard.plugins.modules import spack_buildcache
from helpers import module_runner
from helpers.module_runner import SPACK, run

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', '..', '..', 'fixtures', 'spack-keys')
CASES = yaml.safe_load(open(os.path.join(HERE, 'test_spack_buildcache.yaml')))
FAKE_AWS = '#!/bin/sh\necho "fake aws must not run: $*" >&2\nexit 1\n'


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


SHIMS = []


def _first_aws(env):
    """'fake' or 'shim': which `aws` a Spack with this environment finds first, told apart by running it."""
    found = shutil.which('aws', path=env.get('PATH', os.environ.get('PATH', '')))
    SHIMS.append(found)
    assert found, 'no aws on the PATH Spack gets'
    proc = subprocess.run([found, 's3', 'sync', 's3://b/p', '/nonexistent'], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        assert proc.stdout == '' and proc.stderr == '', 'the shim must find nothing, so Spack falls back to boto3'
        return 'shim'
    assert 'fake aws must not run' in proc.stderr
    return 'fake'


class Recorder(module_runner.CommandScript):
    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd)
        assert self.expected, 'unexpected command: %r' % (cmd,)
        step = self.expected.pop(0)
        assert cmd[:3] == [SPACK, '--color', 'never'], cmd
        got = cmd[3:]
        assert bool(step.get('scope')) == (got[0] == '-C'), 'only a key listing runs with one mirror: %r' % got
        if step.get('scope'):
            with open(os.path.join(got[1], 'mirrors.yaml')) as f:
                assert len(yaml.safe_load(f)['mirrors:']) == 1
            got = got[2:]
        assert got == step['args']
        env = kwargs.get('environ_update') or {}
        assert env.get('LC_ALL') == 'C'
        for key, value in (step.get('env') or {}).items():
            assert env.get(key) == value
        if 'aws' in step:
            assert _first_aws(env) == step['aws']
        out = _fixture(step['out_file']) if 'out_file' in step else step.get('out', '')
        err = _fixture(step['err_file']) if 'err_file' in step else step.get('err', '')
        return step.get('rc', 0), out, err


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_buildcache_per_spack_version(case, capsys, tmp_path):
    args = dict(case['input'])
    check_mode = args.pop('_ansible_check_mode', False)
    if any('aws' in step for step in case['commands']):
        fake = tmp_path / 'aws'
        fake.write_text(FAKE_AWS)
        fake.chmod(0o755)
        args['spack_env_vars'] = {'PATH': '%s:%s' % (tmp_path, os.environ.get('PATH', ''))}
    version = tuple(case['spack'])
    with mock.patch('ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version',
                    return_value=(version, '.'.join(str(v) for v in version))), \
            mock.patch.object(module_runner, 'CommandScript', Recorder):
        rc, result, calls = run(spack_buildcache.main, args, case['commands'], check_mode=check_mode, capsys=capsys)
    assert rc == 0, result
    for key, value in case['output'].items():
        assert result[key] == value, (key, result[key])
    for secret in (args.get('spack_secret_env') or {}).values():
        assert not any(secret in ' '.join(c) for c in calls + result['cmd'])
    assert not [path for path in SHIMS if not path.startswith(str(tmp_path)) and os.path.exists(path)], \
        'the shim is removed after the run'
    del SHIMS[:]


def test_fingerprints_from_both_layouts():
    assert spack_buildcache._fetched_fingerprints(_fixture('spack-0.23-debug-keys-force.stderr')) == \
        ['86A8E96742BB1903B586906D978FD438752B0EF7']
    assert spack_buildcache._fetched_fingerprints(_fixture('spack-1.1.1-debug-keys-force.stderr')) == \
        ['73AFC43CAF543266259DCB681E72E2ABA6DA5D07']
    for name in ('spack-0.23-debug-keys-before-publish.stderr', 'spack-1.1.1-debug-keys-before-publish.stderr'):
        assert spack_buildcache._fetched_fingerprints(_fixture(name)) == []
