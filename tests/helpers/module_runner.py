"""Run a module's main() with run_command replaced by a script of expected commands.

Each expected command is (argv_tail, rc, stdout, stderr): argv_tail is what follows
`spack --color never [-c ...]`, so tests assert the exact Spack command and nothing else.
"""
import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

SPACK = '/opt/spack/bin/spack'


class CommandScript(object):
    def __init__(self, expected):
        self.expected = list(expected)
        self.calls = []

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd)
        assert self.expected, 'unexpected command: %r' % (cmd,)
        tail, rc, out, err = self.expected.pop(0)
        assert cmd[0] == SPACK and cmd[1:3] == ['--color', 'never'], cmd
        got = cmd[3:]
        # Drop the module's config overrides / env selectors only when the test does not list them.
        assert got[-len(tail):] == list(tail) and (len(got) == len(tail) or got[0] in ('-c', '-D', '-e', '-C')), \
            'expected ...%r, got %r' % (tail, got)
        env = kwargs.get('environ_update') or {}
        assert env.get('LC_ALL') == 'C'
        return rc, out, err


def run(module_main, args, expected, check_mode=False, diff=False, capsys=None, exists=True):
    args = dict(args, spack_root='/opt/spack')
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    # Warnings are process-global in ansible-core (and go elsewhere once controller code has been
    # imported by other tests): record what the module warns directly.
    warned = []
    script = CommandScript(expected)
    real_access = __import__('os').access

    def access(path, mode):
        return True if path == SPACK else real_access(path, mode)

    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'run_command', autospec=True, side_effect=script), \
            mock.patch('os.access', side_effect=access), \
            mock.patch.object(basic.AnsibleModule, 'warn', autospec=True,
                              side_effect=lambda module, msg: warned.append(msg)), \
            pytest.raises(SystemExit) as exc:
        module_main()
    result = json.loads(capsys.readouterr().out)
    result['module_warnings'] = warned
    assert not script.expected, 'commands not run: %r' % (script.expected,)
    return exc.value.code, result, script.calls
