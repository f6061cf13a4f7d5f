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
  - The poll loop shows only the package lines and the bar - with O(hide_poll_retries) the stdout
    callback's C(FAILED - RETRYING) line of every poll of M(research.wizard.spack_install_status)
    is left out (stock C(default) stdout callback and those derived from it, such as AWX's
    C(awx_display)). Every other output (errors, warnings, other tasks, the retries of other tasks'
    C(until) loops) is untouched.
  - The ETA comes from Spack's C([n/m]) (packages done and in the plan), the build-time history
    of earlier runs in O(history_file) (each package's source build time, and its install time from a
    binary cache), this run's own times and the parallelism seen. It shows C(ETA unknown) as long as
    there is nothing to tell it from - never a made-up figure.
  - The start line, the live bars' header, the summary and the HTML report name what is deployed -
    the pack, the Spack version, the target and the install tree (from the results of
    M(research.wizard.domain_pack_info) and M(research.wizard.spack_env), and the C(domain_pack_summary)
    fact of the C(domain_pack) role).
  - A failed package is shown with the first error lines of its build log (C(excerpt)) when the
    install reported them.
  - Interrupted (Ctrl-C) while an install is polled, the playbook ends with no summary, but the
    install goes on in the background; the callback then says so for each host, with the job id,
    pid, environment and progress file, and how to follow it (rerun the deploy, which attaches to
    it, or C(playbooks/status.yml)) or stop it (C(-e deploy_cancel=true)).
  - The time the cache saved is estimated from the same history.
requirements:
  - Enable it by its full name, for example C(callbacks_enabled = research.wizard.progress) in the
    C([defaults]) section of C(ansible.cfg) (the collection's own C(ansible.cfg) does).
  - Hiding the poll retries needs a stdout callback that prints them in C(v2_runner_retry), as
    C(default) does; with another, its retry output is left as it is.
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
  hide_poll_retries:
    description:
      - Leave out the stdout callback's C(FAILED - RETRYING) line for each poll of
        M(research.wizard.spack_install_status) (one every few seconds for hours); the package lines
        and the bar show the progress. Only those polls; the retries of other tasks still print.
      - V(false) prints them again (to debug a poll loop).
    type: bool
    default: true
    version_added: 0.2.0
    env:
      - name: WIZARD_PROGRESS_HIDE_POLL_RETRIES
    ini:
      - section: callback_wizard_progress
        key: hide_poll_retries
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
    interrupt_lines,
    live_lines,
    resolve_mode,
    summary_lines,
)

STATUS_ACTIONS = ('research.wizard.spack_install_status', 'spack_install_status')
STATUS_KEYS = ('progress_file', 'next_since', 'in_flight', 'finished')
PACK_ACTIONS = ('research.wizard.domain_pack_info', 'domain_pack_info', 'research.wizard.domain_pack', 'domain_pack')
ENV_ACTIONS = ('research.wizard.spack_env', 'spack_env', 'research.wizard.spack_env_info', 'spack_env_info')
SUMMARY_FACT = 'domain_pack_summary'
FOLLOW_PLAYBOOK = 'playbooks/status.yml'


def find_stdout_callback(callback):
    """The stdout callback of the TaskQueueManager that sends ``callback`` its events, else None.

    ansible-core has no public way to reach it. The TaskQueueManager keeps every callback in
    ``_callback_plugins``, the stdout callback first (its ``send_callback`` relies on that order:
    "We always send events to stdout callback first"), and is the ``self`` of a frame up the stack
    while it sends an event (``send_callback``) or loads the callbacks (``load_callbacks``). Looked
    for there, and checked (the list holds this callback, its first item is a stdout callback), so
    a change inside ansible-core finds nothing instead of the wrong object.
    """
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get('self')
        plugins = getattr(owner, '_callback_plugins', None)
        if isinstance(plugins, list) and any(plugin is callback for plugin in plugins):
            first = plugins[0] if plugins else None
            if first is not callback and getattr(first, 'CALLBACK_TYPE', None) == 'stdout':
                return first
            return None
        frame = frame.f_back
    return None


