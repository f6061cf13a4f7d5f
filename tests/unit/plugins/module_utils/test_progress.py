# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.research.wizard.plugins.module_utils import _progress as progress

T0 = 1700000000.0


def stream(finished=True, fail=False):
    """A recorded-style event stream: start, 4 queued, already/external/cache/source, finished."""
    events = [
        dict(event='start', total=4, pid=4242, cmd=['spack', 'install'], env='/envs/demo', ts=T0),
    ]
    for name in ('zlib', 'libtiny', 'cmake', 'tinyapp'):
        events.append(dict(event='queued', package=name, version='1.0', ts=T0 + 0.1))
    events += [
        dict(event='installed', package='zlib', version='1.0', origin='external', seconds=0.0, ts=T0 + 0.2),
        dict(event='installed', package='libtiny', version='1.0', origin='already', seconds=0.0, ts=T0 + 0.3),
        dict(event='extracting', package='cmake', version='1.0', origin='cache', hash='abcdefg', ts=T0 + 1.0),
        dict(event='installed', package='cmake', version='1.0', origin='cache', hash='abcdefghijklmnop',
             seconds=3.0, index=3, total=4, ts=T0 + 4.0),
        dict(event='fetching', package='tinyapp', version='1.0', ts=T0 + 4.0),
        dict(event='building', package='tinyapp', version='1.0', origin='source', ts=T0 + 5.0),
    ]
    if fail:
        events.append(dict(event='failed', package='tinyapp', version='1.0', origin='source', seconds=6.0,
                           log='/tmp/tinyapp-build-out.txt', message='Error: make failed', ts=T0 + 10.0))
    elif finished:
        events.append(dict(event='installed', package='tinyapp', version='1.0', origin='source', seconds=6.0,
                           index=4, total=4, ts=T0 + 10.0))
    if finished:
        totals = dict(cache=1, source=0 if fail else 1, already=1, external=1, failed=1 if fail else 0, skipped=0)
        events.append(dict(event='finished', rc=1 if fail else 0, seconds=10.5, totals=totals, ts=T0 + 10.5))
    for seq, event in enumerate(events):
        event['seq'] = seq
    return events


def write(path, events, tail=''):
    with open(path, 'w') as handle:
        for event in events:
            handle.write(json.dumps(event) + '\n')
        handle.write(tail)
    return str(path)


def test_parse_lines_ignores_partial_last_line_and_counts_garbage():
    data = b'{"event": "start", "seq": 0}\nnot json\n[1, 2]\n\n{"event": "queued", "seq": 1, "package": "a"}\n{"event": "inst'
    events, invalid = progress.parse_lines(data)
    assert [e['seq'] for e in events] == [0, 1]
    assert invalid == 2


def test_parse_lines_empty():
    assert progress.parse_lines(b'') == ([], 0)
    assert progress.parse_lines(b'{"event": "start"') == ([], 0)


def test_missing_file_is_not_an_error(tmp_path):
    result = progress.status(str(tmp_path / 'nope.jsonl'), now=T0)
    assert result['exists'] is False
    assert result['finished'] is False
    assert result['events'] == []
    assert result['total'] is None
    assert result['next_since'] == 0
    assert result['eta_seconds'] is None


def test_empty_file(tmp_path):
    path = write(tmp_path / 'p.jsonl', [])
    result = progress.status(path, now=T0)
    assert result['exists'] is True
    assert (result['done'], result['finished'], result['events'], result['in_flight']) == (0, False, [], [])


