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
import json
import os
import signal
import subprocess
import time

import pytest

from helpers.ansible import BIN, ROOT, explain, run_playbook
from helpers.spack_dag import counts
from integration.test_deploy import ENV, make_site


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    return make_site(tmp_path_factory, spack)


def runs_dir(site):
    return os.path.join(site['base'], 'data', 'runs', 'selftest')


def events_of(path):
    """The complete, valid lines of a progress file (a corrupted line fails the test)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith('\n')]


def run_files(site):
    return sorted(glob.glob(os.path.join(runs_dir(site), '*.jsonl')))


def summary(site):
    with open(os.path.join(site['base'], 'data', 'deployments', 'selftest.json')) as f:
        return json.load(f)


def built(site):
    return counts(os.path.join(site['vars']['spack_root'], 'var', 'spack', 'environments', 'selftest'))


def start_deploy(site, log, **extra):
    """deploy.yml in the background, in a process group of its own (what a terminal's Ctrl-C signals)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               WIZARD_PROGRESS_REPORTS='false', PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    env.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    out = open(log, 'w')
    return subprocess.Popen([os.path.join(BIN, 'ansible-playbook'), 'playbooks/deploy.yml', '-e',
                             json.dumps(dict(site['vars'], **extra))], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


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


def meta_of(progress):
    with open(progress[:-len('.jsonl')] + '.json') as f:
        return json.load(f)


def test_interrupted_then_followed_and_adopted(site, tmp_path):
    extra = dict(spack_install_tree=os.path.join(site['base'], 'store-int'), domain_pack_use_buildcache='never')
    play = start_deploy(site, str(tmp_path / 'first.log'), **extra)
    first = wait_building(site, [])
    meta = interrupt(play, first)
    log = open(str(tmp_path / 'first.log')).read()
    assert 'User interrupted execution' in log, log[-3000:]
    assert meta['state'] == 'running' and os.path.exists('/proc/%d' % meta['spack_pid']), 'Spack goes on'

    # Another deploy that will not wait: it fails at once (before any Spack install), naming the run.
    t0 = time.time()
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], wizard_lock_wait=False, **extra), env=ENV)
    assert proc.returncode != 0 and meta['run_id'] in proc.stdout, explain(proc)
    assert 'pid %d' % meta['pid'] in proc.stdout and 'deploy_cancel=true' in proc.stdout, explain(proc)
    assert len(run_files(site)) == 1, 'it started no install of its own'
    assert meta_of(first)['state'] == 'running', (time.time() - t0, 'the install went on meanwhile')

    # The rerun follows the running install (its packages show), then counts, pushes and records it.
    rerun = start_deploy(site, str(tmp_path / 'rerun.log'), **extra)
    wait_for(str(tmp_path / 'rerun.log'), 'waiting for selftest: install run %s' % meta['run_id'], rerun)
    os.killpg(meta['pgid'], signal.SIGCONT)
    rerun.wait(timeout=900)
    out = open(str(tmp_path / 'rerun.log')).read()
    assert rerun.returncode == 0, out[-5000:]
    assert 'built from source' in out.split('waiting for selftest', 1)[1], out[-5000:]
    done = summary(site)
    n = built(site)['built']
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
    extra = dict(spack_install_tree=os.path.join(site['base'], 'store-two'), domain_pack_use_buildcache='only')
    before = run_files(site)
    plays = [start_deploy(site, str(tmp_path / ('%d.log' % i)), **extra) for i in (1, 2)]
    for play in plays:
        play.wait(timeout=900)
    logs = [open(str(tmp_path / ('%d.log' % i))).read() for i in (1, 2)]
    assert [p.returncode for p in plays] == [0, 0], logs
    new = sorted(set(run_files(site)) - set(before))
    assert len(new) == 2
    installed = [e for path in new for e in events_of(path)
                 if e['event'] == 'installed' and e.get('origin') in ('cache', 'source')]
    names = [e['package'] for e in installed]
    runtime = built(site)['runtime']
    assert len(names) == len(set(names)) == runtime, names
    # Both summaries are right: between them every package once from the cache, the rest already there.
    shown = [log.split('PLAY RECAP')[0].rsplit('selftest: ', 1)[1].split(' s;')[0] for log in logs]
    got = sorted((int(s.split(' from cache')[0]), int(s.split('built, ')[1].split(' already')[0])) for s in shown)
    assert sum(c for c, _a in got) == runtime and all(c + a == runtime for c, a in got), shown


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
