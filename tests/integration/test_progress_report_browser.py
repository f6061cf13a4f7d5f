# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML install report of the research.wizard.progress callback, opened in headless Chromium
(Debian's `chromium`, driven by Playwright with it as `executable_path`: no browser download): no
console errors, no exceptions, no browser log entry, no request beyond the file itself, and the
summary and package tables and the timeline are in the rendered page."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import shutil

import pytest

from helpers.progress_replay import OPTION_VARS, new_callback, polls_by_time, read_stream, replay

sync_api = pytest.importorskip('playwright.sync_api', reason='playwright is not installed (scripts/setup)')

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STREAMS = os.path.join(ROOT, 'tests', 'unit', 'plugins', 'callback', 'fixtures', 'streams')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (apt-get install chromium)')

PAGE_FACTS = {
    'summary_rows': 'document.querySelectorAll("#summary tbody tr").length',
    'package_rows': 'Array.from(document.querySelectorAll("table.packages")).map('
                    't => t.querySelectorAll("tbody tr").length)',
    'first_packages': 'Array.from(document.querySelectorAll("#packages-0 tbody tr td:first-child")).map('
                      'td => td.textContent)',
    'bars': 'document.querySelectorAll("svg.timeline rect").length',
    'timeline_height': 'Math.round(document.querySelector("svg.timeline").getBoundingClientRect().height)',
    'scripts': 'document.scripts.length',
    'text': 'document.body.innerText',
}


@pytest.fixture(scope='module')
def browser():
    # Playwright turns Chromium's sandbox off by default (the tests may run as root, which it refuses).
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


def open_page(browser, path, expressions):
    """Load `path`, then evaluate `expressions` (name -> JavaScript) in the rendered page.

    Returns what the browser saw while the page loaded: console messages (console API calls, and
    Playwright adds the browser's own messages such as failed loads) as (type, text), uncaught
    exceptions, the browser log entries as (level, text, url) (DevTools' Log domain), every request
    and every failed request; plus the values of the expressions.
    """
    seen = {'console': [], 'exceptions': [], 'log': [], 'requests': [], 'failed': [], 'values': {}}
    context = browser.new_context()
    try:
        page = context.new_page()
        devtools = context.new_cdp_session(page)
        devtools.on('Log.entryAdded', lambda event: seen['log'].append(
            (event['entry'].get('level'), event['entry'].get('text'), event['entry'].get('url'))))
        devtools.send('Log.enable')
        page.on('console', lambda message: seen['console'].append((message.type, message.text)))
        page.on('pageerror', lambda error: seen['exceptions'].append(str(error)))
        page.on('request', lambda request: seen['requests'].append(request.url))
        page.on('requestfailed', lambda request: seen['failed'].append((request.url, request.failure)))
        page.goto('file://' + os.path.abspath(path), wait_until='load', timeout=60000)
        for name, expression in expressions.items():
            seen['values'][name] = page.evaluate(expression)
    finally:
        context.close()
    return seen


def hostile_stream():
    """A run whose names and messages are markup: it must show as text, never run."""
    t0 = 1764000000.0
    events = [dict(event='start', total=2, pid=1, env='<b>env</b>', ts=t0),
              dict(event='building', package='evil<script>console.error("injected")</script>', version='1',
                   origin='source', ts=t0 + 1),
              dict(event='failed', package='evil<script>console.error("injected")</script>', version='1',
                   origin='source', seconds=1.0, log='/tmp/"><img src=x onerror=alert(1)>',
                   message='Error: <img src=http://127.0.0.1:9/x.png>', ts=t0 + 2),
              dict(event='installed', package='ok&more', version='2', origin='cache', seconds=0.5, ts=t0 + 2.5),
              dict(event='finished', rc=1, seconds=3.0, ts=t0 + 3,
                   totals=dict(cache=1, source=0, already=0, external=0, failed=1, skipped=0))]
    for seq, event in enumerate(events):
        event['seq'] = seq
    return events


@pytest.fixture
def report(tmp_path, monkeypatch):
    """An HTML report of every recorded stream (one host each) and of the hostile run."""
    for var in OPTION_VARS:
        monkeypatch.delenv(var, raising=False)
    callback = new_callback(mode='plain', report_dir=str(tmp_path / 'reports'), history_file='')
    runs = [(os.path.basename(p)[:-len('.jsonl')], read_stream(p))
            for p in sorted(glob.glob(os.path.join(STREAMS, '*.jsonl')))]
    runs.append(('hostile', hostile_stream()))
    finals = []
    for host, events in runs:
        results = replay(callback, str(tmp_path / ('%s.jsonl' % host)), polls_by_time(events, 1.0), host=host)
        finals.append((host, results[-1]))
    callback.v2_playbook_on_stats(None)
    (html_path,) = glob.glob(str(tmp_path / 'reports' / 'install-report-*.html'))
    return html_path, finals


def test_harness_sees_console_errors_and_outside_requests(browser, tmp_path):
    """The checks below would catch a broken page: prove it on one."""
    page = tmp_path / 'bad.html'
    page.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body><table class="packages"></table>'
                    '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom"); nosuchfunction();</script>'
                    '</body></html>')
    seen = open_page(browser, str(page), {'scripts': 'document.scripts.length'})
    assert ('error', 'boom') in seen['console']
    assert any('nosuchfunction' in (text or '') for text in seen['exceptions'])
    assert 'http://127.0.0.1:9/x.png' in seen['requests']
    assert [url for url, _failure in seen['failed']] == ['http://127.0.0.1:9/x.png']
    assert any(level == 'error' and url == 'http://127.0.0.1:9/x.png' for level, _text, url in seen['log'])
    assert seen['values']['scripts'] == 1


def test_report_renders_cleanly_in_chromium(browser, report):
    html_path, finals = report
    seen = open_page(browser, html_path, PAGE_FACTS)
    assert seen['console'] == [] and seen['exceptions'] == [] and seen['log'] == [] and seen['failed'] == []
    assert seen['requests'] == ['file://' + html_path]     # self-contained: nothing else is fetched
    values = seen['values']
    assert values['scripts'] == 0
    assert values['summary_rows'] == len(finals)
    assert values['package_rows'] == [len(final['packages']) for _host, final in finals]
    assert values['first_packages'] == [p['package'] for p in finals[0][1]['packages']]
    timed = sum(1 for _host, final in finals for p in final['packages'] if p['start'] is not None)
    assert values['bars'] == timed and values['timeline_height'] > 24
    # markup in names and messages is shown as text
    text = values['text']
    assert 'evil<script>console.error("injected")</script>@1' in text
    assert 'Error: <img src=http://127.0.0.1:9/x.png>' in text and 'ok&more' in text
