# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real ansible-playbook run: a fake install appends events in the background (async, poll 0),
spack_install_status is polled with until/retries/delay, and the research.wizard.progress callback
(enabled by the collection's ansible.cfg) prints per-package lines and writes the reports; the poll
loop's retries are left out of the stdout callback (those of other tasks are not), the live bars'
ETA, and what it says when the playbook is interrupted while the install goes on."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'progress.yml')


def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return candidate if os.path.exists(candidate) else os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook')


def playbook_env(tmp_path, **env_extra):
    env = dict(os.environ)
    for var in list(env):
        if var.startswith('WIZARD_PROGRESS_') or var in ('JOB_ID', 'AWX_HOST'):
            del env[var]
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_ASYNC_DIR': str(tmp_path / 'async'),
        'ANSIBLE_NOCOLOR': '1',
        'WIZARD_PROGRESS_REPORT_DIR': str(tmp_path / 'reports'),
        'WIZARD_PROGRESS_HISTORY_FILE': str(tmp_path / 'history.json'),
    })
    env.update(env_extra)
    return env


def playbook_args(tmp_path, step):
    return [ansible_playbook(), PLAYBOOK, '-e', 'wizard_test_dir=%s' % tmp_path, '-e', 'step=%s' % step]


def run_playbook(tmp_path, step=0.4, **env_extra):
    return subprocess.run(
        playbook_args(tmp_path, step), cwd=ROOT, env=playbook_env(tmp_path, **env_extra), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=300, check=False, universal_newlines=True,
    )


