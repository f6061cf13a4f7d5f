# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror entries as Spack stores them, normalised so desired and current can be compared."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os
import shutil
import tempfile

from ansible_collections.research.wizard.plugins.module_utils._spack import dump_yaml

SECRET_KEYS = ('access_pair', 'access_token', 'oci_password')


def _pair(value):
    # 0.2x stores [id, secret]; 1.x may store {id: .., secret: ..} (or secret_variable).
    if isinstance(value, dict):
        return [value.get('id') or value.get('id_variable'), value.get('secret') or value.get('secret_variable')]
    return list(value) if value else None


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
        'oci_username': (conn.get('access_pair') or [None])[0] if str(url).startswith('oci://') else None,
    }


def file_url_path(url):
    """The local path of a file:// URL (or a plain absolute path, which Spack also takes), else None."""
    if url.startswith('file://'):
        return url[len('file://'):]
    return url if url.startswith('/') else None


def desired(params):
    types = params.get('type') or ['binary', 'source']
    pair = None
    if params.get('s3_access_key_id'):
        pair = [params['s3_access_key_id'], params.get('s3_access_key_secret')]
    elif params.get('oci_username'):
        pair = [params['oci_username'], params.get('oci_password')]
    return {
        'url': params['url'],
        'binary': 'binary' in types,
        'source': 'source' in types,
        'signed': params.get('signed'),
        'autopush': bool(params.get('autopush')),
        'endpoint_url': params.get('s3_endpoint_url'),
        'profile': params.get('s3_profile'),
        'access_pair': pair,
        'access_token': params.get('s3_access_token'),
        'oci_username': params.get('oci_username'),
    }


def differs(current, wanted):
    """Keys whose value differs. An unset `signed` means "Spack's default" and matches anything."""
    if current is None:
        return sorted(k for k, v in wanted.items() if v not in (None, False)) or ['url']
    out = []
    for key, value in wanted.items():
        if key == 'signed' and value is None:
            continue
        if key == 'oci_username':
            continue
        if current.get(key) != value:
            out.append(key)
    return out


def redacted(norm):
    if norm is None:
        return None
    out = dict(norm)
    for key in SECRET_KEYS:
        if out.get(key):
            out[key] = ['********'] * len(out[key]) if isinstance(out[key], list) else '********'
    return out


def add_args(params, version):
    """`spack mirror add` arguments for `params`, for Spack `version` (a tuple)."""
    args = ['mirror', 'add', '--scope', params['scope']]
    types = params.get('type') or ['binary', 'source']
    if sorted(types) != ['binary', 'source']:
        for t in types:
            args += ['--type', t]
    if params.get('signed') is not None:
        args.append('--signed' if params['signed'] else '--unsigned')
    if params.get('autopush'):
        args.append('--autopush')
    for opt, flag in (('s3_access_key_id', '--s3-access-key-id'), ('s3_access_key_secret', '--s3-access-key-secret'),
                      ('s3_access_token', '--s3-access-token'), ('s3_profile', '--s3-profile'),
                      ('s3_endpoint_url', '--s3-endpoint-url'), ('oci_username', '--oci-username'),
                      ('oci_password', '--oci-password')):
        if params.get(opt):
            args += [flag, params[opt]]
    return args + [params['name'], params['url']]


def unsupported(params, version):
    """Options this Spack version's `mirror add` does not know, as a readable list."""
    missing = []
    if version < (0, 22, 0):
        if params.get('signed') is not None:
            missing.append('signed (Spack >= 0.22)')
        if params.get('autopush'):
            missing.append('autopush (Spack >= 0.22)')
    return missing


def raw_entry(params):
    """The mirror entry, as it would sit in mirrors.yaml, for a probe before Spack stores it."""
    entry = {'url': params['url']}
    for key, opt in (('endpoint_url', 's3_endpoint_url'), ('profile', 's3_profile'), ('access_token', 's3_access_token')):
        if params.get(opt):
            entry[key] = params[opt]
    if params.get('s3_access_key_id'):
        entry['access_pair'] = [params['s3_access_key_id'], params.get('s3_access_key_secret')]
    if params.get('signed') is not None:
        entry['signed'] = params['signed']
    return entry


@contextlib.contextmanager
def single_mirror_scope(entry, name='only'):
    """A scratch config scope (for `spack -C`) in which `entry` is the only mirror.

    `mirrors::` (two colons) replaces the mirrors of every lower-priority scope.
    """
    scratch = tempfile.mkdtemp(prefix='wizard-scope-')
    try:
        body = dump_yaml({name: entry})
        with open(os.path.join(scratch, 'mirrors.yaml'), 'w') as f:
            f.write('mirrors::\n' + ''.join('  %s\n' % line for line in body.splitlines()))
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
