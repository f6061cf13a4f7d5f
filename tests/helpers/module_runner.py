# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() with run_command replaced by a script of expected commands.

An expected command is either a tuple (argv_tail, rc, stdout, stderr), where argv_tail is what follows
`spack --color never [-c ...]`, or a step of a data-driven case (a dict, as in test_spack_*.yaml):

Keys of a step:
- args: the exact argv after `spack --color never` (and after `-C DIR` / a trailing file, see below);
  `{scratch}` in a word: a scratch directory of the module
- rc, out, err: what the command returns (out_file / err_file: a file under tests/fixtures/<fixtures>)
- scope: the command runs with a scratch scope `-C DIR`: true (its mirrors.yaml holds one mirror), or a
  mapping the DIR's mirrors.yaml must contain
- file: the command ends with a private file (`config add -f FILE`) whose YAML equals this
- scope_dir: the command runs with `-C` this directory (before any scratch scope)
- env: variables the command's environment must have; no_env: variables it must not have; scratch_env:
  variables naming a scratch directory of the module
- aws: which `aws` Spack finds first on its PATH: fake (the case's failing one) or shim (the module's)

run_case() runs one whole case: module input, Spack version, expected commands and a subset of the result.
"""
import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
from unittest import mock

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

SPACK = '/opt/spack/bin/spack'
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
FAKE_AWS = '#!/bin/sh\necho "fake aws must not run: $*" >&2\nexit 1\n'
SECRET_OPTIONS = ('s3_access_key_secret', 's3_access_token', 'oci_password')
READ_VERSION = 'ansible_collections.research.wizard.plugins.module_utils._spack.Spack._read_version'


def load_cases(test_file):
    """The YAML cases next to a test file (test_x.py -> test_x.yaml)."""
    with open(os.path.splitext(test_file)[0] + '.yaml') as f:
        return yaml.safe_load(f)


def read_scope_file(path):
    """A YAML file written for Spack, `section::` (override) read as `section`; it must be private."""
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, 'a file that may hold a secret must be private'
    with open(path) as f:
        data = yaml.safe_load(f)
    return dict((k.rstrip(':'), v) for k, v in data.items())


def subset(expected, got, where='result'):
    """Every key of EXPECTED is in GOT with the same value (recursively for mappings)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), '%s: %r is not a mapping' % (where, got)
        for key, value in expected.items():
            assert key in got, '%s: no %s in %r' % (where, key, got)
            subset(value, got[key], '%s.%s' % (where, key))
    else:
        assert expected == got, '%s: expected %r, got %r' % (where, expected, got)


def fill(value, tmp):
    """{tmp} in every string of a case replaced by the test's temporary directory."""
    if isinstance(value, str):
        return value.replace('{tmp}', tmp)
    if isinstance(value, list):
        return [fill(v, tmp) for v in value]
    if isinstance(value, dict):
        return dict((k, fill(v, tmp)) for k, v in value.items())
    return value


def first_aws(env):
    """'fake' or 'shim': which `aws` a Spack with this environment finds first, told apart by running it."""
    found = shutil.which('aws', path=env.get('PATH', os.environ.get('PATH', '')))
    assert found, 'no aws on the PATH Spack gets'
    proc = subprocess.run([found, 's3', 'sync', 's3://b/p', '/nonexistent'], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        assert proc.stdout == '' and proc.stderr == '', 'the shim must find nothing, so Spack falls back to boto3'
        return 'shim', found
    assert 'fake aws must not run' in proc.stderr
    return 'fake', found


def _same_args(expected, got):
    """EXPECTED == GOT, where `{scratch}` in an expected word stands for a scratch directory of the module."""
    if len(expected) != len(got):
        return False
    for want, arg in zip(expected, got):
        pattern = re.escape(want).replace(re.escape('{scratch}'), r'/\S*/wizard-[^/]+')
        if not re.fullmatch(pattern, arg):
            return False
    return True


class CommandScript(object):
    def __init__(self, expected, fixtures=None):
        self.expected = list(expected)
        self.calls = []
        self.fixtures = os.path.join(FIXTURES, fixtures) if fixtures else FIXTURES
        self.shims = []

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd)
        assert self.expected, 'unexpected command: %r' % (cmd,)
        step = self.expected.pop(0)
        assert cmd[0] == SPACK and cmd[1:3] == ['--color', 'never'], cmd
        env = kwargs.get('environ_update') or {}
        assert env.get('LC_ALL') == 'C'
        if isinstance(step, dict):
            return self._step(step, cmd[3:], env)
        tail, rc, out, err = step
        got = cmd[3:]
        # Drop the module's config overrides / env selectors only when the test does not list them.
        assert got[-len(tail):] == list(tail) and (len(got) == len(tail) or got[0] in ('-c', '-D', '-e', '-C')), \
            'expected ...%r, got %r' % (tail, got)
        return rc, out, err

    def _step(self, step, got, env):
        scope = step.get('scope')
        if 'scope_dir' in step:
            assert got[:2] == ['-C', step['scope_dir']], 'expected -C %s: %r' % (step['scope_dir'], got)
            got = got[2:]
        assert bool(scope) == (got[0] == '-C'), 'only a probe runs with a scratch scope: %r' % got
        if scope:
            mirrors = os.path.join(got[1], 'mirrors.yaml')
            if scope is True:
                assert len(read_scope_file(mirrors)['mirrors']) == 1, 'a scratch scope with one mirror'
            else:
                subset(scope, read_scope_file(mirrors), 'scratch scope')
            got = got[2:]
        if 'file' in step:
            path, got = got[-1], got[:-1]
            assert read_scope_file(path) == step['file']
        assert _same_args(step['args'], got), 'expected %r, got %r' % (step['args'], got)
        for key, value in (step.get('env') or {}).items():
            assert env.get(key) == value, '%s=%r expected in the environment of %r' % (key, value, got)
        for key in step.get('scratch_env') or ():
            assert os.path.basename(env.get(key, '')).startswith('wizard-') and os.path.isdir(env[key]), \
                '%s must name a scratch directory for %r: %r' % (key, got, env.get(key))
        for key in step.get('no_env') or ():
            assert key not in env, '%s must not be in the environment of %r' % (key, got)
        if 'aws' in step:
            which, path = first_aws(env)
            assert which == step['aws'], (which, got)
            self.shims.append(path)
        return step.get('rc', 0), self._text(step, 'out'), self._text(step, 'err')

    def _text(self, step, key):
        if key + '_file' in step:
            with open(os.path.join(self.fixtures, step[key + '_file'])) as f:
                return f.read()
        return step.get(key, '')


