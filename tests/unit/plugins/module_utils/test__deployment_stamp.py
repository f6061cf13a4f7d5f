# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The up-to-date check of a deployment: every change Spack would act on makes it stale."""
import json
import os
import sys

import pytest

from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import (
    compare, config_files, config_scopes, expand_path, make_stamp, repo_paths, store_database)


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


# Spack 1.1's own etc/spack/include.yaml and etc/spack/defaults/include.yaml (as in /opt/spack1).
INCLUDE_1_1 = '''include:
  - name: "user"
    path_override_env_var: SPACK_USER_CONFIG_PATH
    path: "~/.spack"
    optional: true
    prefer_modify: true
    when: '"SPACK_DISABLE_LOCAL_CONFIG" not in env'
  - name: "site"
    path: "$spack/etc/spack/site"
    optional: true
  - name: "system"
    path_override_env_var: SPACK_SYSTEM_CONFIG_PATH
    path: "/etc/spack"
    optional: true
    when: '"SPACK_DISABLE_LOCAL_CONFIG" not in env'
'''
DEFAULTS_INCLUDE_1_1 = '''include:
  - path: "${platform}"
    optional: true
  - path: base
'''


@pytest.fixture
def host11(tmp_path):
    """A Spack 1.1 tree: scopes from include.yaml, a site scope with a mirror and the builtin repository
    of a spack-packages git checkout, a user scope with a package repository outside git."""
    root = tmp_path / 'spack'
    (root / 'lib' / 'spack' / 'spack').mkdir(parents=True)
    (root / 'lib' / 'spack' / 'spack' / '__init__.py').write_text('__version__ = "1.1.1"\n')
    etc = root / 'etc' / 'spack'
    for d in ('defaults/base', 'defaults/linux', 'site'):
        (etc / d).mkdir(parents=True)
    (etc / 'include.yaml').write_text(INCLUDE_1_1)
    (etc / 'defaults' / 'include.yaml').write_text(DEFAULTS_INCLUDE_1_1)
    (etc / 'defaults' / 'base' / 'repos.yaml').write_text(
        'repos:\n  builtin:\n    git: https://github.com/spack/spack-packages.git\n    branch: releases/v2025.11\n')
    (etc / 'defaults' / 'linux' / 'modules.yaml').write_text('modules: {}\n')
    packages = tmp_path / 'spack-packages'
    builtin = packages / 'repos' / 'spack_repo' / 'builtin'
    (builtin / 'packages' / 'zlib').mkdir(parents=True)
    (builtin / 'repo.yaml').write_text('repo:\n  namespace: builtin\n  api: v2.2\n')
    (builtin / 'packages' / 'zlib' / 'package.py').write_text('# zlib\n')
    (packages / '.git' / 'refs' / 'heads').mkdir(parents=True)
    (packages / '.git' / 'HEAD').write_text('ref: refs/heads/releases/v2025.11\n')
    (packages / '.git' / 'refs' / 'heads' / 'releases').mkdir()
    (packages / '.git' / 'refs' / 'heads' / 'releases' / 'v2025.11').write_text('1111\n')
    (etc / 'site' / 'repos.yaml').write_text('repos:\n  builtin: %s\n' % builtin)
    (etc / 'site' / 'mirrors.yaml').write_text(
        'mirrors:\n  offline-sources:\n    url: file:///opt/spack1-sources\n    binary: false\n    source: true\n')
    user = tmp_path / 'user'
    mine = tmp_path / 'testrepo' / 'spack_repo' / 'wizardtest'
    (mine / 'packages' / 'libtiny').mkdir(parents=True)
    (mine / 'packages' / 'libtiny' / 'package.py').write_text('# libtiny\n')
    user.mkdir()
    (user / 'repos.yaml').write_text('repos:\n  wizardtest: %s\n' % mine)
    env = tmp_path / 'env'
    env.mkdir()
    (env / 'spack.yaml').write_text('spack: {specs: [tinyapp]}\n')
    env_vars = {'SPACK_USER_CONFIG_PATH': str(user), 'SPACK_SYSTEM_CONFIG_PATH': str(tmp_path / 'system')}
    stamp = make_stamp('digest-1', str(root), env_vars, str(env), [])
    return dict(root=root, etc=etc, user=user, env=env, packages=packages, builtin=builtin, mine=mine,
                system=tmp_path / 'system', env_vars=env_vars, stamp=json.loads(json.dumps(stamp)))


def test_scopes_of_spack_1_1_come_from_include_yaml(host11, tmp_path):
    etc = str(host11['etc'])
    assert config_scopes(str(host11['root']), host11['env_vars'], home='/home/u') == [
        etc + '/defaults', etc + '/defaults/linux', etc + '/defaults/base', etc,
        str(host11['user']), etc + '/site', str(host11['system'])]
    assert config_scopes(str(host11['root']), {}, home='/home/u')[4:] == ['/home/u/.spack', etc + '/site', '/etc/spack']
    assert config_scopes(str(host11['root']), {'SPACK_DISABLE_LOCAL_CONFIG': '1'})[3:] == [etc, etc + '/site'], \
        'the user and system scopes are left out as their `when:` says'


