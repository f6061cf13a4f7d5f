# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""deploy.yml / status.yml / teardown.yml end to end: a Spack installed by the spack role from a local
tarball of the real Spack (1.1.1; the cache round trip also on 0.23), the selftest pack built, pushed to a cache (local folder, then S3 on
moto), installed again into fresh install roots from the cache only, an install killed midway and
resumed, and a teardown that leaves no environment."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import boto3
import pytest

from helpers.ansible import ROOT, explain, recap, run_playbook
from helpers.install_runs import ENV, assert_two_deploys_install_once, dag, run_files
from helpers.spack_sandbox import deploy_vars, make_spack_tarball
from helpers.spacks import spack_or_skip


def make_site(tmp_path_factory, spack):
    """Paths of one deployment site and the vars every run passes (Spack from a local tarball of the
    tests' own Spack: the air-gapped route)."""
    base = str(tmp_path_factory.mktemp('site'))
    tarball = make_spack_tarball(spack['vars']['spack_local_source'] if spack['vars'].get('spack_local_source')
                                 else spack['root'], os.path.join(base, 'spack-src.tar'))
    return {'base': base, 'vars': deploy_vars(base, spack, tarball=tarball)}


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    return make_site(tmp_path_factory, spack)


def deploy(site, **extra):
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], **extra), env=ENV)
    assert proc.returncode == 0, explain(proc)
    with open(os.path.join(site['base'], 'data', 'deployments', 'selftest.json')) as f:
        return proc, json.load(f)


def non_external(summary):
    return [p for p in summary['packages'] if p['origin'] != 'external']


def test_local_cache_round_trip(site):
    proc, first = deploy(site)
    # Neither a warning nor a deprecation: both used to come with every deploy (duplicate YAML keys,
    # the stand-in play's host pattern).
    assert 'WARNING]' not in proc.stdout + proc.stderr, explain(proc)
    built, runtime = dag(site)['built'], dag(site)['runtime']
    assert first['rc'] == 0
    assert first['counts']['source'] == built and first['pushed'] == built, (first, dag(site))
    # The progress callback showed each package, in the order Spack installed them, and its summary
    # table has the counts spack_install returned.
    with open(run_files(site)[-1]) as f:
        installed = [e['package'] for e in map(json.loads, f) if e['event'] == 'installed' and e['origin'] == 'source']
    shown = [line.split('] ', 1)[1].split('@')[0] for line in proc.stdout.splitlines()
             if line.startswith('localhost | [') and 'built from source' in line]
    assert shown == installed and len(shown) == built, proc.stdout
    table = proc.stdout.split('SPACK INSTALL SUMMARY', 1)[1].splitlines()
    header = next(l for l in table if l.startswith('host')).split()
    values = next(l for l in table if l.startswith('localhost')).split()
    row = {}
    for key, value in zip(header, values):
        row.setdefault(key, value)  # the last header, "cache saved", is two words
    for key in ('cache', 'source', 'already', 'external'):
        assert int(row[key]) == first['counts'][key], (row, first['counts'])

    # A fresh install root: everything from the cache, nothing built.
    store2 = os.path.join(site['base'], 'store2')
    proc, second = deploy(site, spack_install_tree=store2, domain_pack_use_buildcache='only')
    assert second['counts']['source'] == 0 and second['counts']['cache'] == runtime, (second, dag(site))
    assert all(p['origin'] == 'cache' for p in non_external(second)), second['packages']
    assert os.path.isdir(store2)

    # Nothing left to do: the stamp of the last deploy says so without any role running; changed=0.
    proc, third = deploy(site, spack_install_tree=store2, domain_pack_use_buildcache='only')
    assert recap(proc.stdout)['localhost']['changed'] == 0, explain(proc)
    assert 'nothing to do' in proc.stdout and 'TASK [research.wizard.spack' not in proc.stdout, proc.stdout
    assert third == second, 'the summary of the deploy that did the work stays'

    # Through every role anyway: they too change nothing, and Spack finds everything installed.
    proc, forced = deploy(site, spack_install_tree=store2, domain_pack_use_buildcache='only', deploy_force=True)
    assert recap(proc.stdout)['localhost']['changed'] == 0, explain(proc)
    assert forced['counts']['already'] == runtime

    # Another input (here the install tree) is another deployment: the roles run again.
    proc, elsewhere = deploy(site, spack_install_tree=os.path.join(site['base'], 'store-elsewhere'),
                             domain_pack_use_buildcache='only')
    assert 'nothing to do' not in proc.stdout and elsewhere['counts']['cache'] == runtime


