# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One install per environment, ever (issue 13, part 2), with the real Spack 1.1.1 and deploy.yml:
Ctrl-C (SIGINT to the playbook's process group) mid-build, then a deploy with wizard_lock_wait=false
fails at once naming the running install, and a plain rerun follows it to its end, adopts it and
counts, pushes and records each package once; two deploys of one env at once install each package
once, with both summaries right; deploy_cancel=true stops an orphaned install cleanly and records
what it built. One site; the install trees differ per case."""
import glob
import os
import signal
import time

import pytest

from helpers.ansible import explain, run_playbook
from helpers.install_runs import (ENV, assert_two_deploys_install_once, dag, events_of, meta_of, run_files,
                                  start_deploy, summary)
from integration.test_deploy import make_site


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    return make_site(tmp_path_factory, spack)


def wait_building(site, before, built=0, timeout=600):
    """The new run's progress file once Spack builds a package from source, after BUILT others."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in set(run_files(site)) - set(before):
            events = events_of(path)
            done = [i for i, e in enumerate(events) if e['event'] == 'installed' and e.get('origin') == 'source']
            if len(done) >= built and any(e['event'] == 'building' for e in events[done[built - 1] + 1 if built else 0:]):
                return path
        time.sleep(0.2)
    raise AssertionError('no build started')


def interrupt(play, progress):
    """Ctrl-C the playbook while its install builds; the install goes on, stopped (SIGSTOP) so that
    it is still running whenever the next deploy gets there. Returns the run's meta."""
    meta = meta_of(progress)
    os.killpg(meta['pgid'], signal.SIGSTOP)
    os.killpg(play.pid, signal.SIGINT)
    play.wait(timeout=60)
    return meta


def wait_for(path, text, proc, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        with open(path) as f:
            if text in f.read():
                return
        time.sleep(0.2)
    raise AssertionError('%r never appeared in %s' % (text, path))


def test_interrupted_then_followed_and_adopted(site, tmp_path):
    extra = dict(spack_install_tree=os.path.join(site['base'], 'store-int'), domain_pack_use_buildcache='never')
    play = start_deploy(site, str(tmp_path / 'first.log'), **extra)
    first = wait_building(site, [])
    meta = interrupt(play, first)
    log = open(str(tmp_path / 'first.log')).read()
    assert 'User interrupted execution' in log, log[-3000:]
    assert meta['state'] == 'running' and os.path.exists('/proc/%d' % meta['spack_pid']), 'Spack goes on'

    # The rerun follows the running install (its packages show), then counts, pushes and records it.
    # Meanwhile another deploy that will not wait fails at once (before any Spack install), naming the run.
    rerun = start_deploy(site, str(tmp_path / 'rerun.log'), **extra)
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], wizard_lock_wait=False, **extra), env=ENV)
    assert proc.returncode != 0 and meta['run_id'] in proc.stdout, explain(proc)
    assert 'pid %d' % meta['pid'] in proc.stdout and 'deploy_cancel=true' in proc.stdout, explain(proc)
    assert len(run_files(site)) == 1, 'it started no install of its own'
    assert meta_of(first)['state'] == 'running', 'the install was stopped, not ended'
    wait_for(str(tmp_path / 'rerun.log'), 'waiting for selftest: install run %s' % meta['run_id'], rerun)
    os.killpg(meta['pgid'], signal.SIGCONT)
    rerun.wait(timeout=900)
    out = open(str(tmp_path / 'rerun.log')).read()
    assert rerun.returncode == 0, out[-5000:]
    assert 'built from source' in out.split('waiting for selftest', 1)[1], out[-5000:]
    done = summary(site)
    n = dag(site)['built']
    assert done['counts']['source'] == n and done['counts']['already'] == 0, done
    assert done['pushed'] == n and [a['run_id'] for a in done['adopted']] == [meta['run_id']], done
    assert meta_of(first)['state'] == 'finished'
    # Each package was installed by one Spack process, once.
    source = [e['package'] for path in run_files(site) for e in events_of(path)
              if e['event'] == 'installed' and e.get('origin') == 'source']
    assert len(source) == len(set(source)) == n, source


def test_two_deploys_at_once(site, tmp_path):
    """From the cache the first test filled, into a fresh tree: one install of each package. (After the
    first test: the site's Spack is set up and its cache filled; two first-time setups of one Spack at
    once are another matter.)"""
    if not glob.glob(os.path.join(site['vars']['binary_cache_local_path'], '*')):
        pytest.skip('needs the site and cache of test_interrupted_then_followed_and_adopted (run the whole file)')
    assert_two_deploys_install_once(site, tmp_path, os.path.join(site['base'], 'store-two'))


def test_cancel_stops_an_orphaned_install(site, tmp_path):
    extra = dict(spack_install_tree=os.path.join(site['base'], 'store-cancel'), domain_pack_use_buildcache='never',
                 domain_pack_poll_wait=1)
    play = start_deploy(site, str(tmp_path / 'first.log'), **extra)
    progress = wait_building(site, run_files(site), built=1)  # one package built, the next building
    meta = interrupt(play, progress)
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], deploy_cancel=True, **extra), env=ENV)
    assert proc.returncode == 0, explain(proc)
    assert 'Stopped install run %s' % meta['run_id'] in proc.stdout, explain(proc)
    stopped = meta_of(progress)
    assert stopped['state'] == 'cancelled' and stopped['rc'] == -signal.SIGTERM
    assert not os.path.exists('/proc/%d' % meta['spack_pid'])
    events = events_of(progress)
    assert events[-1]['event'] == 'finished' and events[-1]['cancelled'] is True
    done = summary(site)
    source = [e for e in events if e['event'] == 'installed' and e.get('origin') == 'source']
    assert done['cancelled'] is True and done['counts']['source'] == len(source) >= 1, done
    # What it built is in the cache (pushed now, or already there from the first test: same hashes).
    cached = ' '.join(glob.glob(os.path.join(site['vars']['binary_cache_local_path'], '**', '*'), recursive=True))
    assert all(e['hash'] in cached for e in source), (source, done['pushed'])
    assert 'Deployed' not in proc.stdout.split('PLAY RECAP')[0].split('Cancelled')[-1], 'the host ended there'