def test_unchanged_1_1_host_is_current(host11):
    assert check(host11) == (True, 'nothing changed since the last deployment')
    recorded = host11['stamp']['host']
    assert 'config:%s/site/mirrors.yaml' % host11['etc'] in recorded
    assert 'repo:%s git_ref' % host11['builtin'] in recorded, 'the spack-packages checkout is fingerprinted'
    assert 'repo:%s files' % host11['mine'] in recorded, 'a repository outside git by its files'


def _new_commit_in_packages(h):
    (h['packages'] / '.git' / 'refs' / 'heads' / 'releases' / 'v2025.11').write_text('2222\n')


def _touch_recipe(h):
    path = h['mine'] / 'packages' / 'libtiny' / 'package.py'
    path.write_text('# libtiny, version 2\n')
    os.utime(str(path), ns=(1, 1))


@pytest.mark.parametrize('change, expected', [
    (lambda h: (h['etc'] / 'site' / 'mirrors.yaml').unlink(), 'etc/spack/site/mirrors.yaml changed'),
    (lambda h: (h['etc'] / 'site' / 'config.yaml').write_text('config: {build_jobs: 2}\n'),
     'etc/spack/site/config.yaml changed'),
    (lambda h: (h['etc'] / 'config.yaml').write_text('config: {}\n'), 'etc/spack/config.yaml changed'),
    (lambda h: (h['etc'] / 'defaults' / 'base' / 'repos.yaml').write_text('repos: {}\n'),
     'defaults/base/repos.yaml changed'),
    (lambda h: (h['etc'] / 'defaults' / 'linux' / 'modules.yaml').write_text('modules: {x: 1}\n'),
     'defaults/linux/modules.yaml changed'),
    (lambda h: (h['user'] / 'packages.yaml').write_text('packages: {}\n'), 'user/packages.yaml changed'),
    (lambda h: (h['system'].mkdir(), (h['system'] / 'mirrors.yaml').write_text('mirrors: {}\n')),
     'system/mirrors.yaml changed'),
    (lambda h: (h['etc'] / 'include.yaml').write_text(INCLUDE_1_1.replace('$spack/etc/spack/site', '/srv/site')),
     'etc/spack/include.yaml changed'),
    (_new_commit_in_packages, 'package repository %(builtin)s git_ref changed'),
    (lambda h: (h['packages'] / '.git' / 'HEAD').write_text('3333\n'), 'package repository %(builtin)s git_head changed'),
    (_touch_recipe, 'package repository %(mine)s files changed'),
])
def test_each_change_of_a_1_1_host_is_seen(host11, change, expected):
    change(host11)
    current, reason = check(host11)
    assert not current and expected % host11 in reason, reason


def test_a_user_scope_spack_does_not_read_is_not_fingerprinted(host11):
    env_vars = dict(host11['env_vars'], SPACK_DISABLE_LOCAL_CONFIG='1')
    host11['stamp'] = make_stamp('digest-1', str(host11['root']), env_vars, str(host11['env']), [])
    (host11['user'] / 'packages.yaml').write_text('packages: {}\n')
    assert check(host11, env_vars=env_vars)[0]
    (host11['etc'] / 'site' / 'mirrors.yaml').unlink()
    assert check(host11, env_vars=env_vars) == (False, 'Spack configuration %s/site/mirrors.yaml changed' % host11['etc'])


def test_an_older_stamp_is_stale(host11):
    host11['stamp']['version'] = 1
    assert check(host11) == (False, 'the record is from another version of research.wizard')


@pytest.mark.parametrize('path, expected', [
    ('$spack/etc/spack/site', '/s/etc/spack/site'),
    ('${spack}/etc/spack/site', '/s/etc/spack/site'),
    ('$spacks/x', '/base/$spacks/x'),
    ('~/.spack', '/home/u/.spack'),
    ('${platform}', '/base/linux'),
    ('base', '/base/base'),
    ('/etc/spack', '/etc/spack'),
])
def test_paths_expand_as_spack_writes_them(path, expected, monkeypatch):
    monkeypatch.setattr(sys, 'platform', 'linux')
    assert expand_path(path, '/s', '/base', '/home/u') == expected


def test_repositories_of_both_generations(tmp_path):
    old = tmp_path / 'old' / 'repos.yaml'
    new = tmp_path / 'new' / 'repos.yaml'
    old.parent.mkdir()
    new.parent.mkdir()
    old.write_text('repos:\n- $spack/var/spack/repos/builtin\n- /srv/repo\n')
    new.write_text('repos:\n  builtin: {git: https://x, destination: ~/pkgs}\n  gitonly: {git: https://y}\n  mine: rel\n')
    assert repo_paths([str(old), str(new), str(tmp_path / 'config.yaml')], '/s', '/home/u') == sorted([
        str(tmp_path / 'new' / 'rel'), '/home/u/pkgs', '/s/var/spack/repos/builtin', '/srv/repo'])
