# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The callback fed recorded event streams, poll by poll, in plain and live (terminal) modes: its
whole output and its JSON report compared with the snapshots in fixtures/snapshots/.

After an intended change of the output, rewrite the snapshots and review their diff:
    WIZARD_UPDATE_SNAPSHOTS=1 .venv/bin/pytest -q tests/unit/plugins/callback/test_progress_snapshots.py
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import re

import pytest

from helpers.progress_replay import (OPTION_VARS, FakeTask, new_callback, polls_by_time, read_stream,
                                     replay)

HERE = os.path.dirname(os.path.abspath(__file__))
STREAMS = os.path.join(HERE, 'fixtures', 'streams')
SNAPSHOTS = os.path.join(HERE, 'fixtures', 'snapshots')
POLL_SECONDS = 1.0
# Source build times "recorded by earlier runs", so the cache-saved column has figures.
HISTORY = {'format': 1, 'packages': {
    'libtiny@1.0': {'seconds': 41.0, 'samples': 3, 'updated': 1700000000.0},
    'tinyapp@1.0': {'seconds': 12.5, 'samples': 1, 'updated': 1700000000.0},
    'gcc-runtime@12.2.0': {'seconds': 2.0, 'samples': 1, 'updated': 1700000000.0},
}}


def stream_names():
    return sorted(os.path.basename(p)[:-len('.jsonl')] for p in glob.glob(os.path.join(STREAMS, '*.jsonl')))


def normalise(text, tmp_path):
    text = text.replace(str(tmp_path), '<tmp>')
    text = re.sub(r'install-report-\d{8}-\d{6}(-\d+)?', 'install-report-<stamp>', text)
    return text.replace('\x1b', '<ESC>')


def check_snapshot(name, text):
    path = os.path.join(SNAPSHOTS, name)
    if os.environ.get('WIZARD_UPDATE_SNAPSHOTS') == '1':
        if not os.path.isdir(SNAPSHOTS):
            os.makedirs(SNAPSHOTS)
        with open(path, 'w') as handle:
            handle.write(text)
    if not os.path.exists(path):
        pytest.fail('no snapshot %s: run with WIZARD_UPDATE_SNAPSHOTS=1 and review it' % path)
    with open(path) as handle:
        expected = handle.read()
    assert text.splitlines() == expected.splitlines(), 'output differs from %s' % path


def run_stream(name, mode, tmp_path, monkeypatch):
    for var in OPTION_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('COLUMNS', '100')
    monkeypatch.setenv('LINES', '30')
    history = tmp_path / 'history.json'
    history.write_text(json.dumps(HISTORY))
    callback = new_callback(mode=mode, report_dir=str(tmp_path / 'reports'), history_file=str(history))
    callback.v2_playbook_on_start(type('Playbook', (), {'_file_name': '/x/deploy.yml'})())
    events = read_stream(os.path.join(STREAMS, name + '.jsonl'))
    results = replay(callback, str(tmp_path / 'progress.jsonl'), polls_by_time(events, POLL_SECONDS), host='node1')
    callback.v2_playbook_on_task_start(FakeTask('ansible.builtin.debug'), False)
    callback.v2_playbook_on_stats(None)
    return callback, results


@pytest.mark.skipif(not stream_names(), reason='no recorded streams in %s' % STREAMS)
@pytest.mark.parametrize('mode', ['plain', 'live'])
@pytest.mark.parametrize('name', stream_names())
def test_recorded_stream_output(name, mode, tmp_path, monkeypatch):
    callback, results = run_stream(name, mode, tmp_path, monkeypatch)
    text = normalise(callback._display.text, tmp_path)
    assert callback._display.warnings == []
    check_snapshot('%s.%s.txt' % (name, mode), text)
    if mode == 'plain':
        assert '<ESC>' not in text
    else:
        # every redraw is wrapped in save/restore cursor, and the bar area is gone at the end
        assert text.count('<ESC>7') == text.count('<ESC>8')
        assert text.rstrip().endswith('<ESC>[r<ESC>8') or 'SPACK INSTALL SUMMARY' in text
    final = results[-1]
    assert final['finished'] is True
    # the summary row agrees with what the status module counted
    row = [line for line in text.splitlines() if line.startswith('node1 ')][-1].split()
    keys = ('cache', 'source', 'already', 'external', 'failed', 'skipped')
    assert row[2:8] == [str(final['counts'][k]) for k in keys]


@pytest.mark.skipif(not stream_names(), reason='no recorded streams in %s' % STREAMS)
@pytest.mark.parametrize('name', stream_names())
def test_recorded_stream_json_report(name, tmp_path, monkeypatch):
    callback, results = run_stream(name, 'plain', tmp_path, monkeypatch)
    (path,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.json'))
    with open(path) as handle:
        report = json.load(handle)
    assert report['generator'] == 'research.wizard.progress' and report['playbook'] == 'deploy.yml'
    report['generated'] = '<generated>'
    report['playbook_seconds'] = '<seconds>'
    (run,) = report['runs']
    assert [p['package'] for p in run['packages']] == [p['package'] for p in results[-1]['packages']]
    check_snapshot('%s.report.json' % name, normalise(json.dumps(report, indent=1, sort_keys=True) + '\n', tmp_path))
