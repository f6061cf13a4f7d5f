# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away Spack configuration around the real Spack, so tests never touch its site config.

The tests' real Spack (tests/helpers/spacks.py) keeps its site scope (compilers, externals, offline bootstrap); the
sandbox's user scope (SPACK_USER_CONFIG_PATH) moves the install tree, environments, caches, stage
and GnuPG home into a temporary directory and adds the project's wizardtest repository and its
source mirror.
"""
import os
import shutil

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTREPO = os.path.join(ROOT, 'tests', 'testrepo')


def make_sandbox(base, spack_root, python=None):
    user = os.path.join(base, 'user-config')
    os.makedirs(user, exist_ok=True)
    config = {'config': {
        # Padding makes what is built here relocatable into any other (shorter) install root.
        'install_tree': {'root': os.path.join(base, 'store'), 'padded_length': 128},
        'environments_root': os.path.join(base, 'envs'),
        'source_cache': os.path.join(base, 'source-cache'),
        'misc_cache': os.path.join(base, 'misc-cache'),
        'build_stage': [os.path.join(base, 'stage')],
        # Re-read cache indexes on every command, whatever the Spack's site config says: the tests push
        # and then install from the cache within seconds.
        'binary_index_ttl': 0,
    }}
    files = {
        'config.yaml': config,
        'repos.yaml': {'repos': [os.path.join(TESTREPO, 'spack_repo', 'wizardtest')]},
        'mirrors.yaml': {'mirrors': {'wizardtest-sources': {
            'url': 'file://' + os.path.join(TESTREPO, 'mirror'), 'binary': False, 'source': True}}},
    }
    for name, data in files.items():
        with open(os.path.join(user, name), 'w') as f:
            yaml.safe_dump(data, f)
    gnupg = os.path.join(base, 'gpg')
    os.makedirs(gnupg, mode=0o700, exist_ok=True)
    env_vars = {
        'SPACK_USER_CONFIG_PATH': user,
        'SPACK_USER_CACHE_PATH': os.path.join(base, 'user-cache'),
        'SPACK_GNUPGHOME': gnupg,
    }
    venv_python = python or os.environ.get('SPACK_PYTHON') or spack_root.rstrip('/') + '-venv/bin/python'
    if os.path.exists(venv_python):
        env_vars['SPACK_PYTHON'] = venv_python
    return {'base': base, 'spack_root': spack_root, 'env_vars': env_vars,
            'store': config['config']['install_tree']['root'], 'store2': os.path.join(base, 'store2'),
            'testrepo': TESTREPO}


needs_patchelf = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf not on PATH (needed to relocate cached binaries)")


def make_spack_tarball(spack_root, tarball):
    """An air-gapped Spack source: the real Spack's files without git history, installs or site config.

    etc/spack/include.yaml stays: on Spack >= 1.1 it defines the user, site and system scopes (without
    it `--scope site` is an invalid choice); the site's settings (etc/spack/*.yaml on 0.2x,
    etc/spack/site/*.yaml on 1.1) and the spack role's state file go.
    """
    import tarfile
    parent, name = os.path.split(spack_root.rstrip('/'))
    dropped = tuple(name + '/' + d for d in ('.git', 'opt', 'var/spack/cache', 'var/spack/environments'))
    etc = name + '/etc/spack/'

    def keep(info):
        path = info.name
        if path in dropped or path.startswith(tuple(d + '/' for d in dropped)) or '/__pycache__' in path:
            return None
        if path.startswith(etc) and info.isfile():
            rest = path[len(etc):]
            site_setting = (rest.endswith(('.yaml', '.json')) and rest != 'include.yaml'
                            and (rest.count('/') == 0 or (rest.startswith('site/') and rest.count('/') == 1)))
            if site_setting:
                return None
        return info

    with tarfile.open(tarball, 'w') as tar:
        tar.add(os.path.join(parent, name), arcname=name, filter=keep)
    return tarball


def seed_user_cache(spack, user_cache):
    """USER_CACHE (a SPACK_USER_CACHE_PATH) starts as a copy of the tests' Spack's: the builtin repository's
    indexes (the same repository), which the role's compiler and external detection would build again,
    about two minutes of CPU per site."""
    if os.path.isdir(spack.get('user_cache', '')) and not os.path.exists(user_cache):
        shutil.copytree(spack['user_cache'], user_cache, symlinks=True)


def deploy_vars(base, spack, domain='selftest', tarball=None):
    """deploy.yml variables for a self-contained site under `base`: the spack role installs the same
    Spack as the tests' own `spack` (tests/helpers/spacks.py), from its local source (a depth-1 git
    clone) or from `tarball`, and shares its venv (clingo, boto3) instead of building another."""
    os.makedirs(os.path.join(base, 'user'), exist_ok=True)
    seed_user_cache(spack, os.path.join(base, 'user-cache'))
    site = dict(spack['vars'], spack_root=os.path.join(base, 'spack'))
    if tarball:
        site.update(spack_source='local', spack_local_source=tarball)
    return dict(site, **{
        'domain': domain,
        'spack_extra_env_vars': {'SPACK_USER_CONFIG_PATH': os.path.join(base, 'user'),
                                 'SPACK_USER_CACHE_PATH': os.path.join(base, 'user-cache'),
                                 'SPACK_GNUPGHOME': os.path.join(base, 'gpg')},
        'binary_cache_local_path': os.path.join(base, 'cache'),
        'domain_pack_data_dir': os.path.join(base, 'data'),
    })
