# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-navigator.yml: valid for the pinned ansible-navigator, the one execution environment image
everywhere, plain progress lines, nothing written into tracked paths; the EE and the controller pin the
same ansible-core and ansible-runner."""
import importlib.metadata
import json
import os

import pytest
import yaml

from helpers.ansible import ROOT

EE_IMAGE = 'ghcr.io/research-wizard/research-wizard-ee:0.1.0'


def load_yaml(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def settings():
    return load_yaml('ansible-navigator.yml')['ansible-navigator']


def test_settings_match_the_navigator_schema():
    jsonschema = pytest.importorskip('jsonschema')
    navigator = pytest.importorskip('ansible_navigator', reason='ansible-navigator is not installed (requirements.txt)')
    with open(os.path.join(os.path.dirname(navigator.__file__), 'data', 'ansible-navigator.json')) as f:
        schema = json.load(f)
    jsonschema.validate(load_yaml('ansible-navigator.yml'), schema)


def test_one_execution_environment_image(settings):
    assert settings['execution-environment']['image'] == EE_IMAGE
    assert load_yaml('execution-environment.yml')['options']['tags'] == [EE_IMAGE]
    (play,) = load_yaml('awx', 'configure.yml')
    assert play['vars']['awx_ee_image'] == EE_IMAGE


def test_plain_progress_lines_with_and_without_the_ee(settings):
    # environment-variables.set reaches ansible-playbook in the EE and with --ee false alike.
    assert settings['execution-environment']['environment-variables']['set']['WIZARD_PROGRESS_MODE'] == 'plain'


def test_log_and_artifacts_are_ignored(settings):
    with open(os.path.join(ROOT, '.gitignore')) as f:
        ignored = f.read().split('\n')
    assert settings['logging']['file'].startswith('.navigator/')
    assert settings['playbook-artifact']['save-as'].startswith('.navigator/')
    # ... and navigator's defaults, for runs with other settings
    assert {'.navigator/', 'ansible-navigator.log', '*-artifact-*.json'} <= set(ignored)


def test_ee_and_controller_pin_the_same_engine():
    deps = load_yaml('execution-environment.yml')['dependencies']
    with open(os.path.join(ROOT, 'requirements.txt')) as f:
        pins = dict(line.split('#')[0].strip().split('==') for line in f if '==' in line.split('#')[0])
    assert deps['ansible_runner']['package_pip'] == 'ansible-runner==' + pins['ansible-runner']
    assert deps['ansible_core']['package_pip'] == 'ansible-core==' + importlib.metadata.version('ansible-core')
