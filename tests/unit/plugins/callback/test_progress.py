# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import re
import tracemalloc
from html.parser import HTMLParser

import pytest

from ansible_collections.research.wizard.plugins.callback import progress as progress_callback
from ansible_collections.research.wizard.plugins.module_utils import _progress as progress
from ansible_collections.research.wizard.plugins.plugin_utils.progress_model import Reiterable
from ansible_collections.research.wizard.plugins.plugin_utils.progress_report import write_json
from ansible_collections.research.wizard.plugins.plugin_utils.progress_terminal import resolve_mode
from helpers.progress_replay import OPTION_VARS, FakeResult, FakeTask, new_callback, register_options
from helpers.progress_replay import replay as replay_polls

T0 = 1764000000.0

# A recorded-style stream, cut into polls: what spack_install appended between two status polls.
POLLS = [
    [dict(event='start', total=5, pid=321, cmd=['spack', 'install'], env='/envs/demo', ts=T0)]
    + [dict(event='queued', package=n, version=v, ts=T0 + 0.1)
       for n, v in (('zlib', '1.3'), ('libtiny', '1.0'), ('cmake', '3.27'), ('tinyapp', '1.0'), ('tinybroken', '0.1'))]
    + [dict(event='installed', package='zlib', version='1.3', origin='external', seconds=0.0, ts=T0 + 0.2),
       dict(event='installed', package='libtiny', version='1.0', origin='already', seconds=0.0, ts=T0 + 0.3)],
    [dict(event='extracting', package='cmake', version='3.27', origin='cache', hash='aaaaaaa', ts=T0 + 1.0)],
    [dict(event='installed', package='cmake', version='3.27', origin='cache', hash='aaaaaaa', seconds=4.0,
          index=3, total=5, ts=T0 + 5.0),
     dict(event='fetching', package='tinyapp', version='1.0', ts=T0 + 5.0),
     dict(event='building', package='tinyapp', version='1.0', origin='source', ts=T0 + 6.0)],
    [dict(event='installed', package='tinyapp', version='1.0', origin='source', hash='bbbbbbb', seconds=20.0,
          index=4, total=5, ts=T0 + 25.0),
     dict(event='building', package='tinybroken', version='0.1', origin='source', ts=T0 + 25.0),
     dict(event='failed', package='tinybroken', version='0.1', origin='source', seconds=3.0,
          log='/stage/tinybroken/spack-build-out.txt', message='Error: make: *** [all] Error 2', ts=T0 + 28.0),
     dict(event='finished', rc=1, seconds=28.5, ts=T0 + 28.5,
          totals=dict(cache=1, source=1, already=1, external=1, failed=1, skipped=0))],
]

PLAIN_EXPECTED = [
    'localhost | spack install started: 5 packages, env /envs/demo',
    'localhost | 5 packages queued',
    'localhost | [1/5] zlib@1.3 external (provided by the system)',
    'localhost | [2/5] libtiny@1.0 already installed',
    'localhost | [2/5] cmake@3.27 extracting from the binary cache',
    'localhost | [3/5] cmake@3.27 installed from the binary cache in 4.0s',
    'localhost | [3/5] tinyapp@1.0 fetching',
    'localhost | [3/5] tinyapp@1.0 building from source',
    'localhost | [4/5] tinyapp@1.0 built from source in 20s',
    'localhost | [4/5] tinybroken@0.1 building from source',
    'localhost | [5/5] tinybroken@0.1 FAILED after 3.0s: Error: make: *** [all] Error 2 '
    '(log: /stage/tinybroken/spack-build-out.txt)',
    'localhost | spack install finished rc=1 in 28s: 1 cache, 1 source, 1 already, 1 external, 1 failed, 0 skipped',
]


