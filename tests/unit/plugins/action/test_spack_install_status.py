# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action of spack_install_status carries the poll position from one retry to the next."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from unittest.mock import MagicMock

import pytest

from ansible_collections.research.wizard.plugins.action import spack_install_status as action


class Clock(object):
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(action.time, 'time', clock.time)
    monkeypatch.setattr(action.time, 'sleep', clock.sleep)
    monkeypatch.setattr(action, '_CURSORS', {})
    return clock


def make_action(args, uuid='task-1', answers=(), took=0.0, clock=None):
    """An ActionModule whose module calls return `answers` in turn, each taking `took` seconds."""
    task = MagicMock()
    task.args = dict(args)
    task._uuid = uuid
    task.async_val = 0
    task.check_mode = False
    connection = MagicMock()
    connection.has_native_async = False
    connection._shell.tmpdir = None
    plugin = action.ActionModule(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    calls = []
    answers = list(answers)

    def execute_module(module_args=None, task_vars=None, wrap_async=False):
        calls.append(dict(module_args))
        if clock is not None:
            clock.now += took
        return dict(answers.pop(0), changed=False)

    plugin._execute_module = execute_module
    return plugin, calls


def answer(next_since, started=500.0, **extra):
    return dict({'progress_file': '/p', 'next_since': next_since, 'started': started, 'finished': False,
                 'events': []}, **extra)


ARGS = {'progress_file': '/p', 'jid': 'j1', 'wait': 5}
VARS = {'inventory_hostname': 'node1'}


def test_retries_continue_from_the_previous_poll(clock):
    plugin, calls = make_action(ARGS, answers=[answer(3)], took=2.0, clock=clock)
    result = plugin.run(task_vars=VARS)
    assert calls == [ARGS] and result['next_since'] == 3
    # each retry gets a new action object; the position survives in the worker process
    plugin, calls = make_action(ARGS, answers=[answer(9)], took=2.0, clock=clock)
    plugin.run(task_vars=VARS)
    assert calls == [dict(ARGS, since=3)] and clock.sleeps == []
    plugin, calls = make_action(ARGS, answers=[answer(9)], clock=clock)
    plugin.run(task_vars=VARS)
    assert calls == [dict(ARGS, since=9)]


def test_polls_start_at_least_half_a_second_apart(clock):
    plugin, _calls = make_action(ARGS, answers=[answer(3)], took=0.1, clock=clock)
    plugin.run(task_vars=VARS)
    plugin, _calls = make_action(ARGS, answers=[answer(4)], took=0.1, clock=clock)
    plugin.run(task_vars=VARS)
    assert clock.sleeps == [0.4]


def test_the_first_poll_keeps_the_users_since_and_other_tasks_their_own_position(clock):
    plugin, calls = make_action(dict(ARGS, since=2), answers=[answer(5)], clock=clock)
    plugin.run(task_vars=VARS)
    assert calls == [dict(ARGS, since=2)]
    plugin, calls = make_action(ARGS, uuid='task-2', answers=[answer(5)], clock=clock)
    plugin.run(task_vars=VARS)
    assert calls == [ARGS]
    plugin, calls = make_action(ARGS, answers=[answer(5)], clock=clock)
    plugin.run(task_vars={'inventory_hostname': 'node2'})
    assert calls == [ARGS]


def test_a_new_run_between_two_polls_is_read_from_its_start(clock):
    plugin, _calls = make_action(ARGS, answers=[answer(40)], clock=clock)
    plugin.run(task_vars=VARS)
    # the file now holds another run, already longer than the position
    fresh = answer(60, started=900.0, events=[{'seq': s} for s in range(60)])
    plugin, calls = make_action(ARGS, answers=[answer(60, started=900.0, events=[{'seq': 59}]), fresh], clock=clock)
    result = plugin.run(task_vars=VARS)
    assert calls == [dict(ARGS, since=40), dict(ARGS, wait=0)]
    assert len(result['events']) == 60
    # a shorter new run is already returned whole by the module (rotated): no second call
    plugin, calls = make_action(ARGS, answers=[answer(2, started=950.0, rotated=True)], clock=clock)
    plugin.run(task_vars=VARS)
    assert len(calls) == 1


def test_waiting_for_the_run_to_start_is_not_a_new_run(clock):
    plugin, _calls = make_action(ARGS, answers=[answer(0, started=None)], clock=clock)
    plugin.run(task_vars=VARS)
    plugin, calls = make_action(ARGS, answers=[answer(4, started=700.0)], clock=clock)
    plugin.run(task_vars=VARS)
    assert calls == [dict(ARGS, since=0)]


def test_failed_poll_keeps_no_position(clock):
    plugin, _calls = make_action(ARGS, answers=[{'failed': True, 'msg': 'Cannot read the progress file'}], clock=clock)
    result = plugin.run(task_vars=VARS)
    assert result['failed'] is True and action._CURSORS == {}
