# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mirror entries as Spack stores them, normalised so desired and current can be compared.

Two generations of the mirror schema:
- Spack 0.2x stores credentials themselves: ``access_pair: [id, secret]``, ``access_token: TOKEN``.
- Spack 1.x stores only the names of environment variables that hold them:
  ``access_pair: {id: ID, secret_variable: VAR}``, ``access_token_variable: VAR``; its schema rejects
  the old list, and ``mirror add`` has only the ``*-variable`` options for secrets.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os
import re

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, dump_yaml, load_yaml
from ansible_collections.research.wizard.plugins.module_utils._spack_scratch import private_file

MASK = '********'
# (module option holding the secret, option naming its variable, suffix of the default variable name)
SECRETS = (('s3_access_key_secret', 's3_access_key_secret_variable', 'S3_SECRET'),
           ('s3_access_token', 's3_access_token_variable', 'S3_TOKEN'),
           ('oci_password', 'oci_password_variable', 'OCI_PASSWORD'))


def uses_variables(version):
    """Whether this Spack takes mirror secrets only as environment-variable names."""
    return tuple(version) >= (1, 0)


def default_variable(name, suffix):
    """SPACK_MIRROR_<NAME>_<SUFFIX>: a valid shell variable name derived from the mirror's name."""
    return 'SPACK_MIRROR_%s_%s' % (re.sub(r'[^A-Z0-9]', '_', name.upper()), suffix)


def variable_names(params):
    """{secret option: environment variable name} for the secrets this mirror uses."""
    out = {}
    for opt, var_opt, suffix in SECRETS:
        if params.get(opt) or params.get(var_opt):
            out[opt] = params.get(var_opt) or default_variable(params['name'], suffix)
    return out


def secret_env(params, version):
    """The environment that carries this mirror's secrets to Spack 1.x (empty for 0.2x)."""
    if not uses_variables(version):
        return {}
    names = variable_names(params)
    return dict((names[opt], params[opt]) for opt in names if params.get(opt))


def holds_secret(params, version):
    """Whether the entry Spack stores for `params` contains a secret itself (0.2x only)."""
    return not uses_variables(version) and any(params.get(secret[0]) for secret in SECRETS)


def _pair(value):
    """An access_pair in either generation's form -> a dict without unset keys."""
    if not value:
        return None
    if isinstance(value, dict):
        out = dict((k, value.get(k)) for k in ('id', 'id_variable', 'secret', 'secret_variable') if value.get(k))
        return out or None
    value = list(value) + [None, None]
    return dict((k, v) for k, v in (('id', value[0]), ('secret', value[1])) if v) or None


def normalize(entry):
    """A mirror entry (a URL string or a mapping) -> a flat dict with every default filled in."""
    if entry is None:
        return None
    if isinstance(entry, str):
        entry = {'url': entry}
    fetch = entry.get('fetch')
    url = entry.get('url') or (fetch.get('url') if isinstance(fetch, dict) else fetch)
    conn = dict(entry)
    if isinstance(fetch, dict):
        conn.update(fetch)
    return {
        'url': url,
        'binary': entry.get('binary', True),
        'source': entry.get('source', True),
        'signed': entry.get('signed'),
        'autopush': entry.get('autopush', False),
        'endpoint_url': conn.get('endpoint_url'),
        'profile': conn.get('profile'),
        'access_pair': _pair(conn.get('access_pair')),
        'access_token': conn.get('access_token'),
        'access_token_variable': conn.get('access_token_variable'),
    }


def file_url_path(url):
    """The local path of a file:// URL (or a plain absolute path, which Spack also takes), else None."""
    if url.startswith('file://'):
        return url[len('file://'):]
    return url if url.startswith('/') else None


def raw_entry(params, version):
    """The mirror entry as this Spack stores it in mirrors.yaml (what `mirror add` would write).

    Used for the reachability probe (a scratch scope, before Spack stores anything) and, on 0.2x, to
    store an entry with secrets through a 0600 file instead of arguments.
    """
    types = params.get('type') or ['binary', 'source']
    entry = {'url': params['url']}
    names = variable_names(params)
    new = uses_variables(version)
    if params.get('s3_access_key_id'):
        entry['access_pair'] = ({'id': params['s3_access_key_id'], 'secret_variable': names['s3_access_key_secret']}
                                if new else [params['s3_access_key_id'], params.get('s3_access_key_secret')])
    elif params.get('oci_username'):
        entry['access_pair'] = ({'id': params['oci_username'], 'secret_variable': names['oci_password']}
                                if new else [params['oci_username'], params.get('oci_password')])
    if 's3_access_token' in names:
        if new:
            entry['access_token_variable'] = names['s3_access_token']
        else:
            entry['access_token'] = params['s3_access_token']
    for key, opt in (('profile', 's3_profile'), ('endpoint_url', 's3_endpoint_url')):
        if params.get(opt):
            entry[key] = params[opt]
    if sorted(types) != ['binary', 'source']:
        entry['binary'] = 'binary' in types
        entry['source'] = 'source' in types
    if params.get('autopush'):
        entry['autopush'] = True
    if params.get('signed') is not None:
        entry['signed'] = params['signed']
    return entry


def desired(params, version):
    """The normalised entry wanted, in the form the running Spack stores."""
    return normalize(raw_entry(params, version))