@pytest.fixture
def make_callback(tmp_path, monkeypatch):
    for var in OPTION_VARS:
        monkeypatch.delenv(var, raising=False)
    register_options()

    def make(**options):
        direct = {'mode': 'plain', 'report_dir': str(tmp_path / 'reports'),
                  'history_file': str(tmp_path / 'history.json')}
        direct.update(options)
        return new_callback(**direct)
    return make


def number(polls):
    seq = 0
    out = []
    for poll in polls:
        batch = []
        for event in poll:
            event = dict(event, seq=seq)
            seq += 1
            batch.append(event)
        out.append(batch)
    return out


def replay(callback, tmp_path, polls, host='localhost', max_events=200, now_offset=0.5):
    """The polls of POLLS (what spack_install appended between two polls), each read `now_offset`
    seconds after its last event."""
    timed = [(poll[-1]['ts'] + now_offset, poll) for poll in number(polls)]
    return replay_polls(callback, str(tmp_path / ('%s.jsonl' % host)), timed, host=host, max_events=max_events)


def test_plain_mode_prints_one_line_per_state_change(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=False, summary=False)
    replay(callback, tmp_path, POLLS)
    assert callback._display.lines == PLAIN_EXPECTED
    assert '\x1b' not in callback._display.text


def test_repeated_polls_print_each_event_once(make_callback, tmp_path):
    """Within one until loop `since` cannot move, so every poll returns old events again."""
    callback = make_callback(mode='plain', reports=False, summary=False)
    polls = number(POLLS)
    path = str(tmp_path / 'p.jsonl')
    with open(path, 'w') as handle:
        for event in polls[0] + polls[1]:
            handle.write(json.dumps(event) + '\n')
    for _poll in range(3):
        callback.v2_runner_retry(FakeResult('localhost', progress.status(path, now=T0 + 2)))
    assert callback._display.lines == PLAIN_EXPECTED[:5]


def test_live_mode_redraws_in_place(make_callback, tmp_path, monkeypatch):
    monkeypatch.setenv('COLUMNS', '140')
    monkeypatch.setenv('LINES', '30')
    callback = make_callback(mode='live', reports=False, summary=False)
    replay(callback, tmp_path, POLLS[:3])
    text = callback._display.text
    # a scroll region above one bar line, the bar drawn at the bottom row with the cursor saved/restored
    assert '\x1b[1;29r' in text
    assert text.count('\x1b[30;1H\x1b[2K') == 3
    assert '\x1b7' in text and '\x1b8' in text
    bars = [chunk for chunk in callback._display.chunks if '\x1b[30;1H' in chunk]
    assert 'localhost [============>       ] 3/5  cache 1 | source 0 | 2 present  elapsed 6.5s  ETA ' in bars[-1]
    # tinyapp builds from source: only a cache install was timed, and the history knows nothing of it
    # (the mean of the cache installs once said 6.5 s here, through the whole build)
    assert bars[-1].endswith('ETA unknown  building tinyapp@1.0 1.5s\x1b8')
    # permanent lines for finished packages, but no fetching/building lines: the bar shows those
    plain = [chunk.rstrip('\n') for chunk in callback._display.chunks if chunk.startswith('localhost |')]
    assert plain == [PLAIN_EXPECTED[0], PLAIN_EXPECTED[1], PLAIN_EXPECTED[2], PLAIN_EXPECTED[3], PLAIN_EXPECTED[5]]
    # the next task ends the live area: clear it and reset the scroll region
    callback.v2_playbook_on_task_start(FakeTask('ansible.builtin.debug'), False)
    assert callback._display.chunks[-1] == '\x1b7\x1b[30;1H\x1b[J\x1b[r\x1b8'
    assert not callback.live.active


