# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_install_runs: the merge of adopted runs (data-driven, test__install_runs.yaml), the env lock held by
real processes, claims made once, run listing (active, died, orphaned, pending) and a real cancel."""
import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.research.wizard.plugins.module_utils import _install_runs as runs
from ansible_collections.research.wizard.plugins.module_utils._spack_install import install
from helpers.module_runner import load_cases

CASES = load_cases(__file__)


def _run(spec):
    if spec is None:
        return None
    packages = [dict(package=p[0], version='1', hash=p[1], state=p[2], origin=p[3], seconds=1.0, log=None, message=None,
                     **({'prefix': p[4]} if len(p) > 4 else {}))
                for p in spec['packages']]
    return dict(run_id=spec['run_id'], state=spec.get('state', 'finished'), cancelled=spec.get('cancelled', False),
                rc=spec['rc'], died=spec.get('state') == 'died', elapsed=2.0, started=spec.get('started', 0.0),
                progress_file='/r/%s.jsonl' % spec['run_id'], packages=packages)


@pytest.mark.parametrize('case', CASES, ids=[c['name'] for c in CASES])
def test_merge(case):
    # When Spack wrote each prefix, and whether from a cache: [seconds, from_cache] per prefix.
    installed_at = dict((k, tuple(v)) for k, v in (case.get('installed_at') or {}).items())
    got = runs.merge(_run(case['own']), [_run(a) for a in case['adopted']], record=installed_at.get)
    assert got['counts'] == case['counts']
    assert got['rc'] == case['rc']
    assert got['source'] == case['counts']['source'] and got['failed_count'] == case['counts']['failed']
    if 'from' in case:
        assert dict((p['package'], p['run_id']) for p in got['packages']) == case['from']
    if 'failures' in case:
        assert [f['package'] for f in got['failures']] == case['failures']
    assert got['cancelled'] is case.get('cancelled', False)
    assert case.get('msg_has', '') in got['msg']
    assert [a['run_id'] for a in got['adopted']] == [a['run_id'] for a in case['adopted']]


HOLD = '''
import sys, time
sys.path[:0] = %r
from ansible_collections.research.wizard.plugins.module_utils._install_runs import RunRecord
r = RunRecord(sys.argv[1], sys.argv[2], env='demo')
r.begin(lambda e: None)
print('locked', flush=True)
time.sleep(float(sys.argv[3]))
r.end(0)
'''


def hold(tmp_path, run_dir, run_id, seconds=30):
    """Another process that holds the env's lock as run RUN_ID, for SECONDS."""
    script = tmp_path / 'hold.py'
    script.write_text(HOLD % (sys.path,))
    proc = subprocess.Popen([sys.executable, str(script), run_dir, run_id, str(seconds)], stdout=subprocess.PIPE,
                            universal_newlines=True)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_install_record_reads_what_spack_wrote(tmp_path):
    assert runs.install_record(str(tmp_path / 'nothing')) is None
    os.makedirs(str(tmp_path / 'built' / '.spack'))
    os.makedirs(str(tmp_path / 'cached' / '.spack'))
    (tmp_path / 'cached' / '.spack' / 'binary_distribution').write_text('')
    when, from_cache = runs.install_record(str(tmp_path / 'built'))
    assert abs(when - time.time()) < 60 and from_cache is False
    assert runs.install_record(str(tmp_path / 'cached'))[1] is True
    # A padded install tree, as Spack prints its prefixes.
    padded = tmp_path / 'store' / '__spack_path_placeholder__' / '__spack_path_place' / 'linux-x86_64_v3' / 'libtiny-1.0-abc'
    os.makedirs(str(padded / '.spack'))
    shown = str(tmp_path / 'store') + '/[padded-to-128-chars]/linux-x86_64_v3/libtiny-1.0-abc'
    assert runs.real_prefix(shown) == str(padded)
    assert runs.install_record(shown)[1] is False
    assert runs.real_prefix(str(tmp_path / 'store') + '/[padded-to-128-chars]/linux-x86_64_v3/gone-1.0-x') is None


def test_lock_holder_listed_and_lock_wait_false_refused(tmp_path):
    run_dir = str(tmp_path / 'runs')
    proc = hold(tmp_path, run_dir, 'r1')
    try:
        listed, holder = runs.list_runs(run_dir)
        assert runs.lock_held(run_dir)
        assert holder['run_id'] == 'r1' and holder['pid'] == proc.pid and holder['state'] == 'running'
        assert 'install run r1 (pid %d' % proc.pid in runs.holder_text(holder)
        record = runs.RunRecord(run_dir, 'r2', lock_wait=False)
        with pytest.raises(runs.LockBusy) as exc:
            record.begin(lambda e: None)
        assert exc.value.holder['run_id'] == 'r1'
        assert not os.path.exists(os.path.join(run_dir, 'r2.json')), 'a run that never started leaves no file'
    finally:
        proc.kill()
        proc.wait()
    # Killed outright: the kernel let go of the lock; the run is "died", not active.
    listed, holder = runs.list_runs(run_dir, heartbeat_timeout=-1)
    assert holder is None and not runs.lock_held(run_dir)
    assert [(r['run_id'], r['state'], r['adoptable']) for r in listed] == [('r1', 'died', True)]


