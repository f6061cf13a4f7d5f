# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import time
from unittest import mock

import pytest
import yaml

from ansible.module_utils.common import arg_spec
from ansible.module_utils.testing import patch_module_args

from ansible_collections.research.wizard.plugins.modules import spack_install_status


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            spack_install_status.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out)


def events(rc=None, fail=False):
    t0 = time.time() - 20
    evs = [dict(event='start', total=3, pid=1, cmd=['spack', 'install'], env='demo', ts=t0),
           dict(event='queued', package='a', version='1', ts=t0),
           dict(event='queued', package='b', version='2', ts=t0),
           dict(event='queued', package='c', version='3', ts=t0),
           dict(event='extracting', package='a', version='1', origin='cache', ts=t0 + 1),
           dict(event='installed', package='a', version='1', origin='cache', seconds=2.0, ts=t0 + 3),
           dict(event='building', package='b', version='2', origin='source', ts=t0 + 3)]
    if rc is not None:
        if fail:
            evs.append(dict(event='failed', package='b', version='2', origin='source', seconds=4.0,
                            log='/stage/b/spack-build-out.txt', message='Error: b broke', ts=t0 + 7))
            evs.append(dict(event='skipped', package='c', version='3', message='dependency b failed', ts=t0 + 7))
        else:
            evs.append(dict(event='installed', package='b', version='2', origin='source', seconds=4.0, ts=t0 + 7))
            evs.append(dict(event='installed', package='c', version='3', origin='already', seconds=0.0, ts=t0 + 7))
        totals = dict(cache=1, source=0 if fail else 1, already=0 if fail else 1, external=0,
                      failed=1 if fail else 0, skipped=1 if fail else 0)
        evs.append(dict(event='finished', rc=rc, seconds=8.0, totals=totals, ts=t0 + 8))
    for seq, ev in enumerate(evs):
        ev['seq'] = seq
    return evs


def progress_file(tmp_path, evs, tail=''):
    path = tmp_path / 'progress.jsonl'
    path.write_text(''.join(json.dumps(e) + '\n' for e in evs) + tail)
    return str(path)


def test_documentation_is_valid_yaml_and_matches_the_argument_spec():
    doc = yaml.safe_load(spack_install_status.DOCUMENTATION)
    assert set(doc['options']) == {'progress_file', 'since', 'wait', 'max_events', 'jid', 'async_dir',
                                   'stale_after', 'fail_on_error', 'heartbeat', 'owner'}
    for option in doc['options'].values():
        assert option['description']
    ret = yaml.safe_load(spack_install_status.RETURN)
    for key in ('total', 'done', 'cache', 'source', 'already', 'external', 'failed_count', 'skipped_count',
                'in_flight', 'events', 'finished', 'rc', 'eta_seconds', 'next_since', 'packages', 'job'):
        assert key in ret
    examples = yaml.safe_load(spack_install_status.EXAMPLES)
    (start,) = [t for t in examples if 'research.wizard.spack_install' in t]
    waits = [t for t in examples if 'research.wizard.spack_install_status' in t and 'until' in t]
    assert waits and any(t['research.wizard.spack_install_status'].get('wait') for t in waits)
    for task in waits:
        assert task['until'].endswith('.finished') and 'delay' in task
        # the loop must outlast the async limit: polls of one loop start at least 0.5 s apart
        assert task['retries'] * max(task['delay'], 0.5) >= start['async'], task['name']


def test_running_install(tmp_path, capsys):
    path = progress_file(tmp_path, events(), tail='{"event": "insta')
    code, result = run_module(capsys, {'progress_file': path})
    assert code == 0
    assert result['changed'] is False and result['failed'] is False
    assert result['finished'] is False and result['rc'] is None
    assert (result['total'], result['done'], result['cache'], result['source']) == (3, 1, 1, 0)
    assert result['queued'] == 1
    assert [f['package'] for f in result['in_flight']] == ['b']
    assert result['in_flight'][0]['state'] == 'building'
    assert result['in_flight'][0]['elapsed'] >= 16
    assert len(result['events']) == 7 and result['next_since'] == 7
    # b builds from source and no source build was timed (only a's cache install): unknown, not a guess
    assert result['eta_seconds'] is None


def test_since_returns_only_new_events(tmp_path, capsys):
    path = progress_file(tmp_path, events())
    _code, result = run_module(capsys, {'progress_file': path, 'since': 5})
    assert [e['seq'] for e in result['events']] == [5, 6]
    _code, result = run_module(capsys, {'progress_file': path, 'since': 7})
    assert result['events'] == []
    _code, result = run_module(capsys, {'progress_file': path, 'max_events': 2})
    assert [e['seq'] for e in result['events']] == [5, 6] and result['events_dropped'] == 5


def test_check_mode_reports_the_same(tmp_path, capsys):
    path = progress_file(tmp_path, events(rc=0))
    _code, normal = run_module(capsys, {'progress_file': path})
    _code, checked = run_module(capsys, {'progress_file': path}, check_mode=True)
    for key in ('finished', 'rc', 'done', 'counts', 'next_since'):
        assert normal[key] == checked[key]
    assert checked['changed'] is False


def test_finished_ok(tmp_path, capsys):
    path = progress_file(tmp_path, events(rc=0))
    code, result = run_module(capsys, {'progress_file': path})
    assert code == 0 and result['finished'] is True and result['rc'] == 0
    assert result['counts'] == dict(cache=1, source=1, already=1, external=0, failed=0, skipped=0)
    assert [p['package'] for p in result['packages']] == ['a', 'b', 'c']
    assert result['eta_seconds'] == 0.0