def differs(current, wanted):
    """Keys whose value differs. An unset `signed` means "Spack's default" and matches anything."""
    if current is None:
        return sorted(k for k, v in wanted.items() if v not in (None, False)) or ['url']
    out = []
    for key, value in wanted.items():
        if key == 'signed' and value is None:
            continue
        if current.get(key) != value:
            out.append(key)
    return out


def redacted(norm):
    """A normalised entry with the secrets themselves masked (variable names and ids stay readable)."""
    if norm is None:
        return None
    out = dict(norm)
    if out.get('access_pair') and out['access_pair'].get('secret'):
        out['access_pair'] = dict(out['access_pair'], secret=MASK)
    if out.get('access_token'):
        out['access_token'] = MASK
    return out


def add_values(params, version):
    """Values of the `mirror_add` command (_spack_cmd) for `params`, for Spack `version` (a tuple).

    Never carries a secret: on 1.x the secrets are named by variable; on 0.2x an entry with secrets is
    stored with `config add -f` instead (see config_add_file), so this is only used without them.
    """
    types = params.get('type') or ['binary', 'source']
    values = dict(scope=params['scope'], name=params['name'], url=params['url'], signed=params.get('signed'),
                  autopush=params.get('autopush'),
                  mirror_type=types if sorted(types) != ['binary', 'source'] else None)
    for opt in ('s3_access_key_id', 's3_profile', 's3_endpoint_url', 'oci_username'):
        values[opt] = params.get(opt)
    if uses_variables(version):
        names = variable_names(params)
        for opt, var_opt, dummy in SECRETS:
            values[var_opt] = names.get(opt)
    return values


def unsupported(params, version):
    """Options this Spack version's `mirror add` does not know, as a readable list."""
    missing = []
    if version < (0, 22, 0):
        if params.get('signed') is not None:
            missing.append('signed (Spack >= 0.22)')
        if params.get('autopush'):
            missing.append('autopush (Spack >= 0.22)')
    if not uses_variables(version):
        for opt, var_opt, dummy in SECRETS:
            if params.get(var_opt) and not params.get(opt):
                missing.append('%s without %s (Spack >= 1.0)' % (var_opt, opt))
    return missing


def _scope_body(name, entry, replace):
    body = dump_yaml({name: entry})
    return 'mirrors%s\n' % ('::' if replace else ':') + ''.join('  %s\n' % line for line in body.splitlines())


def config_add_file(name, entry):
    """A 0600 file for `spack config add -f`, holding the one mirror entry (0.2x secrets)."""
    return private_file(_scope_body(name, entry, replace=False), 'mirrors.yaml')


@contextlib.contextmanager
def single_mirror_scope(entry, name='only'):
    """A scratch config scope (for `spack -C`) in which `entry` is the only mirror.

    `mirrors::` (two colons) replaces the mirrors of every lower-priority scope. The file is 0600:
    on 0.2x the entry may hold a secret.
    """
    with private_file(_scope_body(name, entry, replace=True), 'mirrors.yaml') as path:
        yield os.path.dirname(path)


def is_url(mirror):
    """Whether a mirror argument is a URL or a path rather than the name of a configured mirror."""
    return '://' in mirror or mirror.startswith('/')


def configured(spack, scope=None, env_dir=None):
    """{name: entry} of the mirrors Spack has in SCOPE (merged over every scope when None)."""
    out = spack.stdout('config_get', scope=scope, section='mirrors', env_dir=env_dir,
                       what='scope %s' % scope if scope else None)
    return load_yaml(out).get('mirrors') or {}


def lookup(spack, mirror, env_dir=None):
    """The configured entry of mirror NAME, or a file:// entry for a URL or path."""
    if is_url(mirror):
        return mirror if '://' in mirror else 'file://' + mirror
    entry = configured(spack, env_dir=env_dir).get(mirror)
    if entry is None:
        raise SpackError('No mirror named %s is configured: add it with research.wizard.spack_mirror, '
                         'or give its URL.' % mirror)
    return entry


def _connection(entry, direction):
    """The push or fetch part of an entry (a URL string or a mapping), falling back to the entry."""
    part = entry.get(direction) if isinstance(entry, dict) else None
    return part if isinstance(part, dict) else ({'url': part} if part else {})


def entry_url(entry, direction='fetch'):
    if not isinstance(entry, dict):
        return entry or ''
    other = 'fetch' if direction == 'push' else 'push'
    return _connection(entry, direction).get('url') or entry.get('url') or _connection(entry, other).get('url') or ''


def endpoint(entry, direction='push'):
    if not isinstance(entry, dict):
        return None
    return _connection(entry, direction).get('endpoint_url') or entry.get('endpoint_url')


def describe(entry):
    """A stored entry for a reader: normalised, credentials masked, with its fetch and push URLs and types."""
    out = redacted(normalize(entry))
    out.update(fetch_url=entry_url(entry, 'fetch'), push_url=entry_url(entry, 'push'),
               type=[t for t in ('binary', 'source') if out[t]])
    return out


def reachable(spack, url, entry):
    """(ok, Spack's error line): can Spack list this mirror's build cache, with only it configured?"""
    path = file_url_path(url)
    if path is not None:
        # A local folder needs no Spack process (~2 s) to tell whether it is there.
        if os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
            return True, ''
        return False, 'no readable directory %s on this host' % path
    with single_mirror_scope(entry) as scope:
        rc, out, err = spack.run('buildcache_list', scope_dirs=[scope], check=False)
    lines = (err or '').strip().splitlines()
    return rc == 0, lines[-1] if lines else ''
