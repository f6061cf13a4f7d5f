# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`molecule test` of the collection's scenarios (extensions/molecule/), run from the collection root
as a user does. localhost installs the tests' own Spack offline from its sources (tests/helpers/spacks.py) and takes several minutes;
aws runs against moto; podman builds a Debian image with debootstrap on first use and runs for about
ten minutes, so it only runs with WIZARD_MOLECULE_PODMAN=1."""
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from helpers.ansible import BIN, ROOT

MOLECULE = os.path.join(BIN, 'molecule')
pytestmark = pytest.mark.skipif(not os.path.exists(MOLECULE),
                                reason='molecule is not installed (pip install molecule==26.10.0)')
ANSI = re.compile(r'\x1b\[[0-9;]*m')


def step_marker(scenario, step, what):
    """Molecule 26 logs `[aws > verify] Executing` without colour, `aws ➜ verify: Executing` with it."""
    return r'%s (?:>|➜) %s(?:\]|:) %s' % (re.escape(scenario), step, what)


def molecule_test(scenario, workdir, timeout, extra_env=None):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), NO_COLOR='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0', WIZARD_MOLECULE_WORKDIR=str(workdir), **(extra_env or {}))
    env.pop('ANSIBLE_CONFIG', None)
    proc = subprocess.run([MOLECULE, 'test', '-s', scenario], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    out = ANSI.sub('', proc.stdout)
    tail = '\n'.join(out.splitlines()[-120:])
    assert proc.returncode == 0, tail
    for step in ('create', 'converge', 'idempotence', 'verify', 'destroy'):
        assert re.search(step_marker(scenario, step, 'Executed: Successful'), out), '%s\n%s' % (step, tail)
    assert not os.path.exists(str(workdir)), 'destroy left %s' % workdir
    return out


def spack_source_env(spack):
    """The sources the tests' own Spack came from: the scenario installs the same Spack offline."""
    v = spack['vars']
    if v.get('spack_source') != 'local':
        pytest.skip('the localhost scenario installs Spack from local sources only')
    return {'WIZARD_SPACK_SOURCE': v['spack_local_source'], 'WIZARD_SPACK_PACKAGES': v.get('spack_packages_path', ''),
            'WIZARD_SPACK_SOURCE_MIRRORS': ':'.join(v.get('spack_source_mirrors') or [])}


def test_localhost(tmp_path, spack):
    out = molecule_test('localhost', tmp_path / 'site', timeout=3600, extra_env=spack_source_env(spack))
    # The converge built the pack from source (live progress lines); the idempotence run built nothing.
    converge, idempotence = re.split(step_marker('localhost', 'idempotence', 'Executing'), out, maxsplit=1)
    for package in ('libtiny', 'tinyapp', 'tinycmake'):
        assert re.search(r'localhost \| \[\d+/\d+\] %s@\S+ built from source' % package, converge), package
    idempotence = re.split(step_marker('localhost', 'verify', 'Executing'), idempotence)[0]
    assert not re.search(r'localhost \| \[\d+/\d+\] \S+ built from source', idempotence)
    assert re.search(r'localhost \| \[\d+/\d+\] tinyapp@\S+ already installed', idempotence)


def test_aws(tmp_path):
    workdir = tmp_path / 'site'
    try:
        out = molecule_test('aws', workdir, timeout=1200)
    finally:
        # Should destroy not have run (a failure before it), stop the moto server it started.
        state = workdir / 'moto.json'
        if state.exists():
            try:
                os.kill(json.loads(state.read_text())['pid'], signal.SIGTERM)
            except OSError:
                pass
    assert 'research-wizard-molecule-aws' in out


@pytest.mark.skipif(os.environ.get('WIZARD_MOLECULE_PODMAN') != '1',
                    reason='podman scenario is opt-in (about 10 minutes, 4 more to build the image): WIZARD_MOLECULE_PODMAN=1')
@pytest.mark.skipif(not all(shutil.which(t) for t in ('podman', 'runc', 'debootstrap')),
                    reason='podman, runc and debootstrap are needed (apt-get install podman runc debootstrap)')
def test_podman(tmp_path, spack):
    out = molecule_test('podman', tmp_path / 'site', timeout=3600, extra_env=spack_source_env(spack))
    assert 'wizard-bookworm' in out
