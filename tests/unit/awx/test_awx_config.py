# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""awx/configure.yml (AWX / Automation Controller as code) and the execution environment.

The playbook renders every awx.awx module's arguments (-e awx_render_file=...) without contacting a
controller; each rendered call is validated against the real argument spec of the awx.awx module
it feeds (taken from the module itself), the surveys against the rules AWX applies to survey specs,
and the domain and size choices against domains/*.yml. ansible-builder must produce the EE's build
context offline.
"""
import glob
import importlib
import json
import os
import shutil
import subprocess

import pytest
import yaml

from helpers.ansible import BIN, ROOT, explain, run_playbook

PLAYBOOK = 'awx/configure.yml'
DOMAINS = sorted(os.path.basename(p)[:-len('.yml')] for p in glob.glob(os.path.join(ROOT, 'domains', '*.yml')))
SURVEY_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp('awx') / 'config.json'
    proc = run_playbook(PLAYBOOK, {'awx_render_file': str(out)},
                        env={'AWS_ACCESS_KEY_ID': 'AKIDEXAMPLE', 'AWS_SECRET_ACCESS_KEY': 'not-a-real-secret'})
    assert proc.returncode == 0, explain(proc)
    text = out.read_text()
    assert 'not-a-real-secret' not in text and 'AKIDEXAMPLE' not in text
    return json.loads(text)


def surveys(config):
    yield 'workflow', config['workflow']['survey_spec']
    for template in config['job_templates']:
        yield template['name'], template['survey_spec']


def module_argspec(name):
    """The argument spec an awx.awx module builds in main(), merged with the controller auth options."""
    try:
        module = importlib.import_module('ansible_collections.awx.awx.plugins.modules.%s' % name)
        from ansible_collections.awx.awx.plugins.module_utils.controller_api import ControllerModule
    except ImportError as exc:
        pytest.skip('awx.awx is not installed: %s' % exc)
    captured = {}

    class Captured(Exception):
        pass

    class FakeModule(object):
        def __init__(self, argument_spec=None, **kwargs):
            captured['spec'] = argument_spec
            captured['kwargs'] = kwargs
            raise Captured()

    original = module.ControllerAPIModule
    module.ControllerAPIModule = FakeModule
    try:
        with pytest.raises(Captured):
            module.main()
    finally:
        module.ControllerAPIModule = original
    spec = dict(ControllerModule.AUTH_ARGSPEC)
    spec.update(captured['spec'])
    return spec, captured['kwargs']


def validate(name, params):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    spec, kwargs = module_argspec(name)
    validator = ArgumentSpecValidator(spec, mutually_exclusive=kwargs.get('mutually_exclusive'),
                                      required_if=kwargs.get('required_if'),
                                      required_one_of=kwargs.get('required_one_of'),
                                      required_together=kwargs.get('required_together'))
    result = validator.validate(params)
    assert not result.errors.errors, '%s: %s' % (name, result.error_messages)
    assert not result.unsupported_parameters, '%s: unsupported %s' % (name, result.unsupported_parameters)
    return result.validated_parameters


def test_playbook_syntax():
    proc = run_playbook(PLAYBOOK, args=['--syntax-check'])
    assert proc.returncode == 0, explain(proc)


def test_every_module_call_matches_the_awx_argument_specs(rendered):
    calls = [('execution_environment', rendered['execution_environment']),
             ('project', dict(rendered['project'], wait=True)),
             ('credential', rendered['credential']),
             ('inventory', rendered['inventory']),
             ('inventory_source', rendered['inventory_source']),
             ('workflow_job_template', rendered['workflow'])]
    calls += [('job_template', template) for template in rendered['job_templates']]
    for name, params in calls:
        validated = validate(name, params)
        assert validated['name'] == params['name']
    # The survey spec and the workflow nodes survive validation as given.
    validated = validate('workflow_job_template', rendered['workflow'])
    assert [n['identifier'] for n in validated['workflow_nodes']] == ['validate', 'deploy', 'status']


def test_templates_and_workflow(rendered):
    templates = dict((t['name'], t) for t in rendered['job_templates'])
    assert sorted(templates) == ['research.wizard Deploy', 'research.wizard Status', 'research.wizard Teardown',
                                 'research.wizard Validate']
    for name, template in templates.items():
        playbook = template['playbook']
        assert os.path.isfile(os.path.join(ROOT, playbook)), playbook
        assert name.split()[-1].lower() == os.path.basename(playbook)[:-len('.yml')]
        assert template['survey_enabled'] is True
        assert template['credentials'] == [rendered['credential']['name']]
        assert template['execution_environment'] == rendered['execution_environment']['name']
        assert template['inventory'] == rendered['inventory']['name']
    nodes = dict((n['identifier'], n) for n in rendered['workflow']['workflow_nodes'])
    assert nodes['validate']['related']['success_nodes'] == [{'identifier': 'deploy'}]
    assert nodes['deploy']['related']['success_nodes'] == [{'identifier': 'status'}]
    assert 'related' not in nodes['status']
    for node in nodes.values():
        assert node['unified_job_template']['name'] in templates
    source = rendered['inventory_source']
    # AWX's native EC2 source with the research.wizard defaults (the plain amazon.aws.aws_ec2 config).
    assert source['source'] == 'ec2' and 'source_path' not in source and 'source_project' not in source
    with open(os.path.join(ROOT, 'inventories', 'aws', 'wizard.aws_ec2.yml')) as f:
        config = yaml.safe_load(f)
    assert config.pop('plugin') == 'amazon.aws.aws_ec2'
    assert source['source_vars'] == dict(config, regions=['us-east-1'])
    assert source['credential'] == rendered['credential']['name']
    assert rendered['credential']['credential_type'] == 'Amazon Web Services'
    assert rendered['credential']['inputs'] == {'username': '********', 'password': '********'}


def test_surveys_are_well_formed(rendered):
    """The rules AWX's survey_spec endpoint enforces, plus: defaults are among the choices."""
    for owner, survey in surveys(rendered):
        assert set(survey) == {'name', 'description', 'spec'}, owner
        assert isinstance(survey['spec'], list) and survey['spec'], owner
        variables = [q['variable'] for q in survey['spec']]
        assert len(variables) == len(set(variables)), '%s: duplicate variables %s' % (owner, variables)
        for q in survey['spec']:
            where = '%s/%s' % (owner, q.get('variable'))
            for key in ('question_name', 'variable', 'type', 'required'):
                assert key in q, '%s lacks %s' % (where, key)
            assert q['type'] in SURVEY_TYPES, where
            assert isinstance(q['required'], bool), where
            assert q['variable'].isidentifier(), where
            if q['type'] in ('multiplechoice', 'multiselect'):
                assert isinstance(q['choices'], list) and q['choices'], where
                assert all(isinstance(c, str) and c for c in q['choices']), where
                assert len(q['choices']) == len(set(q['choices'])), where
                if q['required']:
                    assert q.get('default') in q['choices'], where
                else:
                    assert q.get('default', '') in q['choices'] + [''], where
            if q['type'] in ('text', 'textarea', 'password', 'integer', 'float') and 'min' in q:
                assert int(q['min']) <= int(q['max']), where


def test_domain_choices_are_exactly_the_packs(rendered):
    assert 'selftest' in DOMAINS and len(DOMAINS) > 1
    seen = 0
    for owner, survey in surveys(rendered):
        for q in survey['spec']:
            if q['variable'] in ('domain', 'env'):
                assert q['choices'] == DOMAINS, owner
                seen += 1
    assert seen == 5  # workflow, Deploy, Validate, Status (env), Teardown


def test_size_choices_are_the_packs_sizes(rendered):
    sizes = set()
    for name in DOMAINS:
        with open(os.path.join(ROOT, 'domains', name + '.yml')) as f:
            sizes.update(yaml.safe_load(f)['sizes'])
    [size] = [q for q in rendered['workflow']['survey_spec']['spec'] if q['variable'] == 'size']
    assert size['choices'] == sorted(sizes) and not size['required']


def test_a_new_pack_appears_in_the_choices(tmp_path):
    domains = tmp_path / 'domains'
    shutil.copytree(os.path.join(ROOT, 'domains'), str(domains))
    shutil.copy(str(domains / 'selftest.yml'), str(domains / 'zz-new-pack.yml'))
    out = tmp_path / 'config.json'
    proc = run_playbook(PLAYBOOK, {'awx_render_file': str(out), 'awx_domains_dir': str(domains)})
    assert proc.returncode == 0, explain(proc)
    [domain] = [q for q in json.loads(out.read_text())['workflow']['survey_spec']['spec'] if q['variable'] == 'domain']
    assert domain['choices'] == DOMAINS + ['zz-new-pack']


def test_execution_environment_files():
    with open(os.path.join(ROOT, 'execution-environment.yml')) as f:
        ee = yaml.safe_load(f)
    assert ee['version'] == 3
    with open(os.path.join(ROOT, 'meta', 'execution-environment.yml')) as f:
        meta = yaml.safe_load(f)
    for path in (ee['dependencies']['python'], ee['dependencies']['system'],
                 meta['dependencies']['python'], meta['dependencies']['system']):
        assert os.path.isfile(os.path.join(ROOT, path)), path
    with open(os.path.join(ROOT, 'requirements-ee.txt')) as f:
        names = [line.split('>=')[0].split('==')[0].strip() for line in f if line.strip() and not line.startswith('#')]
    assert {'boto3', 'botocore', 'jsonschema', 'PyYAML'} <= set(names)


def test_ansible_builder_creates_the_context(tmp_path):
    builder = os.path.join(BIN, 'ansible-builder')
    if not os.path.exists(builder):
        builder = shutil.which('ansible-builder')
    if not builder:
        pytest.skip('ansible-builder is not installed (pip install ansible-builder)')
    context = tmp_path / 'context'
    proc = subprocess.run([builder, 'create', '-f', 'execution-environment.yml', '-c', str(context),
                           '--output-filename', 'Containerfile'], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / 'Containerfile').read_text()
    assert 'ansible-galaxy collection install' in containerfile and 'introspect' in containerfile
    assert 'boto3' in (context / '_build' / 'requirements.txt').read_text()
    assert 'openssh-clients' in (context / '_build' / 'bindep.txt').read_text()
    galaxy = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert {'amazon.aws', 'https://github.com/research-wizard/research.wizard.git'} <= {c['name'] for c in galaxy['collections']}
