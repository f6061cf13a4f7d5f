# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The selftest deploy the way AWX and ansible-navigator run it.

- ansible-runner, the engine of AWX (its Python API, as AWX and ansible-navigator call it): the
  job events carry the per-package progress of every status poll (``runner_retry``) and the
  ``set_stats`` results (``playbook_on_stats`` ``artifact_data``), which AWX keeps as job artifacts.
- ``ansible-navigator run --mode stdout --ee false`` with the collection's ansible-navigator.yml: one
  plain line per package, no cursor codes, its log and playbook artifact where the command line says.

Both deploy into one sandboxed site: the first run installs Spack and builds the pack from source,
pushing it to the site's local cache; the second installs into a fresh root from that cache.
"""
import json
import os
import subprocess

import pytest

from helpers.ansible import BIN, ROOT
from helpers.spack_sandbox import deploy_vars

ansible_runner = pytest.importorskip('ansible_runner', reason='ansible-runner is not installed (requirements.txt)')

PLAYBOOK = 'playbooks/deploy.yml'
STATUS_ACTIONS = ('research.wizard.spack_install_status', 'spack_install_status')
# How the research.wizard.progress callback says where each package came from.
HOW = {'source': 'built from source in ', 'cache': 'installed from the binary cache in ',
       'already': 'already installed', 'external': 'external (provided by the system)'}
# Redraws of the live progress bars (save/restore cursor, scroll region): they must not appear here.
CURSOR_CODES = ('\x1b7', '\x1b8', '\x1b[r')


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    base = str(tmp_path_factory.mktemp('site'))
    return {'base': base, 'vars': deploy_vars(base, spack)}


def site_env(site, monkeypatch, **extra):
    """The process environment of one run: the sandbox's Spack user scope must apply (no
    SPACK_DISABLE_LOCAL_CONFIG), nothing chooses the progress mode but the tool under test."""
    for var in ('SPACK_DISABLE_LOCAL_CONFIG', 'JOB_ID', 'AWX_HOST', 'WIZARD_PROGRESS_MODE'):
        monkeypatch.delenv(var, raising=False)
    env = {'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
           'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'), 'ANSIBLE_NOCOLOR': '1',
           'WIZARD_PROGRESS_REPORTS': 'false',
           'WIZARD_PROGRESS_HISTORY_FILE': os.path.join(site['base'], 'build-times.json')}
    env.update(extra)
    for var, value in env.items():
        monkeypatch.setenv(var, value)


def deploy_summary(site):
    with open(os.path.join(site['base'], 'data', 'deployments', 'selftest.json')) as f:
        return json.load(f)


def assert_package_lines(stdout, summary):
    """One plain line per package, saying where it came from, and no live-bar redraws."""
    lines = [line for line in stdout.splitlines() if line.startswith('localhost | [')]
    assert summary['packages'], summary
    for pkg in summary['packages']:
        want = '%s@%s %s' % (pkg['package'], pkg['version'], HOW[pkg['origin']])
        assert any(want in line for line in lines), (want, stdout)
    assert not any(code in stdout for code in CURSOR_CODES), stdout


def test_ansible_runner_events(site, tmp_path, monkeypatch):
    # Nothing tells the callback it runs under runner but runner itself (it gives ansible-playbook a pty).
    site_env(site, monkeypatch)
    data_dir = tmp_path / 'runner'
    data_dir.mkdir()
    run = ansible_runner.run(private_data_dir=str(data_dir), project_dir=ROOT, playbook=PLAYBOOK,
                             extravars=dict(site['vars'], spack_install_tree=os.path.join(site['base'], 'store-runner')),
                             ident='deploy', quiet=True, timeout=1800)
    stdout = run.stdout.read()
    assert (run.status, run.rc) == ('successful', 0), stdout[-6000:]
    summary = deploy_summary(site)
    assert summary['rc'] == 0
    events = list(run.events)

    # Every poll of the install that was not the last one is a runner_retry event with the poll's result:
    # package events, the counts so far, what is in flight.
    retries = [e for e in events if e['event'] == 'runner_retry' and e['event_data'].get('task_action') in STATUS_ACTIONS]
    assert retries, sorted({e['event'] for e in events})
    for event in retries:
        res = event['event_data']['res']
        assert res['finished'] is False and {'events', 'counts', 'in_flight', 'total'} <= set(res), res
    assert [e['event_data']['res']['attempts'] for e in retries] == list(range(1, len(retries) + 1))
    package_events = [pe for e in retries for pe in e['event_data']['res']['events'] if pe.get('package')]
    assert package_events, [e['event_data']['res'] for e in retries]
    # ... and with the final poll (runner_on_ok), every package's installation.
    (final,) = [e for e in events if e['event'] == 'runner_on_ok' and e['event_data'].get('task_action') in STATUS_ACTIONS]
    installed = {pe['package'] for e in retries + [final] for pe in e['event_data']['res']['events']
                 if pe['event'] == 'installed'}
    assert installed == {p['package'] for p in summary['packages']}, installed

    # set_stats of roles/domain_pack: the playbook_on_stats event's artifact_data, AWX's job artifacts.
    (stats,) = [e for e in events if e['event'] == 'playbook_on_stats']
    deployed = stats['event_data']['artifact_data']['wizard_deploy']['localhost']
    for key in ('domain', 'env', 'rc', 'counts', 'pushed', 'cache', 'cache_hit_rate', 'spack_version'):
        assert deployed[key] == summary[key], key
    assert 'packages' not in deployed
    assert stats['event_data']['failures'] == {} and stats['event_data']['ok']['localhost'] > 0

    # The job output, as AWX shows it: plain progress lines.
    assert_package_lines(stdout, summary)


def test_ansible_navigator_stdout(site, tmp_path, monkeypatch):
    navigator = os.path.join(BIN, 'ansible-navigator')
    if not os.path.exists(navigator):
        pytest.skip('ansible-navigator is not installed (requirements.txt)')
    site_env(site, monkeypatch)
    extra = dict(site['vars'], spack_install_tree=os.path.join(site['base'], 'store-navigator'))
    # The collection's ansible-navigator.yml applies (found in the working directory); only its log and
    # playbook artifact go elsewhere, so that the checkout stays clean.
    proc = subprocess.run([navigator, 'run', PLAYBOOK, '-e', json.dumps(extra), '--mode', 'stdout', '--ee', 'false',
                           '--log-file', str(tmp_path / 'navigator.log'),
                           '--playbook-artifact-save-as', str(tmp_path / '{playbook_name}-artifact.json')],
                          cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800, check=False)
    out = proc.stdout
    assert proc.returncode == 0, out[-6000:] + proc.stderr[-3000:]
    summary = deploy_summary(site)
    assert summary['rc'] == 0
    assert_package_lines(out, summary)
    assert 'SPACK INSTALL SUMMARY' in out and 'failed=0' in out

    assert (tmp_path / 'navigator.log').is_file()
    with open(str(tmp_path / 'deploy-artifact.json')) as f:
        artifact = json.load(f)
    assert artifact['status'] == 'successful'
    assert any('localhost | [' in line for line in artifact['stdout'])
