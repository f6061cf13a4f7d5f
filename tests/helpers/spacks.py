# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real Spacks the tests run, installed by the project's own `spack` role.

Two generations: the primary one (Spack 1.1.1, what users get) and the compatibility one (0.23).
Each is installed once into tests/output/spacks/<generation>/ (reused by later runs: the role is
idempotent, a re-run takes seconds) from a source named by an environment variable:

| generation | variable | default (what ../shared/spack/setup-offline-spack*.sh prepare) |
| --- | --- | --- |
| primary | WIZARD_SPACK_SOURCE | /opt/spack1 (a git checkout of Spack 1.1.1) |
| primary | WIZARD_SPACK_PACKAGES | /opt/spack1-packages/repos/spack_repo/builtin (spack-packages) |
| primary | WIZARD_SPACK_SOURCE_MIRRORS | /opt/spack1-sources (compiler-wrapper's source), `:`-separated |
| compat | WIZARD_SPACK_COMPAT_SOURCE | /opt/spack (a git checkout of Spack 0.23.0.dev0) |

A source that is absent falls back to the role's own git clone of the pinned release when the
network is up; otherwise the tests that need that Spack are skipped with a one-line reason.
WIZARD_SPACK_COMPAT_SOURCE=none leaves the compatibility generation out.
"""
import contextlib
import fcntl
import functools
import json
import os
import socket
import subprocess

from helpers.ansible import ROOT, explain, run_playbook

OUTPUT = os.path.join(ROOT, 'tests', 'output', 'spacks')
PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'provision_spack.yml')

GENERATIONS = {
    'primary': {'source_var': 'WIZARD_SPACK_SOURCE', 'source': '/opt/spack1',
                'packages_var': 'WIZARD_SPACK_PACKAGES',
                'packages': '/opt/spack1-packages/repos/spack_repo/builtin',
                'mirrors_var': 'WIZARD_SPACK_SOURCE_MIRRORS', 'mirrors': '/opt/spack1-sources'},
    'compat': {'source_var': 'WIZARD_SPACK_COMPAT_SOURCE', 'source': '/opt/spack'},
}


def _network_up(host='github.com', port=443, timeout=3):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def is_git(path):
    return os.path.isdir(path) and (os.path.exists(os.path.join(path, '.git')) or
                                    os.path.exists(os.path.join(path, 'HEAD')))


def local_sources(generation):
    """{'source', 'packages', 'mirrors'} this generation's variables name (defaults filled in)."""
    g = GENERATIONS[generation]
    out = {'source': os.environ.get(g['source_var'], g['source'])}
    if 'packages_var' in g:
        out['packages'] = os.environ.get(g['packages_var'], g['packages'])
        out['mirrors'] = [m for m in os.environ.get(g['mirrors_var'], g['mirrors']).split(':') if m]
    return out


def source_vars(generation):
    """The spack role's variables that install this generation here, or (None, reason)."""
    g = GENERATIONS[generation]
    local = local_sources(generation)
    source = local['source']
    if source == 'none':
        return None, '%s=none' % g['source_var']
    role_vars = {}
    if os.path.exists(source):
        role_vars.update(spack_source='local', spack_local_source=source)
    elif generation == 'primary' and _network_up():
        role_vars.update(spack_source='git')  # the role's pinned release
    else:
        return None, ('no Spack source for the %s tests: %s=%s does not exist and there is no network '
                      '(see ../shared/spack/README.md)' % (generation, g['source_var'], source))
    if generation == 'primary':
        packages = local['packages']
        if os.path.exists(packages):
            role_vars.update(spack_packages_source='local', spack_packages_path=packages)
        elif not _network_up():
            return None, '%s=%s does not exist and there is no network' % (g['packages_var'], packages)
        role_vars['spack_source_mirrors'] = [m for m in local['mirrors'] if os.path.exists(m)]
    return role_vars, None


def role_vars(generation, spack_root, spack_venv):
    """Variables for the spack role (or a deploy.yml run) that install this generation at spack_root."""
    base, reason = source_vars(generation)
    if base is None:
        return None, reason
    return dict(base, spack_root=spack_root, spack_venv=spack_venv, spack_install_prereqs=False,
                spack_profile_script=''), None


@contextlib.contextmanager
def _locked(path):
    with open(path, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=None)
def provisioned(generation='primary'):
    """{'root', 'python', 'version', 'generation', 'vars'} of a Spack installed by the role, or
    {'reason': why not}. Once per test session; the install itself is kept between sessions."""
    home = os.path.join(OUTPUT, generation)
    wanted, reason = role_vars(generation, os.path.join(home, 'spack'), os.path.join(home, 'venv'))
    if wanted is None:
        return {'reason': reason}
    os.makedirs(home, exist_ok=True)
    with _locked(home + '.lock'):  # pytest-xdist workers share the install
        proc = run_playbook(PLAYBOOK, wanted, env={'SPACK_DISABLE_LOCAL_CONFIG': None}, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError('the spack role could not install the %s Spack:\n%s' % (generation, explain(proc)))
    root = wanted['spack_root']
    python = os.path.join(wanted['spack_venv'], 'bin', 'python')
    out = subprocess.run([os.path.join(root, 'bin', 'spack'), '--version'], capture_output=True, text=True,
                         env=dict(os.environ, SPACK_PYTHON=python), check=True).stdout
    with open(os.path.join(home, 'provisioned.json'), 'w') as f:
        json.dump(wanted, f, indent=1)
    # Spack's user cache (repository indexes, no configuration) for tests that only read packages:
    # building the index of the builtin repository costs minutes on Spack 1.x, once per install.
    return {'root': root, 'python': python, 'version': out.split()[0], 'generation': generation, 'vars': wanted,
            'user_cache': os.path.join(home, 'user-cache')}


def spack_or_skip(generation='primary'):
    import pytest
    spack = provisioned(generation)
    if 'reason' in spack:
        pytest.skip(spack['reason'])
    return spack