def test_waiting_run_writes_who_holds_the_lock(tmp_path):
    run_dir = str(tmp_path / 'runs')
    proc = hold(tmp_path, run_dir, 'r1', seconds=1.5)
    events = []
    record = runs.RunRecord(run_dir, 'r2')
    t0 = time.time()
    record.begin(events.append)
    waited = time.time() - t0
    record.release()
    proc.wait()
    assert waited > 0.5
    assert [e['event'] for e in events] == ['waiting', 'locked']
    assert events[0]['holder']['run_id'] == 'r1' and 'install run r1' in events[0]['message']


def test_claim_once_and_orphans(tmp_path):
    run_dir = str(tmp_path / 'runs')
    runs.ensure_dir(run_dir)
    now = time.time()
    for run_id, state, beat in (('a', 'finished', now - 100), ('b', 'finished', now), ('c', 'cancelled', None)):
        files = runs.RunFiles(run_dir, run_id)
        runs.write_json(files.meta, dict(run_id=run_id, state=state, pid=999999, started=now - 200, rc=0))
        if beat is not None:
            runs.heartbeat(files, {'controller': 'ctl', 'playbook_pid': 42})
            os.utime(files.heartbeat, (beat, beat))
    listed, holder = runs.list_runs(run_dir, now=now, heartbeat_timeout=30)
    by_id = dict((r['run_id'], r) for r in listed)
    assert holder is None
    assert by_id['a']['adoptable'] and by_id['a']['controller'] == 'ctl'
    assert not by_id['b']['adoptable'] and not by_id['b']['owner_gone'], 'its playbook still polls it'
    assert by_id['c']['adoptable'], 'never polled: its age is since its start'
    files = runs.RunFiles(run_dir, 'a')
    assert runs.claim(files, {'by_run': 'x'}) is True
    assert runs.claim(files, {'by_run': 'y'}) is False
    assert json.load(open(files.claim))['by_run'] == 'x'
    listed, _holder = runs.list_runs(run_dir, now=now, heartbeat_timeout=30)
    assert [r['run_id'] for r in listed if r['adoptable']] == ['c']
    assert runs.prune(run_dir, keep=2) == ['a'] and not os.path.exists(files.meta)


@pytest.mark.parametrize('run_id', ['', '../x', 'a/b', 'x.jsonl', '-x'])
def test_bad_run_ids(run_id):
    with pytest.raises(ValueError):
        runs.RunFiles('/r', run_id)


def test_cancel_stops_spack_and_the_run_ends_cancelled(tmp_path):
    """A real install (a stand-in Spack that sleeps, with a child like a build) cancelled as the role
    does: Spack's process group gets SIGTERM, the run writes its end and lets go of the lock."""
    spack = tmp_path / 'spack'
    spack.write_text('#!/bin/sh\necho "==> Installing libtiny-1.0-aaaaaaa [1/2]"\nsleep 60 &\nwait\n')
    spack.chmod(0o755)
    run_dir = str(tmp_path / 'runs')
    script = tmp_path / 'run.py'
    script.write_text('''
import sys, os
sys.path[:0] = %r
from ansible_collections.research.wizard.plugins.module_utils._install_runs import RunRecord
from ansible_collections.research.wizard.plugins.module_utils._spack_install import install
record = RunRecord(%r, 'r1', env='demo')
result = install([%r], dict(os.environ), progress_file=record.files.progress, retries=2, record=record)
print(result['rc'], result['cancelled'], result['attempts'])
''' % (sys.path, run_dir, str(spack)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, universal_newlines=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        listed, holder = runs.list_runs(run_dir)
        if holder and holder.get('pgid'):
            break
        time.sleep(0.1)
    assert holder and holder['pgid'], 'the install never started Spack'
    stopped, how = runs.cancel(run_dir, holder, timeout=20)
    out = proc.communicate(timeout=30)[0].split()
    assert (stopped, how) == (True, 'term')
    assert out == ['-15', 'True', '1'], 'cancelled: not retried'
    meta = runs.read_json(os.path.join(run_dir, 'r1.json'))
    assert meta['state'] == 'cancelled' and meta['rc'] == -15
    with open(os.path.join(run_dir, 'r1.jsonl')) as f:
        last = json.loads(f.readlines()[-1])
    assert last['event'] == 'finished' and last['cancelled'] is True
    assert not runs.lock_held(run_dir)
    result = runs.run_result(runs.RunFiles(run_dir, 'r1'))
    assert result['cancelled'] and result['state'] == 'cancelled' and not result['died']


def test_install_without_a_run_is_unchanged(tmp_path):
    """No record: no lock, no meta, Spack in the caller's session (the module used on its own)."""
    spack = tmp_path / 'spack'
    spack.write_text('#!/bin/sh\nexit 0\n')
    spack.chmod(0o755)
    result = install([str(spack)], dict(os.environ), progress_file=str(tmp_path / 'p.jsonl'))
    assert result['rc'] == 0 and result['cancelled'] is False
    assert sorted(os.listdir(str(tmp_path))) == ['p.jsonl', 'spack']