class MutedDisplay(object):
    """A Display whose ``display`` and ``banner`` write nothing; anything else goes to the real one
    (``verbosity`` for the stdout callback's checks, ``warning``, ...)."""

    def __init__(self, display):
        self._wrapped = display

    def display(self, *args, **kwargs):
        return None

    def banner(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


def _result_key(result):
    """What tells one task result from another across the copies each callback is sent."""
    task = getattr(result, 'task', None)
    host = getattr(result, 'host', None)
    return (host.get_name() if host is not None else None, getattr(task, '_uuid', None) or id(task))


def _action(result):
    task = getattr(result, 'task', None)
    return getattr(task, 'resolved_action', None) or getattr(task, 'action', None)


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
        self.history = None
        self._history_loaded = False
        self.stdout_filtered = None    # the stdout callback whose poll retries are left out
        self.polling = {}              # host -> the last status result of a poll loop still running
        self.ended = False             # the stats came: the playbook ended on its own
        self._interrupt_hook = False
        self._taken_early = None

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

    def build_history(self):
        """The build-time history (None when O(history_file) is empty), read once per playbook."""
        if not self._history_loaded:
            self._history_loaded = True
            path = self.get_option('history_file')
            self.history = BuildHistory(path) if path else None
            if self.history is not None and self.history.error:
                self._display.warning(self.history.error)
            self.runs.history = self.history
        return self.history

    # -- the stdout callback's poll retries ------------------------------------------------------
    def filter_poll_retries(self):
        """Leave out the stdout callback's retry line for the polls of spack_install_status.

        Every poll of the loop reaches the callbacks as ``v2_runner_retry``, and the ``default``
        stdout callback prints "FAILED - RETRYING: [host]: task (N retries left)" for each - about
        720 lines an hour that say nothing the package lines and the bar do not. A callback cannot
        veto another's output, so this wraps the stdout callback's own ``v2_runner_retry`` (an
        instance attribute, which ``send_callback`` finds with ``getattr``). For a status poll the
        wrapped method still runs, with the instance's ``_display`` muted for that one call: a
        callback built on ``default`` keeps what else it does - AWX's ``awx_display`` still sends
        its ``runner_retry`` job event with the poll's result (written with ``event_context``, not
        through ``_display``), only without the line. Every other retry passes untouched. Done once,
        at the start of the playbook (callbacks are sent events one at a time, under a lock).
        """
        if self.stdout_filtered is not None or not self.get_option('hide_poll_retries'):
            return
        stdout = find_stdout_callback(self)
        if stdout is None or not callable(getattr(stdout, 'v2_runner_retry', None)):
            if self._display.verbosity >= 3:
                self._display.display('research.wizard.progress: no stdout callback found, poll retries are shown')
            return
        original = stdout.v2_runner_retry
        is_poll = self.is_status_result

        def v2_runner_retry(result, *args, **kwargs):
            if not is_poll(result):
                return original(result, *args, **kwargs)
            shown = stdout.__dict__.get('_display')
            stdout._display = MutedDisplay(shown if shown is not None else self._display)
            try:
                return original(result, *args, **kwargs)
            finally:
                if shown is None:
                    del stdout._display
                else:
                    stdout._display = shown

        v2_runner_retry.wizard_original = original
        stdout.v2_runner_retry = v2_runner_retry
        # The loop's last poll: its package lines before the stdout callback's "ok: [host]", not after.
        for name in ('v2_runner_on_ok', 'v2_runner_on_failed'):
            if callable(getattr(stdout, name, None)):
                setattr(stdout, name, self._first(getattr(stdout, name)))
        self.stdout_filtered = stdout

    def _first(self, original):
        """``original`` (a stdout callback method), after this callback took a status result in it."""
        def method(result, *args, **kwargs):
            if self.is_status_result(result):
                self._consume(result)
                self._taken_early = _result_key(result)
            return original(result, *args, **kwargs)
        method.wizard_original = original
        return method

    # -- recognising results ----------------------------------------------------------------------
    @staticmethod
    def is_status_result(result):
        data = getattr(result, 'result', None)
        if not isinstance(data, dict):
            return False
        action = _action(result)
        if action in STATUS_ACTIONS:
            return 'progress_file' in data
        return all(key in data for key in STATUS_KEYS)

    def note_context(self, result):
        """Pick up what a result tells of the deployment: the pack (domain_pack_info), the Spack
        version (spack_env), all four from the domain_pack role's summary fact."""
        data = getattr(result, 'result', None)
        if not isinstance(data, dict):
            return
        values = {}
        action = _action(result)
        if action in PACK_ACTIONS and isinstance(data.get('pack'), dict):
            values.update(domain=data['pack'].get('name'), target=data['pack'].get('spack_target'))
        elif action in ENV_ACTIONS:
            values['spack_version'] = data.get('spack_version')
        facts = data.get('ansible_facts')
        if isinstance(facts, dict) and isinstance(facts.get(SUMMARY_FACT), dict):
            values.update(facts[SUMMARY_FACT])
        if values:
            self.runs.note_context(result.host.get_name(), values)

    # -- consuming ------------------------------------------------------------------------------
    def handle_status(self, host, data):
        self.build_history()
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
    def _consume(self, result, polling=False):
        if self.mode is None:
            self.set_options()
        if self.is_status_result(result):
            host = result.host.get_name()
            self.handle_status(host, result.result)
            self.track_poll(host, result, polling)
        else:
            self.note_context(result)

    def v2_runner_retry(self, result):
        self._consume(result, polling=True)

    def _consume_last(self, result):
        if self._taken_early is not None and self._taken_early == _result_key(result):
            self._taken_early = None    # taken already, before the stdout callback showed it
            return
        self._consume(result)

    def v2_runner_on_ok(self, result):
        self._consume_last(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._consume_last(result)

    def v2_runner_on_unreachable(self, result):
        self.polling.pop(result.host.get_name(), None)

    def v2_playbook_on_start(self, playbook):
        self.playbook_name = os.path.basename(getattr(playbook, '_file_name', '') or '') or None
        self.playbook_start = time.time()
        if self.mode is None:
            self.set_options()
        self.filter_poll_retries()

    # -- an interrupted poll loop -----------------------------------------------------------------
    def track_poll(self, host, result, polling):
        """Keep the last result of each poll loop still going (a retry of an install not finished);
        the loop's last result (ok/failed) ends it."""
        data = result.result
        if not polling or data.get('finished'):
            self.polling.pop(host, None)
            return
        task = getattr(result, 'task', None)
        args = getattr(task, 'args', None) or {}
        module_args = (data.get('invocation') or {}).get('module_args') or {}
        jid = data.get('jid') or module_args.get('jid') or module_args.get('job_id')
        if not jid and isinstance(args.get('jid'), str) and '{' not in args['jid']:
            jid = args['jid']
        self.polling[host] = dict((key, data.get(key)) for key in ('env', 'pid', 'run_id', 'progress_file'))
        self.polling[host].update(jid=jid, task=getattr(result, 'task_name', None) or '')
        if not self._interrupt_hook:
            # Ctrl-C: ansible-playbook prints "User interrupted execution" and exits (sys.exit, so
            # atexit runs) without sending the stats; the install job goes on on the hosts.
            self._interrupt_hook = True
            atexit.register(self.on_exit)

    def on_exit(self):
        if self.ended or not self.polling:
            return
        self._close_live()
        for text, color in interrupt_lines(self.polling, self.runs.contexts):
            self._display.display(text, color=color, stderr=True)
        self.polling = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_live()

    def v2_playbook_on_handler_task_start(self, task):
        self._close_live()

    def v2_playbook_on_play_start(self, play):
        self._close_live()

    def v2_playbook_on_stats(self, stats):
        self.ended = True
        self._close_live()
        if not self.runs:
            return
        try:
            self.final_output()
        finally:
            self.runs.close()

    def final_output(self):
        history = self.build_history()
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