def test_live_mode_one_bar_per_host(make_callback, tmp_path, monkeypatch):
    monkeypatch.setenv('COLUMNS', '100')
    monkeypatch.setenv('LINES', '40')
    callback = make_callback(mode='live', reports=False, summary=False)
    replay(callback, tmp_path, POLLS[:2], host='node1')
    replay(callback, tmp_path, POLLS[:2], host='node2')
    last = callback._display.chunks[-1]
    assert '\x1b[39;1H\x1b[2Knode1 [' in last and '\x1b[40;1H\x1b[2Knode2 [' in last
    drawn = [re.sub(r'\x1b(\[[0-9;]*[A-Za-z]|[78])', '', part) for part in last.split('\x1b[2K')[1:]]
    assert len(drawn) == 2 and all(0 < len(line) <= 99 for line in drawn)


def test_other_results_are_ignored(make_callback):
    callback = make_callback(mode='plain')
    callback.v2_runner_on_ok(FakeResult('localhost', {'changed': False, 'msg': 'hello'}, action='ansible.builtin.debug'))
    callback.v2_runner_retry(FakeResult('localhost', {'attempts': 1, 'retries': 3, 'rc': 1},
                                        action='ansible.builtin.command'))
    callback.v2_playbook_on_stats(None)
    assert callback._display.chunks == []


def test_status_result_recognised_by_keys(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=False, summary=False)
    path = str(tmp_path / 'p.jsonl')
    with open(path, 'w') as handle:
        handle.write(json.dumps(dict(number(POLLS)[0][0])) + '\n')
    data = progress.status(path, now=T0 + 1)
    callback.v2_runner_retry(FakeResult('localhost', data, action='research.wizard.some_wrapper'))
    assert callback._display.lines == [PLAIN_EXPECTED[0]]


def test_summary_table_reports_and_history(make_callback, tmp_path):
    history = tmp_path / 'history.json'
    history.write_text(json.dumps({'format': 1, 'packages': {'cmake@3.27': {'seconds': 64.0, 'samples': 1,
                                                                            'updated': T0 - 100}}}))
    callback = make_callback(mode='plain')
    callback.v2_playbook_on_start(type('Playbook', (), {'_file_name': '/x/deploy.yml'})())
    replay(callback, tmp_path, POLLS)
    callback._display.chunks = []
    callback.v2_playbook_on_stats(None)
    lines = callback._display.lines
    assert lines[0].startswith('SPACK INSTALL SUMMARY')
    assert lines[1] == 'host       total  cache  source  already  external  failed  skipped  rc  time  cache saved'
    assert lines[2] == 'localhost      5      1       1        1         1       1        0   1   28s  ~1m00s'
    assert lines[3] == 'failed packages:'
    assert lines[4] == ('  localhost  tinybroken@0.1  log: /stage/tinybroken/spack-build-out.txt  '
                        '(Error: make: *** [all] Error 2)')
    assert lines[5].startswith('reports: ')

    json_files = glob.glob(str(tmp_path / 'reports' / 'install-report-*.json'))
    html_files = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    assert len(json_files) == 1 and len(html_files) == 1
    assert lines[5] == 'reports: %s, %s' % (json_files[0], html_files[0])
    with open(json_files[0]) as handle:
        report = json.load(handle)
    assert report['format'] == 1 and report['playbook'] == 'deploy.yml'
    (run,) = report['runs']
    assert run['host'] == 'localhost' and run['env'] == '/envs/demo' and run['rc'] == 1
    assert run['counts'] == dict(cache=1, source=1, already=1, external=1, failed=1, skipped=0)
    assert run['cache_saved_seconds'] == 60.0 and run['cache_saved_known'] == 1
    assert run['failures'][0]['log'] == '/stage/tinybroken/spack-build-out.txt'
    by_name = dict((p['package'], p) for p in run['packages'])
    assert by_name['tinyapp'] == dict(package='tinyapp', version='1.0', hash='bbbbbbb', origin='source',
                                      state='installed', seconds=20.0, start=5.0, log=None, message=None,
                                      build_seconds_recorded=None)
    assert by_name['cmake']['start'] == 1.0 and by_name['cmake']['build_seconds_recorded'] == 64.0

    with open(html_files[0]) as handle:
        page = handle.read()
    check_html(page)
    assert '<table class="packages" id="packages-0">' in page
    for name in ('zlib@1.3', 'libtiny@1.0', 'cmake@3.27', 'tinyapp@1.0', 'tinybroken@0.1'):
        assert name in page
    assert page.count('<rect ') == 5
    assert '/stage/tinybroken/spack-build-out.txt' in page

    # the source build of this run is recorded for the next one
    saved = json.loads(history.read_text())
    assert saved['packages']['tinyapp@1.0']['seconds'] == 20.0
    assert saved['packages']['cmake@3.27']['seconds'] == 64.0
    assert 'tinybroken@0.1' not in saved['packages']


