# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""deploy.yml validates before it touches a host, and --check tells the plan (issue 13, parts 3 and 4).

One site on the real Spack 1.1.1, installed from a local tarball: --check on the fresh spack_root
lists the packages the deploy then builds, hash for hash, and leaves nothing behind; an unknown
domain, a broken site pack and a bad role input change nothing on the deployed host; --check with a
new install tree lists every package as missing there, from the cache the deploy filled."""
import glob
import json
import os
import re
import tempfile

import pytest

from helpers.ansible import explain, run_playbook
from helpers.spack_dag import read_lock
from helpers.spack_sandbox import deploy_vars, make_spack_tarball

ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}
PLAN_LINE = re.compile(r'^\s*"  (?P<name>\S+)@(?P<version>\S+) /(?P<hash>\w{7})  '
                       r'(?P<where>cache|source|cache or source \(unknown\))  (?P<estimate>.*?)",?$')


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    base = str(tmp_path_factory.mktemp('check-site'))
    tarball = make_spack_tarball(spack['vars'].get('spack_local_source') or spack['root'],
                                 os.path.join(base, 'spack-src.tar'))
    history = os.path.join(base, 'build-times.json')
    with open(history, 'w') as f:  # one known build time: the others must show as unknown
        json.dump({'format': 1, 'packages': {'libtiny@1.0': {'seconds': 42.0, 'samples': 1, 'updated': 1}}}, f)
    env = dict(ENV, WIZARD_PROGRESS_HISTORY_FILE=history)
    return {'base': base, 'vars': deploy_vars(base, spack, tarball=tarball), 'env': env}


def snapshot(*roots):
    """Every path under ROOTS with its size and mtime (a missing root is recorded as missing)."""
    out = {}
    for root in roots:
        if not os.path.exists(root):
            out[root] = 'missing'
            continue
        for top, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(top, name)
                st = os.lstat(path)
                out[path] = (st.st_size, st.st_mtime_ns)
    return out


def plan_rows(stdout):
    """The package lines of the printed plan, as dicts (name, version, hash, where, estimate)."""
    return [m.groupdict() for m in map(PLAN_LINE.match, stdout.splitlines()) if m]


def scratch_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), 'wizard-plan-*')))


def host_state(site, tree=None):
    v = site['vars']
    roots = [v['spack_root'], v['domain_pack_data_dir'], v['binary_cache_local_path'],
             v['spack_extra_env_vars']['SPACK_USER_CONFIG_PATH']]
    return snapshot(*(roots + ([tree] if tree else [])))


def lock_nodes(site):
    lock = read_lock(os.path.join(site['vars']['spack_root'], 'var', 'spack', 'environments', 'selftest'))
    return dict((h[:7], s['name']) for h, s in lock['concrete_specs'].items() if not s.get('external'))


def test_check_on_a_fresh_root_then_deploy(site):
    before, scratch = host_state(site), scratch_dirs()
    proc = run_playbook('playbooks/deploy.yml', site['vars'], env=site['env'], check=True)
    assert proc.returncode == 0, explain(proc)
    assert host_state(site) == before and scratch_dirs() == scratch, 'check mode wrote to the host'
    assert 'Spack 1.1.1 would be installed from the local tarball %s' % site['vars']['spack_local_source'] in proc.stdout
    rows = plan_rows(proc.stdout)
    assert rows and all(r['where'] == 'source' for r in rows), proc.stdout
    estimates = dict((r['name'], r['estimate']) for r in rows)
    assert estimates.pop('libtiny') == '42 s' and set(estimates.values()) == {'unknown'}, estimates
    assert re.search(r'Packages: %d missing in \S+, 0 from cache, %d from source; builds estimated 42 s \+ %d unknown'
                     % (len(rows), len(rows), len(rows) - 1), proc.stdout), proc.stdout

    # The deploy builds exactly what the plan listed, hash for hash.
    proc = run_playbook('playbooks/deploy.yml', site['vars'], env=site['env'])
    assert proc.returncode == 0, explain(proc)
    assert dict((r['hash'], r['name']) for r in rows) == lock_nodes(site), proc.stdout


@pytest.mark.parametrize('case', ['unknown domain', 'broken site pack', 'bad role input'])
def test_bad_inputs_change_nothing(site, case, tmp_path):
    if case == 'unknown domain':
        extra, message = {'domain': 'selftset'}, "unknown domain 'selftset'"
    elif case == 'broken site pack':
        domains = tmp_path / 'domains'
        domains.mkdir()
        with open(os.path.join(os.path.dirname(__file__), '..', '..', 'domains', 'selftest.yml')) as f:
            text = f.read()
        (domains / 'selftest.yml').write_text(text.replace('"tinycmake+fancy"', '"tinycmake+@@fancy"'))
        extra, message = {'domain_pack_domains_dir': str(domains)}, 'tinycmake+@@fancy'
    else:
        extra, message = {'spack_build_jobs': 'many'}, "argument 'spack_build_jobs' is of type"
    before = host_state(site)
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], deploy_force=True, **extra), env=site['env'])
    assert proc.returncode != 0 and message in proc.stdout, explain(proc)
    assert 'TASK [research.wizard.spack' not in proc.stdout, 'a role ran before the inputs were checked'
    assert host_state(site) == before


def test_check_on_a_fresh_install_tree(site):
    tree = os.path.join(site['base'], 'store-new')
    before, scratch = host_state(site, tree), scratch_dirs()
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], spack_install_tree=tree), env=site['env'], check=True)
    assert proc.returncode == 0, explain(proc)
    assert host_state(site, tree) == before and scratch_dirs() == scratch, 'check mode wrote to the host'
    assert 'Spack 1.1.1 is present at %s' % site['vars']['spack_root'] in proc.stdout, proc.stdout
    rows = plan_rows(proc.stdout)
    # Every node of the environment is missing in the new tree (not only those the current tree lacks),
    # and the cache the deploy filled has each one.
    assert dict((r['hash'], r['name']) for r in rows) == lock_nodes(site), proc.stdout
    assert all(r['where'] == 'cache' for r in rows), proc.stdout
    assert 'Packages: %d missing in %s, %d from cache, 0 from source' % (len(rows), tree, len(rows)) in proc.stdout
