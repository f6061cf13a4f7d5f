# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""After a deploy, the printed "Use it" command gives a new login shell the pack's programs (a view,
the default; or `spack env activate` + `spack load` through the spack role's login snippet when the
view is off), and teardown.yml removes everything the deploys wrote: check mode lists it and
changes nothing, teardown_uninstall=true uninstalls only what no other environment needs, and with
remove_spack/remove_cache the site is as before the first deploy. Real Spack 1.1.1, one site."""
import json
import os
import shutil
import subprocess

import pytest

from helpers.ansible import explain, recap, run_playbook
from helpers.spack_sandbox import deploy_vars, seed_user_cache

ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}
# The second environment: the same pack without tinycmake, and no view.
OTHER = dict(domain_pack_env='other', wizard_overrides={'remove_specs': ['tinycmake']}, domain_pack_view=False)


def snapshot(base):
    """Every path under BASE (files, links and directories)."""
    out = set()
    for top, dirs, files in os.walk(base):
        for name in dirs + files:
            out.add(os.path.relpath(os.path.join(top, name), base))
    return out


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    """A site whose Spack, venv, data dir, cache and login snippet all live under its base, so a
    snapshot of base shows anything left behind. Its Spack and venv are copies of the tests' own
    (teardown removes them), with the spack role's record of what it set up there, so the deploy skips
    the clone, compiler and external detection and pip, as a re-deploy on a site would."""
    base = str(tmp_path_factory.mktemp('use-site'))
    os.makedirs(os.path.join(base, 'profile.d'))
    site_vars = deploy_vars(base, spack)
    before = snapshot(base)
    venv = os.path.join(base, 'venv')
    shutil.copytree(os.path.dirname(os.path.dirname(spack['python'])), venv, symlinks=True)
    shutil.copytree(spack['root'], site_vars['spack_root'], symlinks=True)
    state_file = os.path.join(site_vars['spack_root'], 'etc', 'spack', 'research-wizard-state.json')
    with open(state_file) as f:
        state = json.load(f)
    state['venv']['path'] = venv
    with open(state_file, 'w') as f:
        json.dump(state, f)
    # The builtin repository's indexes (the same repository as the tests' Spack), for the deploys and
    # for the login shells' `spack load`: building them again costs minutes.
    home = str(tmp_path_factory.mktemp('login-home'))
    seed_user_cache(spack, os.path.join(home, '.spack'))
    site_vars.update(spack_source='existing', spack_venv=venv,
                     spack_profile_script=os.path.join(base, 'profile.d', 'spack.sh'))
    return {'base': base, 'vars': site_vars, 'before': before, 'home': home}


def deploy(site, env='selftest', **extra):
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], **extra), env=ENV)
    assert proc.returncode == 0, explain(proc)
    with open(os.path.join(site['base'], 'data', 'deployments', env + '.json')) as f:
        return proc, json.load(f)


def teardown(site, check=False, **extra):
    proc = run_playbook('playbooks/teardown.yml', dict(site['vars'], **extra), env=ENV, check=check)
    assert proc.returncode == 0, explain(proc)
    return proc


def login_shell(site, command):
    """COMMAND in a new login shell with nothing inherited but HOME."""
    return subprocess.run(['env', '-i', 'HOME=' + site['home'], 'bash', '-l', '-c', command],
                          capture_output=True, text=True, timeout=300, check=False)


def spack_find(site):
    """name -> count of what the site's Spack has installed."""
    env = dict(os.environ, SPACK_PYTHON=site['vars']['spack_venv'] + '/bin/python',
               **site['vars']['spack_extra_env_vars'])
    env.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    out = subprocess.run([os.path.join(site['vars']['spack_root'], 'bin', 'spack'), 'find', '--format', '{name}'],
                         capture_output=True, text=True, env=env, check=True).stdout
    names = out.split()
    return dict((n, names.count(n)) for n in names)


@pytest.fixture(scope='module')
def deployed(site):
    """selftest with its view (the default), then `other` without one, sharing tinyapp and libtiny."""
    proc, first = deploy(site)
    proc_other, other = deploy(site, env='other', **OTHER)
    return {'selftest': (proc, first), 'other': (proc_other, other)}