def test_running_install_aggregate(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(finished=False), tail='{"ts": 1, "event": "insta')
    result = progress.status(path, now=T0 + 8.0)
    assert result['total'] == 4
    assert result['done'] == 3
    assert (result['cache'], result['source'], result['already'], result['external']) == (1, 0, 1, 1)
    assert result['failed_count'] == 0 and result['skipped_count'] == 0
    assert result['in_flight'] == [{'package': 'tinyapp', 'version': '1.0', 'state': 'building',
                                    'origin': 'source', 'elapsed': 4.0}]
    assert result['finished'] is False and result['rc'] is None
    assert result['elapsed'] == 8.0
    assert result['pid'] == 4242 and result['env'] == '/envs/demo'
    assert result['next_since'] == 11
    assert 'packages' not in result
    # one timed package, from the cache (cmake, 3 s); tinyapp builds from source, and no source build
    # was timed yet: unknown (the mean of cache installs said 0 s left through the whole build)
    assert result['eta_seconds'] is None
    # the longer hash replaces the 7-char prefix
    state = progress.ProgressState()
    for event in stream(finished=False):
        state.apply(event)
    assert state.packages['cmake'].hash == 'abcdefghijklmnop'


def test_eta_counts_remaining_packages():
    state = progress.ProgressState()
    events = stream(finished=False)[:9]  # cmake installed (3 s), tinyapp only queued
    for event in events:
        state.apply(event)
    assert state.done() == 3
    # 1 package left x 3 s mean, no parallelism
    assert state.eta(T0 + 4.0) == 3.0


def test_eta_uses_parallelism():
    state = progress.ProgressState()
    state.apply(dict(event='start', total=4, seq=0, ts=T0))
    for seq, name in enumerate(('a', 'b'), 1):
        state.apply(dict(event='building', package=name, seq=seq, ts=T0))
    state.apply(dict(event='installed', package='a', origin='source', seconds=10.0, seq=3, ts=T0 + 10))
    state.apply(dict(event='installed', package='b', origin='source', seconds=10.0, seq=4, ts=T0 + 10))
    # 20 package-seconds in 10 wall seconds: two at a time; 2 left x 10 s / 2
    assert state.eta(T0 + 10) == 10.0


def test_finished_install(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream())
    result = progress.status(path, now=T0 + 100)
    assert result['finished'] is True and result['rc'] == 0 and result['died'] is False
    assert result['done'] == 4 and result['eta_seconds'] == 0.0
    assert result['elapsed'] == 10.5
    assert result['counts'] == dict(cache=1, source=1, already=1, external=1, failed=0, skipped=0)
    names = [p['package'] for p in result['packages']]
    assert names == ['zlib', 'libtiny', 'cmake', 'tinyapp']
    tinyapp = result['packages'][3]
    assert tinyapp['origin'] == 'source' and tinyapp['seconds'] == 6.0 and tinyapp['start'] == 4.0
    cmake = result['packages'][2]
    assert cmake['start'] == 1.0 and cmake['seconds'] == 3.0


def test_failed_install_reports_log(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(fail=True))
    result = progress.status(path, now=T0 + 100)
    assert result['rc'] == 1
    assert result['failed_count'] == 1
    assert result['failures'] == [{'package': 'tinyapp', 'version': '1.0', 'hash': None,
                                   'log': '/tmp/tinyapp-build-out.txt', 'message': 'Error: make failed'}]


def test_since_and_max_events(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream())
    result = progress.status(path, since=9, now=T0)
    assert [e['seq'] for e in result['events']] == [9, 10, 11, 12]
    assert result['events_dropped'] == 0
    result = progress.status(path, since=2, max_events=3, now=T0)
    assert [e['seq'] for e in result['events']] == [10, 11, 12]
    assert result['events_dropped'] == 8
    result = progress.status(path, since=13, now=T0)
    assert result['events'] == [] and result['rotated'] is False and result['next_since'] == 13
    result = progress.status(path, max_events=0, now=T0)
    assert result['events'] == [] and result['events_dropped'] == 13


