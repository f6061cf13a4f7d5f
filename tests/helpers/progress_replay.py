# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive the research.wizard.progress callback without a playbook.

A fake display that records what the callback writes, fake task results, and a replay of an event
stream poll by poll: each poll appends its events to a progress file and reads it back the way
spack_install_status does inside an `until` loop (continuing from the previous poll's `next_since`),
then hands the result to the callback as `v2_runner_retry` (the last one as `v2_runner_on_ok` or
`v2_runner_on_failed`).
"""
import json
import os

import yaml

from ansible import constants as C

from ansible_collections.research.wizard.plugins.callback import progress as progress_callback
from ansible_collections.research.wizard.plugins.module_utils import _progress as progress

CALLBACK_NAME = 'research.wizard.progress'
OPTION_VARS = ('WIZARD_PROGRESS_MODE', 'WIZARD_PROGRESS_SUMMARY', 'WIZARD_PROGRESS_REPORTS',
               'WIZARD_PROGRESS_REPORT_DIR', 'WIZARD_PROGRESS_HISTORY_FILE')


class FakeDisplay(object):
    """Records what the callback writes (the real Display writes to stdout with colours)."""

    verbosity = 0

    def __init__(self, keep=True):
        self.keep = keep
        self.chunks = []
        self.warnings = []

    def display(self, msg, color=None, stderr=False, screen_only=False, log_only=False, newline=True):
        if self.keep:
            self.chunks.append(msg + ('\n' if newline else ''))

    def banner(self, msg, color=None, cows=True):
        if self.keep:
            self.chunks.append('%s %s\n' % (msg, '*' * 10))

    def warning(self, msg, formatted=False):
        self.warnings.append(msg)

    @property
    def text(self):
        return ''.join(self.chunks)

    @property
    def lines(self):
        return [line for line in self.text.split('\n') if line]


class FakeHost(object):
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask(object):
    delegate_to = None

    def __init__(self, action):
        self.action = action
        self.resolved_action = action

    def get_name(self):
        return 'wait'


class FakeResult(object):
    """The parts of a CallbackTaskResult the callback uses."""

    def __init__(self, host, data, action='research.wizard.spack_install_status'):
        self.host = FakeHost(host)
        self.task = FakeTask(action)
        self.result = data


def register_options():
    """Register the callback's documented options the way the plugin loader does."""
    options = yaml.safe_load(progress_callback.DOCUMENTATION)['options']
    C.config.initialize_plugin_configuration_definitions('callback', CALLBACK_NAME, options)
    return CALLBACK_NAME


def new_callback(display=None, module=progress_callback, **options):
    """A callback with these options; `module` may be another version of the plugin's module."""
    callback = module.CallbackModule()
    callback._load_name = register_options()
    callback._display = display if display is not None else FakeDisplay()
    callback.set_options(direct=options)
    return callback


def read_stream(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def polls_by_time(events, seconds):
    """Cut a recorded stream into what successive polls, `seconds` apart, would have found."""
    polls = []
    t0 = events[0]['ts']
    for event in events:
        slot = int((event['ts'] - t0) // seconds)
        if not polls or slot != polls[-1][0]:
            polls.append((slot, []))
        polls[-1][1].append(event)
    return [(t0 + (slot + 1) * seconds, batch) for slot, batch in polls]


def replay(callback, path, polls, host='localhost', max_events=200):
    """Feed `polls` ([(now, events)]) to the callback through a progress file at `path`.

    Returns the status results, as the polling loop registered them.
    """
    if os.path.exists(path):
        os.unlink(path)
    reader = progress.ProgressReader(path)
    since = None
    results = []
    for number, (now, batch) in enumerate(polls):
        with open(path, 'a') as handle:
            for event in batch:
                handle.write(json.dumps(event, sort_keys=True) + '\n')
        reader.refresh()
        data = progress.status(path, since=since, max_events=max_events, now=now, reader=reader)
        since = data['next_since']
        results.append(data)
        if number < len(polls) - 1:
            callback.v2_runner_retry(FakeResult(host, dict(data, attempts=number + 1, retries=10 ** 4, failed=False)))
        elif data['rc'] == 0:
            callback.v2_runner_on_ok(FakeResult(host, dict(data, failed=False)))
        else:
            callback.v2_runner_on_failed(FakeResult(host, dict(data, failed=True)))
    return results
