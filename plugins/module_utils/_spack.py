# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one layer between the spack_* modules and the Spack CLI.

Commands are argument lists, run with LC_ALL=C and colour off. Failures become SpackError with an
actionable message (Spack's own error line, the spec at fault, rc, stderr tail, build log).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

from ansible_collections.research.wizard.plugins.module_utils._spack_cmd import spack_args
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    HINTS, error_summary, parse_version)

SPACK_COMMON_ARGS = dict(
    spack_root=dict(type='path'),
    spack_env_vars=dict(type='dict', default={}),
    spack_config=dict(type='list', elements='str', default=[]),
    spack_secret_env=dict(type='dict', default={}, no_log=True),
)

SUPPORTED = ((0, 21), (1, 99))
STDERR_TAIL = 40

# Values following these flags are secrets: never echo them back in `cmd`.
SECRET_FLAGS = ('--s3-access-key-secret', '--s3-access-token', '--oci-password')

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by Spack.require_yaml()
    HAS_YAML = False


class SpackError(Exception):
    def __init__(self, msg, cmd=None, rc=None, stdout='', stderr='', **extra):
        super(SpackError, self).__init__(msg)
        self.msg = msg
        self.result = dict(cmd=cmd, rc=rc, stdout=stdout, stderr=stderr, **extra)


def redact(cmd):
    out, hide = [], False
    for arg in cmd:
        out.append('********' if hide else arg)
        hide = arg in SECRET_FLAGS
    return out


def tail(text, lines=STDERR_TAIL):
    return '\n'.join((text or '').splitlines()[-lines:])