def test_use_it_with_a_view(site, deployed):
    proc, summary = deployed['selftest']
    script = os.path.join(site['base'], 'data', 'activate', 'selftest.sh')
    assert summary['use_it'] == '. ' + script, summary['use_it']
    assert 'Use it: . ' + script in proc.stdout, proc.stdout
    # No Spack in that shell: the view alone.
    shell = login_shell(site, summary['use_it'] + ' && tinyapp && tinycmake && ! command -v spack')
    assert shell.returncode == 0 and 'hello from libtiny 1.0, 2+2=4' in shell.stdout, (shell.stdout, shell.stderr)
    assert '*** hello from libtiny 1.0 ***' in shell.stdout, shell.stdout


def test_use_it_without_a_view(site, deployed):
    proc, summary = deployed['other']
    profile = site['vars']['spack_profile_script']
    # The login snippet is not in /etc/profile.d here, so the command sources it first.
    assert summary['use_it'] == ". %s && spack env activate other && spack load --first tinyapp" % profile
    assert summary['counts']['source'] == 0, 'everything of other is already installed by selftest'
    assert not os.path.exists(os.path.join(site['base'], 'data', 'activate', 'other.sh'))
    shell = login_shell(site, summary['use_it'] + ' && tinyapp')
    assert shell.returncode == 0 and 'hello from libtiny 1.0, 2+2=4' in shell.stdout, (shell.stdout, shell.stderr)


def test_teardown_check_mode_lists_and_keeps(site, deployed):
    files = snapshot(site['base'])
    proc = teardown(site, check=True, teardown_uninstall=True)
    assert snapshot(site['base']) == files, 'check mode changed files'
    would = proc.stdout.split('Would remove', 1)[1].split('TASK [', 1)[0]
    data = os.path.join(site['base'], 'data')
    for item in ('environment selftest', 'package tinycmake', data + '/deployments/selftest.json',
                 data + '/activate/selftest.sh', data + '/runs/selftest'):
        assert item in would, would
    # What the other environment needs and its files stay.
    for item in ('package tinyapp', 'package libtiny', '/other', data + '/packs/selftest'):
        assert item not in would, would


def test_teardown_uninstalls_only_what_no_other_env_needs(site, deployed):
    before = spack_find(site)
    assert before.get('tinycmake') == 1 and before.get('tinyapp') == 1, before
    teardown(site, teardown_uninstall=True)
    after = spack_find(site)
    assert 'tinycmake' not in after, after
    assert after.get('tinyapp') == 1 and after.get('libtiny') == 1, after
    # The other environment still works as before.
    shell = login_shell(site, deployed['other'][1]['use_it'] + ' && tinyapp')
    assert shell.returncode == 0 and 'hello from libtiny 1.0, 2+2=4' in shell.stdout, (shell.stdout, shell.stderr)
    data = os.path.join(site['base'], 'data')
    assert not os.path.exists(os.path.join(data, 'activate', 'selftest.sh'))
    assert not os.path.exists(os.path.join(data, 'deployments', 'selftest.json'))
    assert os.path.isdir(os.path.join(data, 'packs', 'selftest')), 'other still uses the pack files'


def test_teardown_with_remove_spack_leaves_nothing(site, deployed):
    assert os.path.exists(site['vars']['spack_profile_script'])
    teardown(site, env='other', teardown_uninstall=True, remove_spack=True, remove_cache=True)
    left = snapshot(site['base']) - site['before']
    # Spack's own per-user paths (SPACK_USER_CACHE_PATH, SPACK_GNUPGHOME; ~/.spack by default) are
    # the deploying user's, as outside a test: a teardown leaves a user's caches alone.
    left = set(p for p in left if p.split(os.sep)[0] not in ('user-cache', 'gpg'))
    assert not left, sorted(left)
    # Again: nothing to do.
    proc = teardown(site, env='other', teardown_uninstall=True, remove_spack=True, remove_cache=True)
    assert recap(proc.stdout)['localhost']['changed'] == 0, explain(proc)
