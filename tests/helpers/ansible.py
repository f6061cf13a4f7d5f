# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ansible-playbook from the checkout, the way a user does."""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def playbook_env(env=None):
    """The environment of an ansible-playbook run from the checkout: os.environ, the project's ansible.cfg,
    no colours, then ENV (a None value removes the variable)."""
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
                    ANSIBLE_FORCE_COLOR='0', PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    full_env.update(env or {})
    for key, value in list(full_env.items()):
        if value is None:
            del full_env[key]
    return full_env


def run_playbook(playbook, extra_vars=None, env=None, check=False, diff=False, timeout=1800, args=()):
    """ansible-playbook PLAYBOOK with extra vars as JSON; returns the CompletedProcess (text)."""
    cmd = [os.path.join(BIN, 'ansible-playbook'), playbook]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    cmd += list(args)
    full_env = playbook_env(env)
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)


def start_playbook(playbook, extra_vars, log, env=None):
    """ansible-playbook PLAYBOOK in the background, output to the file LOG, in a process group of its
    own (what a terminal's Ctrl-C signals); returns the Popen."""
    full_env = playbook_env(env)
    with open(log, 'w') as out:
        return subprocess.Popen([os.path.join(BIN, 'ansible-playbook'), playbook, '-e', json.dumps(extra_vars)],
                                cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def recap(stdout):
    """{'host': {'ok': n, 'changed': n, 'failed': n, ...}} from the PLAY RECAP."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r'^(\S+)\s+:\s+(ok=\d+.*)$', line)
        if m:
            out[m.group(1)] = dict((k, int(v)) for k, v in (kv.split('=') for kv in m.group(2).split()))
    return out


def explain(proc):
    return 'rc=%s\n--- stdout (tail)\n%s\n--- stderr (tail)\n%s' % (
        proc.returncode, '\n'.join(proc.stdout.splitlines()[-80:]), '\n'.join(proc.stderr.splitlines()[-30:]))
