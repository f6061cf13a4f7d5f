# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ETA of an install run (module_utils/_progress_state.eta_seconds), case by case from the YAML
file next to this one, and the timing figures ProgressState keeps for it with flat memory."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._progress_state import ProgressState, eta_seconds

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test__progress_state_eta.yaml')) as _handle:
    CASES = yaml.safe_load(_handle)

T0 = 1764000000.0


@pytest.mark.parametrize('case', CASES, ids=[case['name'] for case in CASES])
def test_eta_seconds(case):
    args = dict(case['args'])
    args['mix'] = tuple(args['mix'])
    known_times = case.get('known')
    if known_times is not None:
        args['known'] = lambda name, version, origin: known_times.get(name)
    assert eta_seconds(**args) == case['expected']


def test_state_keeps_sums_not_packages():
    state = ProgressState(retain=False)
    state.apply(dict(event='start', total=5, seq=0, ts=T0))
    events = [
        dict(event='extracting', package='a', origin='cache', ts=T0),
        dict(event='installed', package='a', origin='cache', seconds=1.0, ts=T0 + 1),
        dict(event='building', package='b', ts=T0 + 1),
        dict(event='building', package='c', ts=T0 + 1),
        dict(event='installed', package='b', origin='source', seconds=10.0, ts=T0 + 11),
        dict(event='failed', package='c', origin='source', seconds=10.0, ts=T0 + 11),
        dict(event='installed', package='d', origin='already', seconds=0.0, ts=T0 + 11),
    ]
    for seq, event in enumerate(events, 1):
        state.apply(dict(event, seq=seq))
    assert state.packages == {}
    assert state.mean('cache') == 1.0 and state.mean('source') == 10.0     # a failure is not a mean's sample
    assert state.parallelism() == pytest.approx(21.0 / 11.0)                # ... but it was work
    # 1 left (5 - 4 done), a package of unknown origin: (1 x 1 s + 1 x 10 s) / 2, over 21/11 in parallel
    assert state.eta(T0 + 11) == round(5.5 / (21.0 / 11.0), 1)
    state.apply(dict(event='finished', rc=1, seconds=12.0, seq=9, ts=T0 + 12))
    assert state.eta(T0 + 12) == 0.0


def test_a_failure_keeps_its_excerpt():
    state = ProgressState()
    state.apply(dict(event='failed', package='x', version='1', seconds=1.0, log='/l', message='m',
                     excerpt='x.c:1: error: boom', seq=0, ts=T0))
    assert state.failures() == [dict(package='x', version='1', hash=None, log='/l', message='m',
                                     excerpt='x.c:1: error: boom')]
    assert state.packages['x'].as_dict()['excerpt'] == 'x.c:1: error: boom'