def test_rotation_new_run_in_a_replaced_file(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream())
    first = progress.status(path, now=T0)
    # the writer replaces the file with a new, shorter run
    newer = [dict(event='start', total=2, pid=99, ts=T0 + 50, seq=0),
             dict(event='queued', package='x', ts=T0 + 51, seq=1)]
    write(path, newer)
    result = progress.status(path, since=first['next_since'], now=T0 + 52)
    assert result['rotated'] is True
    assert [e['seq'] for e in result['events']] == [0, 1]
    assert result['pid'] == 99 and result['total'] == 2 and result['finished'] is False


def test_appended_second_run_resets_state(tmp_path):
    newer = [dict(event='start', total=1, pid=7, ts=T0 + 50, seq=0),
             dict(event='fetching', package='y', ts=T0 + 51, seq=1)]
    path = write(tmp_path / 'p.jsonl', stream() + newer)
    result = progress.status(path, now=T0 + 52)
    assert result['pid'] == 7 and result['total'] == 1 and result['finished'] is False
    assert [e['seq'] for e in result['events']] == [0, 1]
    assert result['in_flight'][0]['package'] == 'y'


def test_async_job_died_without_finished_event(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(finished=False))
    jobs = tmp_path / 'async'
    jobs.mkdir()
    (jobs / 'j1.1').write_text(json.dumps({'started': True, 'finished': False, 'ansible_job_id': 'j1.1'}))
    job = progress.read_async_job(str(jobs), 'j1.1')
    assert job['state'] == 'running'
    assert progress.status(path, job=job, now=T0 + 9)['finished'] is False
    (jobs / 'j1.1').write_text(json.dumps({'failed': True, 'msg': 'Timeout exceeded', 'child_pid': 5}))
    job = progress.read_async_job(str(jobs), 'j1.1')
    assert dict(job, since=None) == {'state': 'finished', 'failed': True, 'rc': None, 'msg': 'Timeout exceeded',
                                     'results_file': str(jobs / 'j1.1'), 'since': None}
    result = progress.status(path, job=job, now=T0 + 9)
    assert result['finished'] is True and result['died'] is True and result['rc'] is None
    assert 'Timeout exceeded' in result['msg']
    assert [p['package'] for p in result['packages']] == ['zlib', 'libtiny', 'cmake', 'tinyapp']
    assert progress.read_async_job(str(jobs), 'nope')['state'] == 'missing'


def test_finished_event_wins_over_job(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream())
    job = {'state': 'finished', 'failed': True, 'rc': 3, 'msg': 'boom'}
    result = progress.status(path, job=job, now=T0)
    assert result['rc'] == 0 and result['died'] is False and 'msg' not in result


def test_dead_pid_and_stale_file(tmp_path):
    events = stream(finished=False)
    events[0]['pid'] = 2 ** 22 + 12345  # above the default pid_max: no such process
    path = write(tmp_path / 'p.jsonl', events)
    mtime = os.stat(path).st_mtime
    assert progress.status(path, stale_after=60, now=mtime + 10)['finished'] is False
    result = progress.status(path, stale_after=60, now=mtime + 61)
    assert result['finished'] is True and result['died'] is True
    assert 'pid %d' % events[0]['pid'] in result['msg']
    assert progress.status(path, stale_after=0, now=mtime + 61)['finished'] is False


def test_pid_alive():
    assert progress.pid_alive(os.getpid()) is True
    assert progress.pid_alive(0) is False
    assert progress.pid_alive(2 ** 22 + 12345) is False


@pytest.mark.parametrize('name,version,expected', [('a', '1.0', 'a@1.0'), ('a', None, 'a'), (None, None, '?')])
def test_package_label(name, version, expected):
    assert progress.package_label(name, version) == expected


def test_seq_missing_uses_file_order(tmp_path):
    path = tmp_path / 'p.jsonl'
    path.write_text('{"event": "start", "total": 1}\n{"event": "fetching", "package": "a"}\n')
    result = progress.status(str(path), since=1, now=T0)
    assert [e['event'] for e in result['events']] == ['fetching']
    assert result['next_since'] == 2


