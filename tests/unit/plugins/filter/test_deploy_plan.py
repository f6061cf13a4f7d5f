# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check-mode plan lines (filter deploy_plan) from the YAML cases next to this file."""

import json
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.research.wizard.plugins.filter.deploy_plan import FilterModule, deploy_plan

with open(os.path.join(os.path.dirname(__file__), 'test_deploy_plan.yaml')) as f:
    CASES = yaml.safe_load(f)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_deploy_plan(case, tmp_path):
    history = ''
    if 'history' in case:
        history = str(tmp_path / 'build-times.json')
        with open(history, 'w') as f:
            json.dump({'format': 1, 'packages': case['history']}, f)
    out = deploy_plan(case['plan'], case['spack'], install_tree=case.get('install_tree', ''), history_file=history)
    assert out['lines'] == case['lines']
    assert out['seconds'] == case['seconds'] and out['unknown'] == case['unknown']
    assert len(out['packages']) == len(case['plan'].get('missing') or [])


def test_missing_history_file_means_unknown(tmp_path):
    plan = {'concretized': True, 'from_cache': 0, 'from_source': 1,
            'missing': [{'name': 'libtiny', 'version': '1.0', 'hash': 'abcdefg', 'from_cache': False}]}
    out = deploy_plan(plan, {'present': True, 'location': '/s', 'version': '1.1.1'},
                      history_file=str(tmp_path / 'none.json'))
    assert out['lines'][-1] == '  libtiny@1.0 /abcdefg  source  unknown' and out['unknown'] == 1


def test_spack_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match='spack must be a dict'):
        deploy_plan({}, None)


def test_registered():
    assert FilterModule().filters()['deploy_plan'] is deploy_plan
