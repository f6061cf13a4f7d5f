# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real ansible-playbook run: a fake install appends events in the background (async, poll 0),
spack_install_status is polled with until/retries/delay, and the research.wizard.progress callback
(enabled by the collection's ansible.cfg) prints per-package lines and writes the reports."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'progress.yml')


def ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return candidate if os.path.exists(candidate) else os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook')


def run_playbook(tmp_path, **env_extra):
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
    return subprocess.run(
        [ansible_playbook(), PLAYBOOK, '-e', 'wizard_test_dir=%s' % tmp_path, '-e', 'step=0.4'],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False,
        universal_newlines=True,
    )


def test_progress_callback_in_a_real_playbook(tmp_path):
    # an earlier run built cmake from source in 90 s: the cache saves about that much now
    (tmp_path / 'history.json').write_text(json.dumps(
        {'format': 1, 'packages': {'cmake@3.27.9': {'seconds': 90.0, 'samples': 1, 'updated': 1}}}))
    proc = run_playbook(tmp_path)
    out = proc.stdout
    assert proc.returncode == 0, out

    # polling happened (each poll is a v2_runner_retry), and the output is plain: stdout is a pipe
    assert 'FAILED - RETRYING: [localhost]: Wait for the install, reporting progress' in out
    assert '\x1b' not in out

    # one line per package state change, in install order
    expected = [
        'localhost | spack install started: 6 packages, env fake',
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
    lines = [line for line in out.splitlines() if line.startswith('localhost | ')]
    assert len(lines) == len(expected), out
    for line, start in zip(lines, expected):
        assert line.startswith(start), (line, start)
    assert '(log: %s/tinybroken-build-out.txt)' % tmp_path in lines[11]
    assert lines[-1].endswith(': 1 cache, 1 source, 1 already, 1 external, 1 failed, 1 skipped')

    # the summary table after the recap
    summary = out[out.index('SPACK INSTALL SUMMARY'):].splitlines()
    assert summary[1].split() == ['host', 'total', 'cache', 'source', 'already', 'external', 'failed',
                                  'skipped', 'rc', 'time', 'cache', 'saved']
    row = summary[2].split()
    assert row[:9] == ['localhost', '6', '1', '1', '1', '1', '1', '1', '1']
    assert row[10] in ('~1m29s', '~1m30s')  # 90 s recorded build less the ~0.4 s extract
    assert summary[3] == 'failed packages:'
    assert 'tinybroken@0.1  log: %s/tinybroken-build-out.txt' % tmp_path in summary[4]

    # the reports
    (json_report,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.json'))
    (html_report,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    assert 'reports: %s, %s' % (json_report, html_report) in out
    with open(json_report) as handle:
        report = json.load(handle)
    assert report['playbook'] == 'progress.yml'
    (run,) = report['runs']
    assert run['host'] == 'localhost' and run['rc'] == 1 and run['finished'] is True
    assert run['counts'] == dict(cache=1, source=1, already=1, external=1, failed=1, skipped=1)
    names = [p['package'] for p in run['packages']]
    assert names == ['zlib', 'libtiny', 'cmake', 'tinycmake', 'tinybroken', 'tinyapp']
    assert run['events_missed'] == 0
    assert 80 < run['cache_saved_seconds'] < 90
    with open(html_report) as handle:
        page = handle.read()
    assert '<table class="packages"' in page and '<svg' in page and 'tinybroken@0.1' in page
    assert '<script' not in page and 'src=' not in page

    # the source build of tinycmake is now in the history
    history = json.loads((tmp_path / 'history.json').read_text())
    assert 'tinycmake@0.5' in history['packages'] and history['packages']['cmake@3.27.9']['seconds'] == 90.0


def test_reports_switched_off_under_awx(tmp_path):
    proc = run_playbook(tmp_path, JOB_ID='17', WIZARD_PROGRESS_REPORTS='false', WIZARD_PROGRESS_MODE='auto')
    assert proc.returncode == 0, proc.stdout
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