def test_finished_with_failures_fails_by_default(tmp_path, capsys):
    path = progress_file(tmp_path, events(rc=1, fail=True))
    code, result = run_module(capsys, {'progress_file': path})
    assert code == 1 and result['failed'] is True
    assert 'rc=1' in result['msg'] and 'b@2 (log: /stage/b/spack-build-out.txt)' in result['msg']
    assert result['failed_count'] == 1 and result['skipped_count'] == 1
    assert result['failures'][0]['log'] == '/stage/b/spack-build-out.txt'
    assert result['finished'] is True and len(result['packages']) == 3


def test_finished_with_failures_reported_without_failing(tmp_path, capsys):
    path = progress_file(tmp_path, events(rc=1, fail=True))
    code, result = run_module(capsys, {'progress_file': path, 'fail_on_error': False})
    # rc is non-zero, so 'failed' must be explicitly false or Ansible marks the task failed
    assert code == 0 and result['failed'] is False and result['rc'] == 1


def test_missing_progress_file_with_job(tmp_path, capsys):
    jobs = tmp_path / 'jobs'
    jobs.mkdir()
    (jobs / '123.45').write_text(json.dumps({'started': True, 'finished': False, 'ansible_job_id': '123.45'}))
    code, result = run_module(capsys, {'progress_file': str(tmp_path / 'none.jsonl'), 'jid': '123.45',
                                       'async_dir': str(jobs)})
    assert code == 0 and result['exists'] is False and result['finished'] is False
    assert result['job']['state'] == 'running'


def test_job_killed_without_finished_event(tmp_path, capsys, monkeypatch):
    path = progress_file(tmp_path, events())
    jobs = tmp_path / 'jobs'
    jobs.mkdir()
    (jobs / '9.9').write_text(json.dumps({'msg': 'Timeout exceeded', 'failed': True, 'child_pid': 77}))
    monkeypatch.setenv('ANSIBLE_ASYNC_DIR', str(jobs))
    code, result = run_module(capsys, {'progress_file': path, 'jid': '9.9', 'fail_on_error': False})
    assert code == 0
    assert result['finished'] is True and result['died'] is True and result['rc'] is None
    assert 'Timeout exceeded' in result['msg']
    code, result = run_module(capsys, {'progress_file': path, 'jid': '9.9'})
    assert code == 1 and 'Timeout exceeded' in result['msg']


def test_negative_max_events_is_rejected(tmp_path, capsys):
    code, result = run_module(capsys, {'progress_file': str(tmp_path / 'x'), 'max_events': -1})
    assert code == 1 and 'max_events' in result['msg']


def test_unreadable_progress_file(tmp_path, capsys):
    code, result = run_module(capsys, {'progress_file': str(tmp_path)})  # a directory
    assert code == 1 and 'Cannot read the progress file' in result['msg']


def test_wait_returns_after_the_wait_without_news(tmp_path, capsys):
    path = progress_file(tmp_path, events())
    started = time.time()
    code, result = run_module(capsys, {'progress_file': path, 'since': 7, 'wait': 0.3})
    assert code == 0 and time.time() - started >= 0.3
    assert result['events'] == [] and result['next_since'] == 7 and result['finished'] is False


def test_wait_returns_at_once_with_news_or_an_ended_job(tmp_path, capsys):
    path = progress_file(tmp_path, events())
    started = time.time()
    _code, result = run_module(capsys, {'progress_file': path, 'since': 6, 'wait': 30})
    assert [e['seq'] for e in result['events']] == [6]
    jobs = tmp_path / 'jobs'
    jobs.mkdir()
    (jobs / '5.5').write_text(json.dumps({'rc': 0, 'changed': True}))
    _code, result = run_module(capsys, {'progress_file': path, 'since': 7, 'wait': 30, 'jid': '5.5',
                                        'async_dir': str(jobs), 'fail_on_error': False})
    assert result['finished'] is True and result['job']['state'] == 'finished'
    assert time.time() - started < 10


def test_negative_wait_is_rejected(tmp_path, capsys):
    code, result = run_module(capsys, {'progress_file': str(tmp_path / 'x'), 'wait': -1})
    assert code == 1 and 'wait' in result['msg']


def test_job_id_is_a_deprecated_alias_of_jid(tmp_path, capsys):
    jobs = tmp_path / 'jobs'
    jobs.mkdir()
    (jobs / '1.2').write_text(json.dumps({'started': True, 'finished': False, 'ansible_job_id': '1.2'}))
    # Deprecations are process-global in ansible-core (they reach the result only while no controller
    # code has been imported): record what the argument spec deprecates directly.
    deprecated = []
    with mock.patch.object(arg_spec, 'deprecate', side_effect=lambda **kw: deprecated.append(kw)):
        code, result = run_module(capsys, {'progress_file': str(tmp_path / 'none.jsonl'), 'job_id': '1.2',
                                           'async_dir': str(jobs)})
    assert code == 0 and result['job']['state'] == 'running'
    (deprecation,) = deprecated
    assert "'job_id'" in deprecation['msg'] and deprecation['version'] == '2.0.0'
    assert 'research.wizard' in repr(deprecation.get('deprecator', deprecation.get('collection_name')))