class Spack(object):
    """Find and run one Spack for a module; every spack_* module builds one of these."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.env_vars = dict((k, str(v)) for k, v in (params.get('spack_env_vars') or {}).items())
        # Credentials a mirror entry names by variable (Spack 1.x `secret_variable`): they reach Spack
        # only through its environment, never an argument, and are masked in every result (no_log).
        self.secret_env = dict((k, str(v)) for k, v in (params.get('spack_secret_env') or {}).items())
        self.config_overrides = list(params.get('spack_config') or [])
        self.root = params.get('spack_root') or self.env_vars.get('SPACK_ROOT') or os.environ.get('SPACK_ROOT')
        self.executable = self._find(self.root)
        if not self.root:
            self.root = os.path.dirname(os.path.dirname(os.path.realpath(self.executable)))
        self._version = None

    def _find(self, root):
        if root:
            path = os.path.join(root, 'bin', 'spack')
            if os.access(path, os.X_OK):
                return path
            raise SpackError('No Spack at spack_root=%s (expected an executable %s). Install Spack there '
                             '(role research.wizard.spack) or set spack_root to an existing Spack.' % (root, path))
        path = self.module.get_bin_path('spack')
        if not path:
            raise SpackError('Spack not found: set spack_root (or SPACK_ROOT) to the Spack installation, '
                             'or put spack on PATH. The role research.wizard.spack installs it.')
        return path

    @property
    def environ(self):
        env = dict(self.env_vars)
        env.update(self.secret_env)
        env.update(LC_ALL='C', LANG='C', SPACK_ROOT=self.root)
        # Spack prints coloured text and terminal titles when it thinks it is on a tty.
        env.setdefault('SPACK_COLOR', 'never')
        return env

    def argv(self, command, env=None, env_dir=None, config=None, scope_dirs=(), **values):
        """The whole argument list of the named COMMAND (see _spack_cmd.COMMANDS) with VALUES."""
        cmd = [self.executable, '--color', 'never']
        for directory in scope_dirs:
            cmd += ['-C', directory]
        for value in self.config_overrides + list(config or []):
            cmd += ['-c', value]
        if env_dir:
            cmd += ['-D', env_dir]
        elif env:
            cmd += ['-e', env]
        return cmd + spack_args(command, **values)

    def run(self, command, env=None, env_dir=None, config=None, check=True, what=None, data=None, scope_dirs=(),
            **values):
        """Run the named Spack COMMAND; raise SpackError (with Spack's own error) when it fails and check."""
        cmd = self.argv(command, env=env, env_dir=env_dir, config=config, scope_dirs=scope_dirs, **values)
        rc, out, err = self.module.run_command(cmd, environ_update=self.environ, check_rc=False, data=data)
        if rc != 0 and check:
            raise self.error(cmd, rc, out, err, what=what)
        return rc, out, err

    def stdout(self, command, **kwargs):
        """Standard output of a Spack command that must succeed."""
        return self.run(command, **kwargs)[1]

    def run_json(self, command, **kwargs):
        rc, out, err = self.run(command, **kwargs)
        try:
            return json.loads(out) if out.strip() else None
        except ValueError:
            cmd = self.argv(command, **dict((k, v) for k, v in kwargs.items() if k not in ('check', 'what', 'data')))
            raise SpackError('Spack printed no valid JSON for spack %s' % ' '.join(self._command_words(cmd)),
                             cmd=redact(cmd), rc=rc, stdout=tail(out), stderr=tail(err))

    def error(self, cmd, rc, out, err, what=None):
        summary = error_summary(err, out)
        words = self._command_words(cmd)
        msg = 'spack %s failed (rc=%s)%s: %s' % (
            ' '.join(words) or 'command', rc,
            ' for %s' % what if what and what not in words else '', summary['error'] or 'no error message')
        if summary['build_log']:
            msg += ' — build log: %s' % summary['build_log']
        if summary['kind'] in HINTS:
            msg += ' (%s)' % HINTS[summary['kind']]
        return SpackError(msg, cmd=redact(cmd), rc=rc, stdout=tail(out), stderr=tail(err),
                          error_kind=summary['kind'], error_detail=summary.get('detail'),
                          build_log=summary['build_log'])

    def _command_words(self, cmd):
        """The first two words of Spack's command in a full argv (after the global options)."""
        words, skip = [], False
        for arg in [str(a) for a in cmd[1:]]:
            if skip:
                skip = False
            elif arg in ('-C', '-c', '-D', '-e', '--color'):
                skip = True
            elif not arg.startswith('-'):
                words.append(arg)
        return words[:2]

    def _read_version(self):
        # Reading __version__ from Spack's own source saves a whole `spack --version` process
        # (~0.5 s) on every module run; `spack --version` remains the fallback.
        try:
            with open(os.path.join(self.root, 'lib', 'spack', 'spack', '__init__.py')) as f:
                for line in f:
                    if line.startswith('__version__'):
                        parsed, text = parse_version(line.split('=', 1)[1].strip().strip('"\''))
                        if parsed:
                            return parsed, text
        except (IOError, OSError):
            pass
        rc, out, err = self.run('version')
        parsed, text = parse_version(out)
        if parsed is None:
            raise SpackError('Cannot tell the Spack version from %r' % out, cmd=self.argv('version'), rc=rc)
        return parsed, text

    @property
    def version(self):
        """(major, minor, patch) of this Spack, detected once per module run."""
        if self._version is None:
            parsed, text = self._read_version()
            if not SUPPORTED[0] <= parsed[:2] <= SUPPORTED[1]:
                raise SpackError('Spack %s is not supported: research.wizard drives Spack 0.21 to 0.23 and 1.x.' % text)
            self._version = parsed
            self.version_string = text
        return self._version

    def at_least(self, *version):
        return self.version >= tuple(version)

    # -- environments ------------------------------------------------------------------------------
    def env_path(self, name):
        """Directory of the managed environment NAME, or None when it does not exist."""
        rc, out, err = self.run('location', location_env=name, check=False)
        path = out.strip().splitlines()[-1] if rc == 0 and out.strip() else None
        return path if path and os.path.isfile(os.path.join(path, 'spack.yaml')) else None

    def env_names(self):
        rc, out, err = self.run('env_list')
        return sorted(l.strip() for l in out.splitlines() if l.strip() and not l.startswith('==>'))

    def installed(self):
        """Every installed spec: {full_hash: find --json record}."""
        return dict((s['hash'], s) for s in (self.run_json('find', json=True) or []))

    def require_yaml(self):
        if not HAS_YAML:
            raise SpackError('PyYAML is missing on the target host: install python3-yaml (Debian/Ubuntu) '
                             'or python3-pyyaml (RHEL family).')


def fail(module, err):
    """fail_json from a SpackError, never a traceback."""
    module.fail_json(msg=err.msg, **dict((k, v) for k, v in err.result.items() if v is not None))


def load_yaml(text):
    return yaml.safe_load(text) or {}


def read_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def dump_yaml(data):
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def read_json(path):
    """The JSON document at PATH, or None when it is missing or not JSON (a lock being written, say)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (IOError, OSError, ValueError):
        return None
