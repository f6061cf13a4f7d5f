# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command table (_spack_cmd) from the YAML cases next to this file."""

import os

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._spack_cmd import COMMANDS, spack_args

with open(os.path.join(os.path.dirname(__file__), 'test__spack_cmd.yaml')) as f:
    CASES = yaml.safe_load(f)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_spack_args(case):
    if 'error' in case:
        with pytest.raises(ValueError, match=case['error']):
            spack_args(case['command'], **case['values'])
    else:
        assert spack_args(case['command'], **case['values']) == case['args']


def test_every_command_builds_with_no_values():
    for name in COMMANDS:
        assert all(isinstance(w, str) for w in spack_args(name))