def run(module_main, args, expected, check_mode=False, diff=False, capsys=None, exists=True, version=None,
        fixtures=None):
    """Run MODULE_MAIN with ARGS against the EXPECTED commands: (exit code, result, argvs run)."""
    args = dict(args, spack_root='/opt/spack')
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    # Warnings are process-global in ansible-core (and go elsewhere once controller code has been
    # imported by other tests): record what the module warns and deprecates directly.
    warned, deprecated = [], []
    script = CommandScript(expected, fixtures)
    real_access = __import__('os').access

    def access(path, mode):
        return True if path == SPACK else real_access(path, mode)

    patches = [patch_module_args(args),
               mock.patch.object(basic.AnsibleModule, 'run_command', autospec=True, side_effect=script),
               mock.patch('os.access', side_effect=access),
               mock.patch.object(basic.AnsibleModule, 'warn', autospec=True,
                                 side_effect=lambda module, msg: warned.append(msg)),
               mock.patch.object(basic.AnsibleModule, 'deprecate', autospec=True,
                                 side_effect=lambda module, msg, **kw: deprecated.append(dict(kw, msg=msg)))]
    if version is not None:
        version = tuple(version)
        patches.append(mock.patch(READ_VERSION, return_value=(version, '.'.join(str(v) for v in version))))
    with pytest.raises(SystemExit) as exc, contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        module_main()
    result = json.loads(capsys.readouterr().out)
    result['module_warnings'] = warned
    result['module_deprecations'] = deprecated
    assert not script.expected, 'commands not run: %r' % (script.expected,)
    assert not [p for p in script.shims if 'wizard-noaws-' in p and os.path.exists(p)], 'the shim is removed after the run'
    return exc.value.code, result, script.calls


def run_case(module_main, case, tmp_path, capsys, fixtures=None):
    """One data-driven case: input, spack (version), commands, output (a subset of the result), contains
    ({result key: text it contains}), secrets (more values no argv may hold), files.

    files: {NAME: [mode to create {tmp}/NAME with, mode expected after the run]} (octal strings);
    tree: empty files to create under {tmp} (a cache's layout, say).
    Every case also proves that no secret value of its input appears in any argv or in the result's cmd.
    """
    tmp = str(tmp_path)
    for name, (before, after) in (case.get('files') or {}).items():
        path = tmp_path / name
        path.write_text('mirrors: {}\n')
        path.chmod(int(before, 8))
    for name in case.get('tree') or ():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('')
    args = fill(dict(case['input']), tmp)
    check_mode = args.pop('_ansible_check_mode', False)
    diff = args.pop('_ansible_diff', False)
    steps = fill(case['commands'], tmp)
    if any('aws' in step for step in steps):
        fake = tmp_path / 'aws'
        fake.write_text(FAKE_AWS)
        fake.chmod(0o755)
        args['spack_env_vars'] = dict(args.get('spack_env_vars') or {},
                                      PATH='%s:%s' % (tmp_path, os.environ.get('PATH', '')))
    rc, result, calls = run(module_main, args, steps, check_mode=check_mode, diff=diff, capsys=capsys,
                            version=case['spack'], fixtures=fixtures)
    subset(fill(case['output'], tmp), result)
    for key, text in fill(case.get('contains') or {}, tmp).items():
        assert text in str(result.get(key)), '%s: %r not in %r' % (key, text, result.get(key))
    assert (rc != 0) == bool(case['output'].get('failed')), result
    secrets = [args[k] for k in SECRET_OPTIONS if args.get(k)] + list(case.get('secrets') or ())
    secrets += list((args.get('spack_secret_env') or {}).values())
    shown = [' '.join(c) for c in calls] + [' '.join(c) for c in result.get('cmd') or []]
    for secret in secrets:
        assert not any(secret in line for line in shown), 'secret %r in a command line' % secret
    for name, (before, after) in (case.get('files') or {}).items():
        assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == int(after, 8)
    return rc, result, calls