def test_large_stream_is_aggregated(tmp_path):
    events = [dict(event='start', total=1500, ts=T0)]
    for i in range(1500):
        events.append(dict(event='extracting', package='p%d' % i, origin='cache', ts=T0 + i))
        events.append(dict(event='installed', package='p%d' % i, origin='cache', seconds=0.5, ts=T0 + i + 0.5))
    for seq, event in enumerate(events):
        event['seq'] = seq
    path = write(tmp_path / 'p.jsonl', events)
    result = progress.status(path, since=2990, max_events=20, now=T0 + 1500)
    assert result['done'] == 1500 and result['cache'] == 1500
    assert len(result['events']) == 11 and result['next_since'] == 3001


def test_earlier_run_in_an_appended_file_is_not_this_jobs_end(tmp_path):
    """spack_install appends: before the new job writes its start event, the file ends with the
    previous run's finished event. With job_id that must not end the polling loop."""
    path = write(tmp_path / 'p.jsonl', stream())  # the earlier run, started at T0
    job = {'state': 'running', 'failed': None, 'rc': None, 'msg': None, 'since': T0 + 3600}
    result = progress.status(path, job=job, now=T0 + 3601)
    assert result['finished'] is False and result['events'] == [] and result['total'] is None
    assert 'earlier run' in result['msg']
    # once the new run starts, it is reported
    newer = [dict(event='start', total=1, pid=8, ts=T0 + 3601, seq=0)]
    write(path, stream() + newer)
    result = progress.status(path, job=job, now=T0 + 3602)
    assert result['total'] == 1 and result['finished'] is False and 'msg' not in result
    # a job file written at start carries its time
    jobs = tmp_path / 'async'
    jobs.mkdir()
    (jobs / 'j.1').write_text(json.dumps({'started': True, 'finished': False}))
    read = progress.read_async_job(str(jobs), 'j.1')
    assert read['state'] == 'running' and abs(read['since'] - os.stat(str(jobs / 'j.1')).st_mtime) < 0.001


# -- the incremental reader and the long poll ------------------------------------------------------

def lines(events):
    return ''.join(json.dumps(event) + '\n' for event in events)


def test_reader_follows_appends_and_partial_last_lines(tmp_path):
    events = stream(finished=False)
    path = tmp_path / 'p.jsonl'
    text = lines(events[:5])
    cut = len(lines(events[:4])) + 7          # the fifth line is half written
    path.write_text(text[:cut])
    reader = progress.ProgressReader(str(path))
    assert reader.refresh() is True
    assert [seq for seq, _e in reader.run_events] == [0, 1, 2, 3]
    assert reader.refresh() is False          # nothing new: one stat, no read
    with open(str(path), 'a') as handle:
        handle.write(text[cut:] + lines(events[5:7]))
    assert reader.refresh() is True
    assert [seq for seq, _e in reader.run_events] == [0, 1, 2, 3, 4, 5, 6]
    assert reader.invalid == 0 and reader.state.done() == 2
    # the same events as a fresh reader of the whole file
    assert progress.status(str(path), now=T0 + 5, reader=reader) == progress.status(str(path), now=T0 + 5)


def test_reader_empty_missing_and_recreated_file(tmp_path):
    path = tmp_path / 'p.jsonl'
    reader = progress.ProgressReader(str(path))
    assert reader.refresh() is False and reader.exists is False
    path.write_text('')
    assert reader.refresh() is True and reader.exists is True and reader.run_events == []
    path.write_text(lines(stream()[:3]))
    reader.refresh()
    assert len(reader.run_events) == 3
    path.unlink()
    assert reader.refresh() is True and reader.exists is False and reader.run_events == []
    assert reader.state.pid is None
    path.write_text(lines(stream()[:1]))
    reader.refresh()
    assert [seq for seq, _e in reader.run_events] == [0]


