"""A throw-away Spack configuration around the real Spack, so tests never touch its site config.

The real Spack at $SPACK_ROOT keeps its site scope (compilers, externals, offline bootstrap); the
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
    }}
    files = {
        'config.yaml': config,
        'repos.yaml': {'repos': [os.path.join(TESTREPO, 'repo')]},
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
