"""The up-to-date check of a deployment: every change Spack would act on makes it stale."""
import json
import os

import pytest

from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import (
    compare, config_files, config_scopes, make_stamp, store_database)


@pytest.fixture
def host(tmp_path):
    """A Spack root, a user scope, an environment and a store with two installed prefixes."""
    root = tmp_path / 'spack'
    (root / 'lib' / 'spack' / 'spack').mkdir(parents=True)
    (root / 'lib' / 'spack' / 'spack' / '__init__.py').write_text('__version__ = "0.23.0.dev0"\n')
    (root / 'etc' / 'spack' / 'linux').mkdir(parents=True)
    (root / 'etc' / 'spack' / 'config.yaml').write_text('config: {}\n')
    (root / 'etc' / 'spack' / 'linux' / 'compilers.yaml').write_text('compilers: []\n')
    user = tmp_path / 'user'
    (user / 'bootstrap' / 'store').mkdir(parents=True)
    (user / 'bootstrap' / 'store' / 'big.json').write_text('{}')
    env = tmp_path / 'env'
    env.mkdir()
    (env / 'spack.yaml').write_text('spack: {specs: [tinyapp]}\n')
    (env / 'spack.lock').write_text('{"roots": []}\n')
    store = tmp_path / 'store'
    (store / '.spack-db').mkdir(parents=True)
    (store / '.spack-db' / 'index.json').write_text('{"database": {}}')
    prefixes = []
    for name in ('linux-x86_64/gcc-12/tinyapp-1.0-aaaa', 'linux-x86_64/gcc-12/libtiny-1.0-bbbb'):
        (store / name / '.spack').mkdir(parents=True)
        (store / name / '.spack' / 'spec.json').write_text('{}')
        prefixes.append(str(store / name))
    env_vars = {'SPACK_USER_CONFIG_PATH': str(user), 'SPACK_SYSTEM_CONFIG_PATH': str(tmp_path / 'nosystem')}
    stamp = make_stamp('digest-1', str(root), env_vars, str(env), prefixes + ['/usr'])
    return dict(root=root, user=user, env=env, store=store, prefixes=prefixes, env_vars=env_vars,
                stamp=json.loads(json.dumps(stamp)))


def check(h, digest='digest-1', env_vars=None):
    return compare(h['stamp'], digest, str(h['root']), h['env_vars'] if env_vars is None else env_vars)


def test_unchanged_host_is_current(host):
    assert check(host) == (True, 'nothing changed since the last deployment')
    assert host['stamp']['prefixes'] == sorted(host['prefixes']), 'externals (no .spack) are not recorded'
    assert host['stamp']['database'] == str(host['store'] / '.spack-db' / 'index.json')


def test_no_stamp_or_other_inputs(host):
    assert compare(None, 'd', str(host['root']), {}) == (False, 'no successful deployment recorded')
    current, reason = check(host, digest='digest-2')
    assert not current and 'variables, domain pack or collection changed' in reason


@pytest.mark.parametrize('change, expected', [
    (lambda h: (h['root'] / 'etc' / 'spack' / 'config.yaml').write_text('config: {build_jobs: 2}\n'),
     'etc/spack/config.yaml changed'),
    (lambda h: (h['root'] / 'etc' / 'spack' / 'mirrors.yaml').write_text('mirrors: {}\n'),
     'etc/spack/mirrors.yaml changed'),
    (lambda h: (h['root'] / 'etc' / 'spack' / 'linux' / 'compilers.yaml').write_text('compilers: [x]\n'),
     'linux/compilers.yaml changed'),
    (lambda h: (h['user'] / 'packages.yaml').write_text('packages: {}\n'), 'user/packages.yaml changed'),
    (lambda h: (h['root'] / 'lib' / 'spack' / 'spack' / '__init__.py').write_text('__version__ = "1.1.0"\n'),
     'spack changed'),
    (lambda h: (h['env'] / 'spack.yaml').write_text('spack: {specs: [tinyapp, zlib]}\n'), 'env:spack.yaml changed'),
    (lambda h: (h['env'] / 'spack.lock').unlink(), 'env:spack.lock changed'),
    (lambda h: (h['store'] / '.spack-db' / 'index.json').write_text('{"database": {"installs": {}}}'),
     'database changed'),
    (lambda h: os.remove(os.path.join(h['prefixes'][0], '.spack', 'spec.json')), 'install prefix missing'),
])
def test_each_change_is_seen(host, change, expected):
    change(host)
    current, reason = check(host)
    assert not current and expected in reason, reason


def test_a_pull_in_the_spack_checkout_is_seen(host):
    git = host['root'] / '.git'
    (git / 'refs' / 'heads').mkdir(parents=True)
    (git / 'HEAD').write_text('ref: refs/heads/develop\n')
    (git / 'refs' / 'heads' / 'develop').write_text('1111\n')
    host['stamp'] = make_stamp('digest-1', str(host['root']), host['env_vars'], str(host['env']), host['prefixes'])
    assert check(host)[0]
    (git / 'refs' / 'heads' / 'develop').write_text('2222\n')
    assert check(host) == (False, 'spack_git_ref changed')


def test_other_spack_environment_variables(host):
    current, reason = check(host, env_vars=dict(host['env_vars'], SPACK_PYTHON='/other/python'))
    assert not current and reason == 'spack_env_vars changed'


def test_caches_in_the_user_scope_are_not_configuration(host):
    (host['user'] / 'bootstrap' / 'store' / 'big.json').write_text('{"changed": 1}')
    assert check(host)[0]
    assert all('bootstrap' not in p for p in config_files(str(host['user'])))


def test_local_config_can_be_disabled(tmp_path):
    assert config_scopes('/s', {'SPACK_DISABLE_LOCAL_CONFIG': '1'}) == ['/s/etc/spack/defaults', '/s/etc/spack']
    scopes = config_scopes('/s', {}, home='/home/u')
    assert scopes == ['/s/etc/spack/defaults', '/s/etc/spack', '/etc/spack', '/home/u/.spack']


def test_store_database_is_the_nearest_one(host, tmp_path):
    assert store_database(host['prefixes']) == str(host['store'] / '.spack-db' / 'index.json')
    assert store_database([str(tmp_path / 'nowhere' / 'pkg')]) is None