def test_reader_truncated_for_a_new_run(tmp_path):
    """spack_install empties the file when a run starts: the file gets shorter than what was read."""
    path = tmp_path / 'p.jsonl'
    path.write_text(lines(stream()))
    reader = progress.ProgressReader(str(path))
    reader.refresh()
    assert reader.state.finished is True
    newer = [dict(event='start', total=2, pid=99, ts=T0 + 50, seq=0)]
    path.write_text(lines(newer))
    assert reader.refresh() is True
    assert reader.state.finished is False and reader.state.pid == 99
    assert [seq for seq, _e in reader.run_events] == [0]


def test_reader_rewritten_longer_in_place(tmp_path):
    """A new run that is already longer than the old one when read: the first bytes tell them apart."""
    path = tmp_path / 'p.jsonl'
    path.write_text(lines(stream()[:2]))
    reader = progress.ProgressReader(str(path))
    reader.refresh()
    newer = [dict(event='start', total=1, pid=7, ts=T0 + 99, seq=0)] + [
        dict(event='queued', package='n%d' % i, ts=T0 + 99, seq=i + 1) for i in range(10)]
    with open(str(path), 'r+') as handle:  # same inode, rewritten from the start
        handle.write(lines(newer))
    reader.refresh()
    assert reader.state.pid == 7 and [seq for seq, _e in reader.run_events] == list(range(11))


def test_reader_replaced_by_rename(tmp_path):
    path = tmp_path / 'p.jsonl'
    path.write_text(lines(stream()))
    reader = progress.ProgressReader(str(path))
    reader.refresh()
    other = tmp_path / 'new.jsonl'
    other.write_text(lines([dict(event='start', total=3, pid=5, ts=T0 + 60, seq=0)] + [
        dict(event='queued', package='x%d' % i, ts=T0 + 61, seq=i + 1) for i in range(20)]))
    os.rename(str(other), str(path))
    reader.refresh()
    assert reader.state.pid == 5 and len(reader.run_events) == 21 and reader.state.total == 20


def test_reader_counts_garbage_once(tmp_path):
    path = tmp_path / 'p.jsonl'
    path.write_text('not json\n' + lines(stream()[:2]))
    reader = progress.ProgressReader(str(path))
    reader.refresh()
    with open(str(path), 'a') as handle:
        handle.write(lines(stream()[2:3]))
    reader.refresh()
    assert reader.invalid == 1 and len(reader.run_events) == 3


class FakeClock(object):
    """time.time/time.sleep for wait_status: sleeping advances the clock and runs `on_sleep`."""

    def __init__(self, start=T0, on_sleep=None):
        self.now = start
        self.sleeps = []
        self.on_sleep = on_sleep

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self)


def test_wait_returns_at_once_when_there_are_new_events(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(finished=False))
    clock = FakeClock()
    result, job = progress.wait_status(path, since=5, wait=10, clock=clock.time, sleep=clock.sleep)
    assert clock.sleeps == [] and job is None
    assert [e['seq'] for e in result['events']] == [5, 6, 7, 8, 9, 10]


def test_wait_times_out_without_news(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(finished=False))
    clock = FakeClock()
    result, _job = progress.wait_status(path, since=11, wait=1.0, interval=0.25, clock=clock.time,
                                        sleep=clock.sleep)
    assert clock.sleeps == [0.25, 0.25, 0.25, 0.25]
    assert result['events'] == [] and result['next_since'] == 11 and result['finished'] is False


def test_wait_returns_when_a_complete_line_arrives(tmp_path):
    events = stream()
    path = write(tmp_path / 'p.jsonl', events[:11])
    line = json.dumps(events[11]) + '\n'

    def writer(clock):
        # a partial line first (not news), then the rest of it
        with open(path, 'a') as handle:
            handle.write(line[:10] if len(clock.sleeps) == 1 else line[10:] if len(clock.sleeps) == 3 else '')

    clock = FakeClock(on_sleep=writer)
    result, _job = progress.wait_status(path, since=11, wait=5, interval=0.1, clock=clock.time, sleep=clock.sleep)
    assert len(clock.sleeps) == 3
    assert [e['seq'] for e in result['events']] == [11] and result['finished'] is False


