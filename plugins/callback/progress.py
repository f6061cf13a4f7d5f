# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: progress
type: aggregate
short_description: Live per-package progress of Spack installs, a summary table and JSON/HTML reports
version_added: 0.1.0
description:
  - Follows the results of M(research.wizard.spack_install_status) polled with C(until) (each poll
    reaches callbacks as C(v2_runner_retry)) and shows the install of every host as it happens.
  - On a real terminal, a live bar per host at the bottom of the screen, redrawn in place - done and
    total packages, cache versus source, the package(s) being worked on, elapsed time and an ETA -
    plus one permanent line per finished package above it.
  - Under AWX or ansible-runner (E(JOB_ID), E(AWX_HOST) or E(AWX_ISOLATED_DATA_DIR) set, or the
    C(awx_display) stdout callback), with E(TERM=dumb), or when the
    output is not a terminal, one plain line per package state change, no cursor movement.
  - At the end of the playbook, a summary table per host (packages by origin, failures with their
    build log, total time, time the binary cache saved), a JSON report and a self-contained HTML
    report with the package table and a timeline chart.
  - It only adds output; every other callback's output (errors, warnings, other tasks) is untouched.
  - The time the cache saved is estimated from a small history of source build times per package,
    recorded by earlier runs in O(history_file).
