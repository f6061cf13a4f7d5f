"""deployment_stamp: record asks Spack once for the env's prefixes; check runs no Spack at all."""
import json

from ansible_collections.research.wizard.plugins.modules import deployment_stamp
from helpers.module_runner import run


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
    return dict(path=str(tmp_path / 'd' / 'selftest.stamp.json'), env='selftest', env_path=str(env),
                inputs_digest='abc', summary=str(tmp_path / 'summary.json'),
                spack_env_vars={'SPACK_DISABLE_LOCAL_CONFIG': '1'}), str(prefix)


def test_record_then_check(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    find = (['find', '--format', '{prefix}'], 0, '%s\n/usr\n' % prefix, '')
    rc, result, calls = run(deployment_stamp.main, dict(args, state='record'), [find], check_mode=True, capsys=capsys)
    assert rc == 0 and result['changed'] and not (tmp_path / 'd').exists(), 'check mode writes nothing'
    rc, result, calls = run(deployment_stamp.main, dict(args, state='record'), [find], capsys=capsys)
    assert rc == 0 and result['changed'] and result['prefixes'] == 1
    assert calls[0][3:5] == ['-e', 'selftest']
    rc, result, calls = run(deployment_stamp.main, dict(args, state='record'), [find], capsys=capsys)
    assert not result['changed'], 'the same deployment records the same stamp'

    rc, result, calls = run(deployment_stamp.main, dict(args, state='check'), [], capsys=capsys)
    assert calls == [] and result['current'] and result['summary'] == {'env': 'selftest', 'rc': 0}
    assert not result['changed']

    rc, result, calls = run(deployment_stamp.main, dict(args, state='check', inputs_digest='other'), [], capsys=capsys)
    assert not result['current'] and result['summary'] is None
    (tmp_path / 'env' / 'spack.yaml').write_text('spack: {specs: [tinyapp, zlib]}\n')
    rc, result, calls = run(deployment_stamp.main, dict(args, state='check'), [], capsys=capsys)
    assert not result['current'] and result['reason'] == 'env:spack.yaml changed'


def test_record_without_the_environment_fails_clearly(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    del args['env_path']
    rc, result, calls = run(deployment_stamp.main, dict(args, state='record'),
                            [(['location', '--env', 'selftest'], 1, '', '==> Error: no such environment')],
                            capsys=capsys)
    assert rc == 1 and 'No Spack environment selftest to record' in result['msg']


def test_digest_is_required(tmp_path, capsys):
    args, prefix = _site(tmp_path)
    rc, result, calls = run(deployment_stamp.main, dict(args, inputs_digest=''), [], capsys=capsys)
    assert rc == 1 and 'inputs_digest' in result['msg']