class _Checker(HTMLParser):
    VOID = {'meta', 'br', 'img', 'input', 'link', 'hr', 'line', 'rect'}

    def __init__(self):
        HTMLParser.__init__(self)
        self.stack = []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ('src', 'href') or (name == 'style' and 'url(' in (value or '')):
                self.errors.append('external resource: %s=%s' % (name, value))
        if tag in ('script', 'link', 'img', 'iframe'):
            self.errors.append('unexpected <%s>' % tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append('unbalanced </%s> (open: %s)' % (tag, self.stack[-3:]))
        else:
            self.stack.pop()


def check_html(page):
    """Self-contained and well nested: no scripts, no external resources, every tag closed."""
    assert page.startswith('<!DOCTYPE html>')
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []


def test_reports_off_and_no_history(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=False, history_file='')
    replay(callback, tmp_path, POLLS)
    callback._display.chunks = []
    callback.v2_playbook_on_stats(None)
    assert not os.path.exists(str(tmp_path / 'reports'))
    assert not os.path.exists(str(tmp_path / 'history.json'))
    lines = callback._display.lines
    assert lines[2].endswith('unknown') and not any(line.startswith('reports:') for line in lines)


def test_missed_events_are_completed_from_the_final_result(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=True, summary=True)
    replay(callback, tmp_path, POLLS, max_events=2)
    callback.v2_playbook_on_stats(None)
    (report_file,) = glob.glob(str(tmp_path / 'reports' / '*.json'))
    with open(report_file) as handle:
        (run,) = json.load(handle)['runs']
    assert run['events_missed'] > 0
    assert sorted(p['package'] for p in run['packages']) == ['cmake', 'libtiny', 'tinyapp', 'tinybroken', 'zlib']
    assert run['counts']['failed'] == 1
    assert any('events were not seen live' in line for line in callback._display.lines)


def test_died_install(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=False)
    path = str(tmp_path / 'p.jsonl')
    with open(path, 'w') as handle:
        for event in number(POLLS[:2])[0] + number(POLLS[:2])[1]:
            handle.write(json.dumps(event) + '\n')
    job = {'state': 'finished', 'failed': True, 'rc': None, 'msg': 'Timeout exceeded'}
    data = progress.status(path, job=job, now=T0 + 3)
    callback.v2_runner_on_failed(FakeResult('localhost', dict(data, failed=True)))
    assert callback._display.lines[-1] == (
        'localhost | spack install died rc=None in 3.0s: 0 cache, 0 source, 1 already, 1 external, 0 failed, '
        '0 skipped (The install job ended without a finished event in the progress file: Timeout exceeded)')
    callback.v2_playbook_on_stats(None)
    assert 'localhost      5      0       0        1         1       0        0  died' in callback._display.text


def test_a_new_run_on_the_same_host_is_a_new_row(make_callback, tmp_path):
    callback = make_callback(mode='plain', reports=False)
    replay(callback, tmp_path, POLLS)
    second = [[dict(event='start', total=1, pid=999, env='/envs/other', ts=T0 + 100),
               dict(event='installed', package='zlib', version='1.3', origin='already', seconds=0.0, ts=T0 + 100.1),
               dict(event='finished', rc=0, seconds=0.2, ts=T0 + 100.2,
                    totals=dict(cache=0, source=0, already=1, external=0, failed=0, skipped=0))]]
    replay(callback, tmp_path, second)
    callback._display.chunks = []
    callback.v2_playbook_on_stats(None)
    rows = [line for line in callback._display.lines if line.startswith('localhost ')]
    assert len(rows) == 2 and rows[1].split()[1:4] == ['1', '0', '0']


@pytest.mark.parametrize('option,environ,tty,expected', [
    ('auto', {}, True, 'live'),
    ('auto', {}, False, 'plain'),
    ('auto', {'JOB_ID': '42'}, True, 'plain'),
    ('auto', {'AWX_HOST': 'https://awx'}, True, 'plain'),
    ('auto', {'TERM': 'dumb'}, True, 'plain'),
    ('auto', {'AWX_ISOLATED_DATA_DIR': '/runner/artifacts/1'}, True, 'plain'),
    ('auto', {'ANSIBLE_STDOUT_CALLBACK': 'awx_display'}, True, 'plain'),
    ('live', {'JOB_ID': '42'}, False, 'live'),
    ('plain', {}, True, 'plain'),
])
def test_resolve_mode(option, environ, tty, expected):
    class Stream(object):
        def isatty(self):
            return tty

    assert resolve_mode(option, environ=environ, stream=Stream()) == expected


def test_options_from_environment(make_callback, monkeypatch, tmp_path):
    monkeypatch.setenv('WIZARD_PROGRESS_MODE', 'live')
    monkeypatch.setenv('WIZARD_PROGRESS_REPORTS', 'false')
    callback = progress_callback.CallbackModule()
    callback._load_name = 'research.wizard.progress'
    callback.set_options()
    assert callback.mode == 'live' and callback.get_option('reports') is False
    assert callback.get_option('report_dir') == 'wizard-reports'
    assert callback.get_option('history_file') == '~/.cache/research.wizard/build-times.json'


def test_memory_flat_over_a_long_stream(make_callback, tmp_path):
    """1,200 packages through 300 polls: what the callback keeps does not grow with the packages.

    Each poll's result is decoded from JSON inside the measurement, as Ansible hands the callback a
    fresh result per poll: whatever the callback keeps of a result is counted.
    """
    callback = make_callback(mode='plain', reports=False, summary=False)
    polls = [[dict(event='start', total=1200, pid=1, ts=T0)]]
    ts = T0
    for block in range(300):
        poll = []
        for i in range(4):
            name = 'pkg%04d' % (block * 4 + i)
            ts += 1
            poll.append(dict(event='extracting', package=name, version='1', origin='cache', ts=ts))
            poll.append(dict(event='installed', package=name, version='1', origin='cache', seconds=1.0, ts=ts + 1))
        polls.append(poll)
    numbered = number(polls)
    results = []
    seen = []
    for poll in numbered:
        seen.extend(poll)
        results.append(json.dumps({'progress_file': '/p', 'exists': True, 'started': T0, 'pid': 1, 'total': 1200,
                                   'events': poll, 'next_since': poll[-1]['seq'] + 1, 'in_flight': [],
                                   'finished': False, 'done': (len(seen) - 1) // 2}))
    tracemalloc.start()
    for data in results[:75]:
        callback.v2_runner_retry(FakeResult('h', json.loads(data)))
        callback._display.chunks = []
    at_300 = tracemalloc.get_traced_memory()[0]
    for data in results[75:]:
        callback.v2_runner_retry(FakeResult('h', json.loads(data)))
        callback._display.chunks = []
    at_1200 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracker = callback.runs['h'][0]
    assert tracker.done == 1200 and tracker.last_seq == numbered[-1][-1]['seq']
    assert tracker.active == {}
    # 900 more packages: the old per-package records took ~500 bytes each (~440 KiB here)
    assert at_1200 - at_300 < 16 * 1024, (at_300, at_1200)
    # ... and they are all on disk for the reports
    assert len(list(tracker.packages())) == 1200


def test_json_report_writer_matches_json_dump(tmp_path):
    """The reports stream the spooled packages; the file must be what json.dump would write."""
    items = [{'package': 'a', 'seconds': 1.5, 'log': None}, {'package': 'b<&>', 'nested': {'x': [], 'y': {}}}]
    document = {'format': 1, 'empty_list': [], 'empty_dict': {}, 'text': 'caf\u00e9 "q"',
                'runs': [{'host': 'h', 'counts': {'cache': 1}, 'packages': Reiterable(lambda: iter(items)),
                          'failures': Reiterable(lambda: iter(()))}]}
    path = tmp_path / 'r.json'
    with open(str(path), 'w') as handle:
        write_json(handle, document)
    expected = dict(document, runs=[dict(document['runs'][0], packages=items, failures=[])])
    assert path.read_text() == json.dumps(expected, indent=1, sort_keys=True)


def test_packages_whose_end_was_not_seen_leave_the_live_state(make_callback):
    callback = make_callback(mode='plain', reports=False, summary=False)
    base = {'progress_file': '/p', 'exists': True, 'started': T0, 'pid': 1, 'total': 2, 'finished': False}
    building = dict(event='building', package='a', version='1', origin='source', ts=T0 + 1, seq=1)
    callback.v2_runner_retry(FakeResult('h', dict(base, events=[building], next_since=2, done=0, in_flight=[
        {'package': 'a', 'version': '1', 'state': 'building', 'origin': 'source', 'elapsed': 0.5}])))
    (tracker,) = callback.runs['h']
    assert list(tracker.active) == ['a']
    # a's end event was left out of the next poll (max_events); the poll's in_flight no longer has it
    later = dict(event='building', package='b', version='1', origin='source', ts=T0 + 9, seq=9)
    callback.v2_runner_retry(FakeResult('h', dict(base, events=[later], next_since=10, done=1, in_flight=[
        {'package': 'b', 'version': '1', 'state': 'building', 'origin': 'source', 'elapsed': 0.1}])))
    assert list(tracker.active) == ['b'] and tracker.done == 1 and tracker.missed == 8  # seq 0, 2..8


# -- the stdout callback's poll retries, the deployment context, the interrupt message ----------------
class NamedResult(FakeResult):
    """A FakeResult with what the stdout callback reads of it too."""

    def __init__(self, host, data, action='research.wizard.spack_install_status', name='wait'):
        FakeResult.__init__(self, host, data, action)
        self.task_name = name
        self.task._uuid = 'uuid-%s' % name


class FakeQueueManager(object):
    """Sends events as TaskQueueManager.send_callback does: the stdout callback first, by getattr."""

    def __init__(self, *plugins):
        self._callback_plugins = list(plugins)

    def send(self, name, *args):
        for plugin in self._callback_plugins:
            if name == 'v2_playbook_on_start' and plugin is self._callback_plugins[0]:
                continue    # the default callback's reads the command line's arguments
            method = getattr(plugin, name, None)
            if method is not None:
                method(*args)


def default_stdout_callback():
    """ansible-core's default stdout callback, its options at their defaults (no plugin loader here)."""
    from ansible.plugins.callback.default import CallbackModule as DefaultCallback
    from helpers.progress_replay import FakeDisplay
    stdout = DefaultCallback()
    stdout._display = FakeDisplay()
    defaults = {'display_ok_hosts': True, 'display_skipped_hosts': True, 'display_failed_stderr': False,
                'show_per_host_start': False, 'show_task_path_on_failure': False, 'result_format': 'json',
                'pretty_results': None, 'callback_result_indentation': 4, 'check_mode_markers': False,
                'show_custom_stats': False}
    stdout.get_option = defaults.get
    return stdout


@pytest.fixture
def stdout_and_progress(make_callback):
    stdout = default_stdout_callback()
    progress_cb = make_callback()
    tqm = FakeQueueManager(stdout, progress_cb)
    tqm.send('v2_playbook_on_start', type('Playbook', (), {'_file_name': '/x/deploy.yml'})())
    return tqm, stdout, progress_cb


def poll(data, attempts, **extra):
    result = dict(data, attempts=attempts, retries=100, failed=False)
    result.update(extra)
    return result


def test_poll_retries_muted_in_the_stdout_callback_only(stdout_and_progress, tmp_path):
    tqm, stdout, progress_cb = stdout_and_progress
    assert progress_cb.stdout_filtered is stdout
    path = str(tmp_path / 'p.jsonl')
    write_events(path, POLLS[0])
    data = progress.status(path, now=T0 + 1)
    tqm.send('v2_runner_retry', NamedResult('localhost', poll(data, 1)))
    tqm.send('v2_runner_retry', NamedResult('localhost', dict(rc=1, attempts=1, retries=3, failed=True),
                                            action='ansible.builtin.command', name='other'))
    assert stdout._display.lines == ['FAILED - RETRYING: [localhost]: other (2 retries left).']
    assert progress_cb._display.lines[:2] == PLAIN_EXPECTED[:2]
    # the stdout callback got its own display back
    assert 'FakeDisplay' in type(stdout._display).__name__


def test_poll_retries_shown_when_asked(make_callback):
    stdout = default_stdout_callback()
    progress_cb = make_callback(hide_poll_retries=False)
    FakeQueueManager(stdout, progress_cb).send('v2_playbook_on_start', None)
    assert progress_cb.stdout_filtered is None and 'v2_runner_retry' not in stdout.__dict__


def test_no_queue_manager_no_filter(make_callback):
    progress_cb = make_callback()
    progress_cb.v2_playbook_on_start(None)
    assert progress_cb.stdout_filtered is None


class OkLineStdout(object):
    """A stdout callback that prints what default prints for an ok result (the real one needs a whole
    task): enough to see the order of the lines."""

    CALLBACK_TYPE = 'stdout'

    def __init__(self, display):
        self._display = display

    def v2_runner_retry(self, result):
        self._display.display('FAILED - RETRYING: [%s]' % result.host.get_name())

    def v2_runner_on_ok(self, result):
        self._display.display('ok: [%s]' % result.host.get_name())


def test_last_poll_lines_before_the_stdout_ok_line(make_callback, tmp_path):
    progress_cb = make_callback()
    stdout = OkLineStdout(progress_cb._display)     # one screen
    tqm = FakeQueueManager(stdout, progress_cb)
    tqm.send('v2_playbook_on_start', None)
    assert progress_cb.stdout_filtered is stdout
    path = str(tmp_path / 'p.jsonl')
    write_events(path, [event for batch in POLLS for event in batch])
    data = progress.status(path, now=T0 + 30)
    tqm.send('v2_runner_on_ok', NamedResult('localhost', dict(data, failed=False, changed=False)))
    lines = stdout._display.lines
    assert lines[:len(PLAIN_EXPECTED)] == PLAIN_EXPECTED
    assert lines[len(PLAIN_EXPECTED)] == 'ok: [localhost]' and len(lines) == len(PLAIN_EXPECTED) + 1


def write_events(path, events):
    with open(path, 'w') as handle:
        for seq, event in enumerate(events):
            handle.write(json.dumps(dict(event, seq=seq)) + '\n')


def test_deployment_context_from_results(make_callback, tmp_path):
    callback = make_callback(mode='live', reports=False, summary=False)
    callback.v2_runner_on_ok(FakeResult('localhost', {'pack': {'name': 'selftest', 'spack_target': 'x86_64_v3'}},
                                        action='research.wizard.domain_pack_info'))
    callback.v2_runner_on_ok(FakeResult('localhost', {'spack_version': '1.1.1', 'changed': False},
                                        action='research.wizard.spack_env'))
    assert callback.runs.contexts['localhost'] == dict(domain='selftest', target='x86_64_v3', spack_version='1.1.1')
    callback.v2_runner_on_ok(FakeResult('localhost', {'ansible_facts': {'domain_pack_summary': {
        'domain': 'selftest', 'install_tree': '/store', 'spack_version': '1.1.1', 'counts': {}}}},
        action='ansible.builtin.set_fact'))
    assert callback.runs.contexts['localhost']['install_tree'] == '/store'
    replay(callback, tmp_path, POLLS[:2])
    bars = [chunk for chunk in callback._display.chunks if '\x1b[2K' in chunk]
    assert '\x1b[2Kpack selftest, Spack 1.1.1, target x86_64_v3, install tree /store' in bars[-1]
    assert callback._display.lines[0].startswith(PLAIN_EXPECTED[0] + ', pack selftest, Spack 1.1.1')


def test_interrupt_message_while_polling(make_callback, tmp_path):
    callback = make_callback()
    path = str(tmp_path / 'p.jsonl')
    write_events(path, POLLS[0])
    data = progress.status(path, now=T0 + 1)
    callback.runs.note_context('localhost', {'domain': 'selftest'})
    callback.v2_runner_retry(FakeResult('localhost', poll(data, 1, run_id='r1',
                                                          invocation={'module_args': {'jid': 'j1.2'}})))
    assert callback.polling['localhost']['jid'] == 'j1.2'
    callback.on_exit()
    lines = callback._display.lines[-5:]
    assert lines[0] == 'research.wizard.progress: interrupted, but the install goes on in the background on localhost:'
    assert lines[1] == '  localhost: job id j1.2, pid 321, env /envs/demo, run r1, progress file %s' % path
    assert lines[3].strip() == 'or ansible-playbook playbooks/status.yml -e domain=selftest'
    assert lines[4].strip() == 'stop it:   rerun the deploy with -e deploy_cancel=true'


def test_no_interrupt_message_after_the_loop_or_the_stats(make_callback, tmp_path):
    callback = make_callback(summary=False, reports=False)
    path = str(tmp_path / 'p.jsonl')
    write_events(path, POLLS[0])
    data = progress.status(path, now=T0 + 1)
    callback.v2_runner_retry(FakeResult('localhost', poll(data, 1)))
    callback.v2_runner_on_failed(FakeResult('localhost', dict(data, failed=True)))
    assert callback.polling == {}
    callback.v2_runner_retry(FakeResult('localhost', poll(data, 1)))
    callback.v2_playbook_on_stats(None)
    before = list(callback._display.lines)
    callback.on_exit()
    assert callback._display.lines == before


def test_failure_excerpt_in_summary_and_html(make_callback, tmp_path):
    polls = [list(batch) for batch in POLLS]
    polls[3] = [dict(e, excerpt="t.c:3: error: expected ';' <script>\n  3 | }") if e.get('event') == 'failed' else e
                for e in polls[3]]
    callback = make_callback()
    replay(callback, tmp_path, polls)
    callback.v2_playbook_on_stats(None)
    lines = callback._display.lines
    failed = [i for i, line in enumerate(lines) if 'FAILED after' in line][0]
    assert lines[failed + 1:failed + 3] == ["localhost |     | t.c:3: error: expected ';' <script>",
                                            'localhost |     |   3 | }']
    summary = lines.index('failed packages:')
    assert lines[summary + 2:summary + 4] == ["      | t.c:3: error: expected ';' <script>", '      |   3 | }']
    (html_path,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    with open(html_path) as handle:
        page = handle.read()
    assert '<pre class="excerpt">t.c:3: error: expected &#39;;&#39; &lt;script&gt;\n  3 | }</pre>' in page
    assert '<script>' not in page