requirements:
  - Enable it by its full name, for example C(callbacks_enabled = research.wizard.progress) in the
    C([defaults]) section of C(ansible.cfg) (the collection's own C(ansible.cfg) does).
author:
  - research.wizard developers (@research-wizard)
options:
  mode:
    description:
      - V(auto) picks V(live) on a terminal and V(plain) under AWX/ansible-runner, with C(TERM=dumb),
        or when the output is not a terminal.
      - V(live) forces the redrawn bars (terminal escape codes); V(plain) forces one line per package
        state change.
    type: str
    default: auto
    choices: [auto, live, plain]
    env:
      - name: WIZARD_PROGRESS_MODE
    ini:
      - section: callback_wizard_progress
        key: mode
  summary:
    description: Print the summary table when the playbook ends.
    type: bool
    default: true
    env:
      - name: WIZARD_PROGRESS_SUMMARY
    ini:
      - section: callback_wizard_progress
        key: summary
  reports:
    description: Write the JSON and HTML reports when the playbook ends. V(false) turns them off.
    type: bool
    default: true
    env:
      - name: WIZARD_PROGRESS_REPORTS
    ini:
      - section: callback_wizard_progress
        key: reports
  report_dir:
    description:
      - Directory for the reports C(install-report-YYYYmmdd-HHMMSS.json) and C(.html), created when
        missing. A relative path is relative to the directory C(ansible-playbook) runs in.
    type: str
    default: wizard-reports
    env:
      - name: WIZARD_PROGRESS_REPORT_DIR
    ini:
      - section: callback_wizard_progress
        key: report_dir
  history_file:
    description:
      - JSON file with the source build time of each package seen by earlier runs (name and version),
        used to estimate the time the binary cache saved. Updated at the end of every playbook with
        the packages built from source.
      - An empty value turns the history off (no estimate, nothing written).
    type: str
    default: ~/.cache/research.wizard/build-times.json
    env:
      - name: WIZARD_PROGRESS_HISTORY_FILE
    ini:
      - section: callback_wizard_progress
        key: history_file
notes:
  - A package's line appears with the first poll after Spack reported it. With the long polls of
    M(research.wizard.spack_install_status) (O(research.wizard.spack_install_status#module:wait),
    C(delay=0), as the C(domain_pack) role does) that is within a fraction of a second; with plain
    polls, up to the C(delay) of the C(until) loop.
  - Memory stays flat however many packages an install has - finished packages are spooled to a
    temporary file (removed at the end of the playbook) and streamed back into the summary and
    the reports.
  - The live bars use a terminal scroll region (like C(apt)); other output scrolls above them. The
    region is reset when the polling task ends, at the end of the playbook and at exit.
seealso:
  - module: research.wizard.spack_install_status
  - module: research.wizard.spack_install
'''

import atexit
import os
import sys
import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.research.wizard.plugins.plugin_utils.progress_history import BuildHistory
from ansible_collections.research.wizard.plugins.plugin_utils.progress_model import RunBook
from ansible_collections.research.wizard.plugins.plugin_utils.progress_report import write_reports
from ansible_collections.research.wizard.plugins.plugin_utils.progress_terminal import (
    LiveArea,
    PollLines,
    live_lines,
    resolve_mode,
    summary_lines,
)

STATUS_ACTIONS = ('research.wizard.spack_install_status', 'spack_install_status')
STATUS_KEYS = ('progress_file', 'next_since', 'in_flight', 'finished')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'research.wizard.progress'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.mode = None
        self.runs = RunBook()
        self.playbook_name = None
        self.playbook_start = time.time()
        self.live = None
        self.report_paths = []
        self._atexit = False

    # -- options and output ---------------------------------------------------------------------
    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.mode = resolve_mode(self.get_option('mode'))
        self.live = LiveArea(self._raw) if self.mode == 'live' else None

    def _raw(self, text):
        self._display.display(text, newline=False, screen_only=True)
        self._flush()

    def _line(self, text, color=None):
        self._display.display(text, color=color)
        self._flush()

    @staticmethod
    def _flush():
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass

    def _close_live(self):
        if self.live is not None and self.live.active:
            self.live.close()

    def _warn(self, text):
        self._display.warning('research.wizard.progress: %s' % text)

    # -- recognising status results -------------------------------------------------------------
    @staticmethod
    def is_status_result(result):
        data = getattr(result, 'result', None)
        if not isinstance(data, dict):
            return False
        task = getattr(result, 'task', None)
        action = getattr(task, 'resolved_action', None) or getattr(task, 'action', None)
        if action in STATUS_ACTIONS:
            return 'progress_file' in data
        return all(key in data for key in STATUS_KEYS)

    # -- consuming ------------------------------------------------------------------------------
    def handle_status(self, host, data):
        tracker = self.runs.tracker(host, data)
        if tracker is None:
            return
        lines = PollLines(tracker, live=self.mode == 'live')
        if tracker.take(data, lines.add):
            lines.end()
        for text, color in lines.result():
            self._line(text, color)
        if self.mode == 'live':
            self.draw_live()

    def draw_live(self):
        lines = live_lines(self.runs.latest())
        if lines:
            self.live.draw(lines)
            if not self._atexit:
                self._atexit = True
                atexit.register(self._close_live)

    # -- callback entry points ------------------------------------------------------------------
    def _consume(self, result):
        if self.mode is None:
            self.set_options()
        if self.is_status_result(result):
            self.handle_status(result.host.get_name(), result.result)

    def v2_runner_retry(self, result):
        self._consume(result)

    def v2_runner_on_ok(self, result):
        self._consume(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._consume(result)

    def v2_playbook_on_start(self, playbook):
        self.playbook_name = os.path.basename(getattr(playbook, '_file_name', '') or '') or None
        self.playbook_start = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_live()

    def v2_playbook_on_handler_task_start(self, task):
        self._close_live()

    def v2_playbook_on_play_start(self, play):
        self._close_live()

    def v2_playbook_on_stats(self, stats):
        self._close_live()
        if not self.runs:
            return
        try:
            self.final_output()
        finally:
            self.runs.close()

    def final_output(self):
        history_path = self.get_option('history_file')
        history = BuildHistory(history_path) if history_path else None
        if history is not None and history.error:
            self._display.warning(history.error)
        reports = [tracker.report(history) for tracker in self.runs.all()]
        if self.get_option('reports'):
            try:
                self.report_paths = write_reports(reports, self.get_option('report_dir'), self.playbook_name,
                                                  self.playbook_start)
            except (IOError, OSError) as exc:
                self._warn('cannot write the reports: %s' % exc)
        if self.get_option('summary'):
            self._display.banner('SPACK INSTALL SUMMARY')
            for text, color in summary_lines(reports, self.report_paths):
                self._display.display(text, color=color)
            self._flush()
        if history is not None:
            history.record_builds(reports)
            try:
                history.save()
            except (IOError, OSError) as exc:
                self._warn('cannot write the build-time history %s: %s' % (history.path, exc))
