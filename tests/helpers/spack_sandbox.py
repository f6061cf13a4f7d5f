"""A throw-away Spack configuration around the real Spack, so tests never touch its site config.

The real Spack at $SPACK_ROOT keeps its site scope (compilers, externals, offline bootstrap); the
sandbox's user scope (SPACK_USER_CONFIG_PATH) moves the install tree, environments, caches, stage
and GnuPG home into a temporary directory and adds the project's wizardtest repository and its
source mirror.
"""
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTREPO = os.path.join(ROOT, 'tests', 'testrepo')


def make_sandbox(base, spack_root):
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
    venv_python = os.environ.get('SPACK_PYTHON') or spack_root.rstrip('/') + '-venv/bin/python'
    if os.path.exists(venv_python):
        env_vars['SPACK_PYTHON'] = venv_python
    return {'base': base, 'spack_root': spack_root, 'env_vars': env_vars,
            'store': config['config']['install_tree']['root'], 'store2': os.path.join(base, 'store2'),
            'testrepo': TESTREPO}


def real_spack_root():
    root = os.environ.get("SPACK_ROOT", "/opt/spack")
    return root if os.access(os.path.join(root, "bin", "spack"), os.X_OK) else None


needs_spack = pytest.mark.skipif(real_spack_root() is None,
                                 reason="no real Spack at $SPACK_ROOT (default /opt/spack); see ../shared/spack/README.md")
needs_patchelf = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf not on PATH (needed to relocate cached binaries)")


def make_spack_tarball(spack_root, tarball):
    """An air-gapped Spack source: the real Spack's files without git history, installs or site config."""
    parent, name = os.path.split(spack_root.rstrip('/'))
    subprocess.run(['tar', '-C', parent, '-cf', tarball,
                    '--exclude=%s/.git' % name, '--exclude=%s/opt' % name,
                    '--exclude=%s/var/spack/cache' % name, '--exclude=%s/var/spack/environments' % name,
                    '--no-wildcards-match-slash', '--exclude=%s/etc/spack/*.yaml' % name,
                    '--wildcards-match-slash', '--exclude=__pycache__', name], check=True)
    return tarball


def deploy_vars(base, tarball, domain='selftest'):
    """deploy.yml variables for a self-contained site under `base` (Spack from `tarball`)."""
    os.makedirs(os.path.join(base, 'user'), exist_ok=True)
    return {
        'domain': domain,
        'spack_root': os.path.join(base, 'spack'),
        'spack_venv': os.path.join(base, 'spack-venv'),
        'spack_source': 'local',
        'spack_local_source': tarball,
        'spack_install_prereqs': False,
        'spack_profile_script': '',
        'spack_extra_env_vars': {'SPACK_USER_CONFIG_PATH': os.path.join(base, 'user'),
                                 'SPACK_USER_CACHE_PATH': os.path.join(base, 'user-cache'),
                                 'SPACK_GNUPGHOME': os.path.join(base, 'gpg')},
        'binary_cache_local_path': os.path.join(base, 'cache'),
        'domain_pack_data_dir': os.path.join(base, 'data'),
    }