def test_progress_callback_in_a_real_playbook(tmp_path):
    # an earlier run built cmake from source in 90 s: the cache saves about that much now
    (tmp_path / 'history.json').write_text(json.dumps(
        {'format': 1, 'packages': {'cmake@3.27.9': {'seconds': 90.0, 'samples': 1, 'updated': 1}}}))
    proc = run_playbook(tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, out

    # polling happened (more than one attempt, the playbook asserts it), but the poll loop shows only its
    # package lines: no retry line of the stdout callback; another task's retries still show
    assert 'FAILED - RETRYING: [localhost]: Wait for the install' not in out
    assert out.count('FAILED - RETRYING: [localhost]: Another task that retries') == 2
    # the output is plain: stdout is a pipe
    assert '\x1b' not in out
    # the loop's last poll: its package lines come before the stdout callback's "ok: [localhost]"
    task = out[out.index('TASK [Wait for the install'):out.index('TASK [Check the final status')]
    assert task.rstrip().splitlines()[-1] == 'ok: [localhost]', task

    # one line per package state change, in install order
    expected = [
        'localhost | spack install started: 6 packages, env fake, pack selftest, Spack 1.1.1, target x86_64_v3, '
        'install tree %s/store' % tmp_path,
        'localhost | 6 packages queued',
        'localhost | [1/6] zlib@1.3.1 external (provided by the system)',
        'localhost | [2/6] libtiny@1.0 already installed',
        'localhost | [2/6] cmake@3.27.9 extracting from the binary cache',
        'localhost | [3/6] cmake@3.27.9 installed from the binary cache in ',
        'localhost | [3/6] tinycmake@0.5 fetching',
        'localhost | [3/6] tinycmake@0.5 building from source',
        'localhost | [4/6] tinycmake@0.5 built from source in ',
        'localhost | [4/6] tinybroken@0.1 fetching',
        'localhost | [4/6] tinybroken@0.1 building from source',
        'localhost | [5/6] tinybroken@0.1 FAILED after ',
        'localhost | [6/6] tinyapp@1.0 skipped: Skipping build of tinyapp since tinybroken failed',
        'localhost | spack install finished rc=1 in ',
    ]
    lines = [line for line in out.splitlines() if line.startswith('localhost | ') and not line.startswith('localhost |  ')]
    assert len(lines) == len(expected), out
    for line, start in zip(lines, expected):
        assert line.startswith(start), (line, start)
    assert '(log: %s/tinybroken-build-out.txt)' % tmp_path in lines[11]
    assert lines[-1].endswith(': 1 cache, 1 source, 1 already, 1 external, 1 failed, 1 skipped')
    # under the failure, the first error lines of its build log
    excerpt = ["tinybroken.c:3:1: error: expected ';' before '}' token <b>", '    3 | }', '      | ^']
    failed_at = out.splitlines().index(lines[11])
    assert out.splitlines()[failed_at + 1:failed_at + 4] == ['localhost |     | ' + line for line in excerpt]

    # the summary table after the recap
    summary = out[out.index('SPACK INSTALL SUMMARY'):].splitlines()
    assert summary[1].split() == ['host', 'total', 'cache', 'source', 'already', 'external', 'failed',
                                  'skipped', 'rc', 'time', 'cache', 'saved']
    row = summary[2].split()
    assert row[:9] == ['localhost', '6', '1', '1', '1', '1', '1', '1', '1']
    assert row[10] in ('~1m29s', '~1m30s')  # 90 s recorded build less the ~0.4 s extract
    assert summary[3] == 'failed packages:'
    assert 'tinybroken@0.1  log: %s/tinybroken-build-out.txt' % tmp_path in summary[4]
    assert summary[5:8] == ['      | ' + line for line in excerpt]
    assert summary[8] == 'localhost: pack selftest, Spack 1.1.1, target x86_64_v3, install tree %s/store' % tmp_path

    # the reports
    (json_report,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.json'))
    (html_report,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    assert 'reports: %s, %s' % (json_report, html_report) in out
    with open(json_report) as handle:
        report = json.load(handle)
    assert report['playbook'] == 'progress.yml'
    (run,) = report['runs']
    assert run['host'] == 'localhost' and run['rc'] == 1 and run['finished'] is True
    assert run['context'] == dict(domain='selftest', spack_version='1.1.1', target='x86_64_v3',
                                  install_tree='%s/store' % tmp_path)
    assert run['failures'][0]['excerpt'] == '\n'.join(excerpt)
    assert run['counts'] == dict(cache=1, source=1, already=1, external=1, failed=1, skipped=1)
    names = [p['package'] for p in run['packages']]
    assert names == ['zlib', 'libtiny', 'cmake', 'tinycmake', 'tinybroken', 'tinyapp']
    assert run['events_missed'] == 0
    assert 80 < run['cache_saved_seconds'] < 90
    with open(html_report) as handle:
        page = handle.read()
    assert '<table class="packages"' in page and '<svg' in page and 'tinybroken@0.1' in page
    assert '<script' not in page and 'src=' not in page
    # the excerpt, escaped; the deployment in the summary table
    assert "<pre class=\"excerpt\">tinybroken.c:3:1: error: expected &#39;;&#39; before &#39;}&#39; token &lt;b&gt;" in page
    assert '<td>selftest</td><td>1.1.1</td><td>x86_64_v3</td>' in page

    # the source build of tinycmake is now in the history, and cmake's install from the cache
    history = json.loads((tmp_path / 'history.json').read_text())
    assert 'tinycmake@0.5' in history['packages'] and history['packages']['cmake@3.27.9']['seconds'] == 90.0
    assert 0 < history['packages']['cmake@3.27.9']['cache_seconds'] < 5


def test_reports_switched_off_under_awx(tmp_path):
    proc = run_playbook(tmp_path, JOB_ID='17', WIZARD_PROGRESS_REPORTS='false', WIZARD_PROGRESS_MODE='auto',
                        WIZARD_PROGRESS_HIDE_POLL_RETRIES='false')
    assert proc.returncode == 0, proc.stdout
    # hide_poll_retries=false: the stdout callback's line for every poll, as without the callback
    assert 'FAILED - RETRYING: [localhost]: Wait for the install, reporting progress' in proc.stdout
    assert 'localhost | [3/6] cmake@3.27.9 installed from the binary cache in ' in proc.stdout
    assert '\x1b' not in proc.stdout
    assert 'SPACK INSTALL SUMMARY' in proc.stdout and 'reports:' not in proc.stdout
    assert not os.path.exists(str(tmp_path / 'reports'))


def test_installed_collection_finds_its_report_template(tmp_path):
    """The built collection ships the HTML report's template (plugins/plugin_utils/templates), and the
    callback of the installed copy, not the checkout's, renders it."""
    collections = str(tmp_path / 'collections')
    # The only collections path: the checkout's own (.collections, ansible.cfg) would be "already installed".
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections)

    def galaxy(*args):
        done = subprocess.run([os.path.join(os.path.dirname(ansible_playbook()), 'ansible-galaxy'), 'collection']
                              + list(args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout

    galaxy('build', '--output-path', str(tmp_path / 'dist'), ROOT)
    galaxy('install', '--offline', '--no-deps', '-p', collections,
           *glob.glob(str(tmp_path / 'dist' / 'research-wizard-*.tar.gz')))
    template = os.path.join(collections, 'ansible_collections', 'research', 'wizard', 'plugins', 'plugin_utils',
                            'templates', 'progress_report.html.j2')
    with open(template, 'a') as handle:
        handle.write('<!-- the installed copy -->\n')

    proc = run_playbook(tmp_path, ANSIBLE_COLLECTIONS_PATH=collections)
    assert proc.returncode == 0, proc.stdout
    assert 'localhost | spack install finished rc=1 in ' in proc.stdout
    (html_report,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    with open(html_report) as handle:
        page = handle.read()
    assert '<table class="packages"' in page and 'tinybroken@0.1' in page
    assert page.endswith('</html>\n<!-- the installed copy -->\n')


BAR = re.compile(r'\x1b\[2K(localhost \[[^\x1b]*)')


def test_live_bars_eta(tmp_path):
    """The bars' ETA: unknown while nothing of the kind in flight was timed (no history), then a figure
    from the run's own times and Spack's [n/m]; the header above the bars names the deployment."""
    # 1.5 s a step: tinybroken's fetch and build take 3 s after tinycmake's build was timed, several polls
    proc = run_playbook(tmp_path, step=1.5, WIZARD_PROGRESS_MODE='live', COLUMNS='200', LINES='40')
    out = proc.stdout
    assert proc.returncode == 0, out
    bars = BAR.findall(out)
    assert bars and 'finished rc=1' in bars[-1], out
    etas = [re.search(r'  ETA (unknown|<1s|[0-9.]+s)  ', line + '  ').group(1) for line in bars[:-1]]
    assert etas[0] == 'unknown', bars
    figures = [float(eta[:-1]) for eta in etas if eta not in ('unknown', '<1s')]
    # at least one figure once tinycmake's build was timed, and sane: the whole fake install takes ~11 s
    assert figures and all(0 < figure < 30 for figure in figures), bars
    assert 'ETA 0.1s' not in out
    # the header above the bar
    assert '\x1b[2Kpack selftest, Spack 1.1.1, target x86_64_v3, install tree %s/store\x1b' % tmp_path in out


def test_interrupt_says_the_install_goes_on(tmp_path):
    """SIGINT (Ctrl-C) while the install is polled: ansible-playbook stops ("User interrupted
    execution", no summary); the callback says the install goes on, with its job id, pid, env and
    progress file, and how to follow or stop it. The fake install is stopped afterwards."""
    proc = subprocess.Popen(playbook_args(tmp_path, 3), cwd=ROOT, env=playbook_env(tmp_path, PYTHONUNBUFFERED='1'),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    seen = []
    fake_pid = None
    try:
        deadline = time.time() + 120
        for line in proc.stdout:
            seen.append(line)
            if 'cmake@3.27.9 extracting from the binary cache' in line or time.time() > deadline:
                break
        assert any('extracting from the binary cache' in line for line in seen), ''.join(seen)
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 99, rest
        with open(str(tmp_path / 'progress.jsonl')) as handle:
            start = json.loads(handle.readline())
        fake_pid = start['pid']
        os.kill(fake_pid, 0)    # still running: the install went on
    finally:
        if proc.poll() is None:
            proc.kill()
        if fake_pid is not None:
            try:
                os.kill(fake_pid, signal.SIGTERM)
            except OSError:
                pass
    assert 'User interrupted execution' in rest and 'SPACK INSTALL SUMMARY' not in rest
    lines = rest.splitlines()
    at = lines.index('research.wizard.progress: interrupted, but the install goes on in the background on localhost:')
    details = lines[at + 1]
    assert re.match(r'  localhost: job id j\d+\.\d+, pid %d, env fake, progress file %s$'
                    % (fake_pid, re.escape(str(tmp_path / 'progress.jsonl'))), details), details
    assert lines[at + 2].startswith('  follow it: rerun the same deploy (it attaches')
    assert lines[at + 3].strip() == 'or ansible-playbook playbooks/status.yml -e domain=selftest'
    assert lines[at + 4].strip() == 'stop it:   rerun the deploy with -e deploy_cancel=true'
    # nothing said for a task that ended on its own: no second message
    assert rest.count('the install goes on in the background') == 1


def test_awx_display_keeps_the_poll_events(tmp_path):
    """Under ansible-runner (AWX's engine, stdout callback awx_display, built on default): every poll is
    still a runner_retry job event with its result, but with no FAILED - RETRYING line in the output."""
    ansible_runner = pytest.importorskip('ansible_runner', reason='ansible-runner is not installed')
    env = playbook_env(tmp_path, PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get('PATH', ''))
    data_dir = tmp_path / 'runner'
    data_dir.mkdir()
    run = ansible_runner.run(
        private_data_dir=str(data_dir), project_dir=ROOT, playbook=PLAYBOOK, quiet=True, timeout=300,
        envvars=dict((k, env[k]) for k in env if k.startswith(('ANSIBLE_', 'WIZARD_')) or k == 'PATH'),
        extravars={'wizard_test_dir': str(tmp_path), 'step': 0.4})
    stdout = run.stdout.read()
    assert (run.status, run.rc) == ('successful', 0), stdout[-4000:]
    events = list(run.events)
    polls = [e for e in events if e['event'] == 'runner_retry'
             and e['event_data'].get('task_action') == 'research.wizard.spack_install_status']
    others = [e for e in events if e['event'] == 'runner_retry' and e['event_data'].get('task_action') in ('command', 'ansible.builtin.command')]
    assert polls and all('in_flight' in e['event_data']['res'] for e in polls), [e['event'] for e in events]
    assert all(not e.get('stdout') for e in polls), [e.get('stdout') for e in polls]
    assert len(others) == 2 and all('FAILED - RETRYING' in e['stdout'] for e in others)
    assert 'FAILED - RETRYING: [localhost]: Wait for the install' not in stdout
    assert 'localhost | [3/6] cmake@3.27.9 installed from the binary cache in ' in stdout