def test_killed_install_resumes(site):
    """The install killed outright midway (module, Spack and its builds, playbook: no end written), then
    a rerun: it adopts the dead run, so what that run built counts once, as built, and is pushed."""
    store = os.path.join(site['base'], 'store-kill')
    # A cache of its own: the site's has every package already (the same hashes), and only what a cache
    # lacks is pushed.
    extra = dict(spack_install_tree=store, domain_pack_use_buildcache='never',
                 binary_cache_local_path=os.path.join(site['base'], 'cache-kill'))
    before = run_files(site)
    cmd_vars = json.dumps(dict(site['vars'], **extra))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    env.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    play = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), 'playbooks/deploy.yml',
                             '-e', cmd_vars], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # Wait until the first package has been built, then kill the install (module and Spack) midway.
    deadline = time.time() + 600
    meta = None
    while time.time() < deadline:
        events = []
        for progress in set(run_files(site)) - set(before):
            with open(progress) as f:
                events = [json.loads(l) for l in f if l.endswith('\n')]
            if any(e['event'] == 'installed' and e.get('origin') == 'source' for e in events):
                with open(progress[:-len('.jsonl')] + '.json') as f:
                    meta = json.load(f)
                break
        if meta:
            break
        time.sleep(0.2)
    assert meta, 'the install never got going'
    os.killpg(meta['pgid'], signal.SIGKILL)  # Spack has a session of its own: it and its builds
    os.kill(meta['pid'], signal.SIGKILL)
    os.killpg(play.pid, signal.SIGKILL)
    play.wait()
    done_before = [e for e in events if e['event'] == 'installed' and e.get('origin') == 'source']

    proc, resumed = deploy(site, **extra)
    assert resumed['rc'] == 0 and len(done_before) >= 1
    assert [a['run_id'] for a in resumed['adopted']] == [meta['run_id']], resumed['adopted']
    assert resumed['counts']['source'] == dag(site)['built'] and resumed['counts']['already'] == 0, resumed['counts']
    assert resumed['pushed'] == dag(site)['built']


def test_status_and_teardown(site):
    proc = run_playbook('playbooks/status.yml', dict(site['vars']), env=ENV)
    assert proc.returncode == 0, explain(proc)
    # status only reads: mirrors through spack_mirror_info, nothing in check mode reported as a change.
    assert recap(proc.stdout)['localhost']['changed'] == 0, explain(proc)
    assert '"selftest"' in proc.stdout and '"missing": 0' in proc.stdout, proc.stdout
    assert '"wizard-cache": true' in proc.stdout, proc.stdout
    assert '"last_deploy"' in proc.stdout and '"cache_hit_rate"' in proc.stdout

    proc = run_playbook('playbooks/teardown.yml', dict(site['vars']), env=ENV)
    assert proc.returncode == 0, explain(proc)
    assert not os.path.exists(os.path.join(site['vars']['spack_root'], 'var', 'spack', 'environments', 'selftest'))
    assert not os.path.exists(os.path.join(site['base'], 'data', 'deployments', 'selftest.json'))
    proc = run_playbook('playbooks/teardown.yml', dict(site['vars']), env=ENV)
    assert proc.returncode == 0 and recap(proc.stdout)['localhost']['changed'] == 0, explain(proc)


def test_s3_cache_round_trip(site, moto_endpoint):
    boto3.client('s3', endpoint_url=moto_endpoint, region_name='us-east-1', aws_access_key_id='testing',
                 aws_secret_access_key='testing').create_bucket(Bucket='wizard-it')
    s3 = dict(cache='s3', binary_cache_s3_bucket='wizard-it', binary_cache_s3_endpoint_url=moto_endpoint,
              binary_cache_s3_access_key_id='testing', binary_cache_s3_access_key_secret='testing')
    # Built from source into a fresh root, pushed signed to S3 ...
    proc, built = deploy(site, spack_install_tree=os.path.join(site['base'], 'store-s3-build'), **s3)
    assert built['counts']['source'] == dag(site)['built'] and built['pushed'] == dag(site)['built'], built
    # ... and installed from S3 only into another fresh root, signatures verified.
    proc, cached = deploy(site, spack_install_tree=os.path.join(site['base'], 'store-s3'),
                          domain_pack_use_buildcache='only', **s3)
    assert cached['counts']['cache'] == dag(site)['runtime'] and cached['counts']['source'] == 0
    assert all(p['origin'] == 'cache' for p in non_external(cached))
    assert 'testing' not in proc.stdout.replace('wizard-it', '')


def test_unreachable_s3_cache_is_skipped(site):
    # A dead S3 endpoint must not break the deployment: warned about and left out.
    proc, summary = deploy(site, cache='s3', binary_cache_s3_bucket='nobody', binary_cache_s3_endpoint_url='http://127.0.0.1:9',
                           binary_cache_s3_access_key_id='testing', binary_cache_s3_access_key_secret='testing',
                           spack_install_tree=os.path.join(site['base'], 'store2'), domain_pack_use_buildcache='auto')
    assert 'is unreachable' in proc.stdout + proc.stderr
    assert summary['rc'] == 0 and summary['cache'] == ''


@pytest.fixture(scope='module')
def compat_site(tmp_path_factory):
    return make_site(tmp_path_factory, spack_or_skip('compat'))


def test_compat_cache_round_trip(compat_site):
    """The compatibility Spack (0.23): built from source and pushed, then into a fresh install root
    from the cache only."""
    proc, first = deploy(compat_site)
    built, runtime = dag(compat_site)['built'], dag(compat_site)['runtime']
    assert first['rc'] == 0 and first['counts']['source'] == built and first['pushed'] == built, first
    proc, second = deploy(compat_site, spack_install_tree=os.path.join(compat_site['base'], 'store2'),
                          domain_pack_use_buildcache='only')
    assert second['counts']['source'] == 0 and second['counts']['cache'] == runtime, second
    assert all(p['origin'] == 'cache' for p in non_external(second)), second['packages']


def test_compat_two_deploys_at_once(compat_site, tmp_path):
    """The compatibility Spack (0.23): the per-environment lock holds there too."""
    if not glob.glob(os.path.join(compat_site['vars']['binary_cache_local_path'], '*')):
        pytest.skip('needs the cache test_compat_cache_round_trip fills (run the whole file)')
    assert_two_deploys_install_once(compat_site, tmp_path, os.path.join(compat_site['base'], 'store-two'))