def test_wait_returns_when_the_job_ends(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream(finished=False))
    jobs = {'state': 'running', 'failed': None, 'rc': None, 'msg': None, 'since': T0}

    def end_job(clock):
        if len(clock.sleeps) == 2:
            jobs.update(state='finished', failed=True, msg='Timeout exceeded')

    clock = FakeClock(on_sleep=end_job)
    result, job = progress.wait_status(path, since=11, wait=5, job_source=lambda: dict(jobs),
                                       clock=clock.time, sleep=clock.sleep)
    assert len(clock.sleeps) == 2 and job['state'] == 'finished'
    assert result['finished'] is True and result['died'] is True


def test_wait_for_the_first_event_and_after_rotation(tmp_path):
    path = str(tmp_path / 'p.jsonl')

    def start(clock):
        if len(clock.sleeps) == 3:
            write(path, stream()[:1])

    clock = FakeClock(on_sleep=start)
    result, _job = progress.wait_status(path, wait=5, clock=clock.time, sleep=clock.sleep)
    assert len(clock.sleeps) == 3 and result['exists'] is True
    assert [e['event'] for e in result['events']] == ['start']
    # a position past the end of the file is from an older, longer run: no waiting
    clock = FakeClock()
    result, _job = progress.wait_status(path, since=40, wait=5, clock=clock.time, sleep=clock.sleep)
    assert clock.sleeps == [] and result['rotated'] is True and len(result['events']) == 1


def test_wait_ends_for_a_finished_run_and_a_gone_writer(tmp_path):
    path = write(tmp_path / 'p.jsonl', stream())
    clock = FakeClock()
    result, _job = progress.wait_status(path, since=13, wait=5, clock=clock.time, sleep=clock.sleep)
    assert clock.sleeps == [] and result['finished'] is True
    events = stream(finished=False)
    events[0]['pid'] = 2 ** 22 + 12345  # no such process
    path = write(tmp_path / 'q.jsonl', events)
    clock = FakeClock(start=os.stat(path).st_mtime + 59.5)
    result, _job = progress.wait_status(path, since=11, wait=5, stale_after=60, interval=0.2,
                                        clock=clock.time, sleep=clock.sleep)
    assert sum(clock.sleeps) == pytest.approx(0.6) and result['died'] is True


@pytest.mark.parametrize('events', [stream(finished=False), stream(fail=True), stream()],
                         ids=['running', 'failed', 'finished'])
def test_state_without_retaining_counts_what_the_full_state_counts(events):
    """retain=False (the controller callback's state) keeps only the packages in flight, but its
    figures after every event are those of the full state."""
    full, lean = progress.ProgressState(), progress.ProgressState(retain=False)
    for event in events:
        full.apply(event)
        lean.apply(event)
        assert (lean.counts(), lean.done(), lean.total) == (full.counts(), full.done(), full.total)
        assert lean.last_seq == full.last_seq and lean.started == full.started and lean.env == full.env
        assert sorted(lean.packages) == sorted(r.name for r in full.records() if r.state in progress.ACTIVE_STATES)
        if event.get('package') and event['event'] != 'queued':
            assert lean.last_record.name == event['package'] and lean.last_record.state == event['event']
            assert lean.last_record.as_dict() == full.packages[event['package']].as_dict()
        else:
            assert lean.last_record is None


def test_state_discards_a_package_without_counting_it():
    state = progress.ProgressState(retain=False)
    for event in stream(finished=False):
        state.apply(event)
    assert list(state.packages) == ['tinyapp'] and state.done() == 3
    state.discard('tinyapp')
    state.discard('not-there')
    assert state.packages == {} and state.order == [] and state.done() == 3
