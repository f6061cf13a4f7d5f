# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mirror entries as Spack stores them, normalised so desired and current can be compared.

Two generations of the mirror schema:
- Spack 0.2x stores credentials themselves: ``access_pair: [id, secret]``, ``access_token: TOKEN``.
- Spack 1.x stores only the names of environment variables that hold them:
  ``access_pair: {id_variable: VAR, secret_variable: VAR}``, ``access_token_variable: VAR``; its schema
  rejects the old list, and ``mirror add`` has only the ``*-variable`` options for secrets.

So on 1.x the credentials (the key id too) reach Spack only through its environment; on 0.2x an entry
holding a secret is written into the scope's file directly (parsed, merged, replaced atomically by a
0600 file of the deploying user), never through `spack mirror add --s3-access-key-secret`.

Reachability is probed per scheme with a bounded timeout, because Spack itself says nothing about an
https mirror it cannot reach (`buildcache list` exits 0) and waits minutes for a dead S3 endpoint.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os
import re
import socket
import ssl
import tempfile
import urllib.error as urllib_error
import urllib.parse as urllib_parse
import urllib.request as urllib_request

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, dump_yaml, load_yaml
from ansible_collections.research.wizard.plugins.module_utils._spack_scratch import private_file

MASK = '********'
# (module option holding the secret, option naming its variable, suffix of the default variable name)
SECRETS = (('s3_access_key_secret', 's3_access_key_secret_variable', 'S3_SECRET'),
           ('s3_access_token', 's3_access_token_variable', 'S3_TOKEN'),
           ('oci_password', 'oci_password_variable', 'OCI_PASSWORD'))
# Identities that go with a secret: on Spack 1.x they too travel by variable, so no credential of any
# kind is in a process argument list (`ps` shows every user the arguments of every process).
IDS = (('s3_access_key_id', 's3_access_key_id_variable', 'S3_ID'),
       ('oci_username', 'oci_username_variable', 'OCI_USERNAME'))
CREDENTIALS = IDS + SECRETS
# Seconds a probe waits for a mirror's server by default.
PROBE_TIMEOUT = 10


def uses_variables(version):
    """Whether this Spack takes mirror secrets only as environment-variable names."""
    return tuple(version) >= (1, 0)


def default_variable(name, suffix):
    """SPACK_MIRROR_<NAME>_<SUFFIX>: a valid shell variable name derived from the mirror's name."""
    return 'SPACK_MIRROR_%s_%s' % (re.sub(r'[^A-Z0-9]', '_', name.upper()), suffix)


def variable_names(params):
    """{credential option: environment variable name} for the credentials this mirror uses (Spack 1.x)."""
    out = {}
    for opt, var_opt, suffix in CREDENTIALS:
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


def stored_variables(entry):
    """{credential option: variable} a stored 1.x entry reads its credentials from (its fetch and push parts too)."""
    out = {}
    if not isinstance(entry, dict):
        return out
    for part in (entry, _connection(entry, 'fetch'), _connection(entry, 'push')):
        oci = entry_url(part).startswith('oci') or entry_url(entry).startswith('oci')
        pair = part.get('access_pair')
        pair = pair if isinstance(pair, dict) else {}
        for key, s3_opt, oci_opt in (('id_variable', 's3_access_key_id', 'oci_username'),
                                     ('secret_variable', 's3_access_key_secret', 'oci_password')):
            if pair.get(key):
                out.setdefault(oci_opt if oci else s3_opt, pair[key])
        if part.get('access_token_variable'):
            out.setdefault('s3_access_token', part['access_token_variable'])
    return out


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
    for id_opt, secret_opt in (('s3_access_key_id', 's3_access_key_secret'), ('oci_username', 'oci_password')):
        if id_opt in names:
            entry['access_pair'] = ({'id_variable': names[id_opt], 'secret_variable': names[secret_opt]}
                                    if new else [params[id_opt], params.get(secret_opt)])
            break
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

    Never carries a credential: on 1.x the key id and the secrets are named by variable; on 0.2x an entry
    with credentials is written into the scope's file instead (write_entry), so this is only used without.
    """
    types = params.get('type') or ['binary', 'source']
    values = dict(scope=params['scope'], name=params['name'], url=params['url'], signed=params.get('signed'),
                  autopush=params.get('autopush'),
                  mirror_type=types if sorted(types) != ['binary', 'source'] else None)
    for opt in ('s3_profile', 's3_endpoint_url'):
        values[opt] = params.get(opt)
    if uses_variables(version):
        names = variable_names(params)
        for opt, var_opt, dummy in CREDENTIALS:
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
        for opt, var_opt, dummy in CREDENTIALS:
            if params.get(var_opt) and not params.get(opt):
                missing.append('%s without %s (Spack >= 1.0)' % (var_opt, opt))
    return missing


def _scope_body(name, entry, replace):
    body = dump_yaml({name: entry})
    return 'mirrors%s\n' % ('::' if replace else ':') + ''.join('  %s\n' % line for line in body.splitlines())


def _section(data):
    """(the mapping holding `mirrors`, the key used) in a scope file: mirrors.yaml or an env's spack.yaml."""
    holder = data
    for top in ('spack', 'env'):
        if isinstance(data.get(top), dict):
            holder = data[top]
            break
    key = 'mirrors:' if 'mirrors:' in holder else 'mirrors'
    if not isinstance(holder.get(key), dict):
        holder[key] = {}
    return holder, key


def private(path):
    """Whether PATH (missing counts as private) is readable only by the user running the module."""
    try:
        info = os.stat(path)
    except OSError:
        return True
    return not info.st_mode & 0o077 and info.st_uid == os.geteuid()


def write_entry(path, name, entry):
    """Set (or, with entry None, drop) mirror NAME in the scope file PATH, atomically, as a 0600 file.

    For Spack 0.2x entries that hold a secret: parsed, merged and written to a new 0600 file of the
    deploying user in the same directory, then renamed over PATH, so no reader ever sees the secret in
    a file others can read (`spack config add` would create the file 0644 first).
    """
    directory = os.path.dirname(path)
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = load_yaml(f.read())
        if not isinstance(data, dict):
            raise SpackError('%s is not a YAML mapping: fix or remove it, then run again.' % path)
    holder, key = _section(data)
    if entry is None:
        holder[key].pop(name, None)
    else:
        holder[key][name] = entry
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(dump_yaml(data))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


# Where a build cache keeps its index, per layout (Spack 1.x: v3; 0.2x: build_cache).
INDEXES = ('v3/manifests/index/index.manifest.json', 'build_cache/index.json')


def _proxies(environ):
    """urllib proxies from the environment Spack gets (its spack_env_vars over the module's own)."""
    env = dict(os.environ)
    env.update(environ or {})
    out = {}
    for key, value in env.items():
        low = key.lower()
        if low.endswith('_proxy') and value:
            out[low[:-len('_proxy')]] = value
    return out


def http_status(url, timeout, environ=None, method='HEAD'):
    """(HTTP status or None, why not): what the server at URL answers within TIMEOUT seconds.

    Any HTTP answer counts as an answer (a 403 or 404 too); None means no answer: name resolution,
    connection, TLS or the timeout failed.
    """
    proxies = _proxies(environ)
    host = urllib_parse.urlparse(url).hostname or ''
    if proxies.get('no') and urllib_request.proxy_bypass_environment(host, proxies):
        proxies = {}
    proxies.pop('no', None)
    opener = urllib_request.build_opener(urllib_request.ProxyHandler(proxies))
    request = urllib_request.Request(url, method=method, headers={'User-Agent': 'research.wizard-probe'})
    try:
        response = opener.open(request, timeout=timeout)
        response.close()
        return response.getcode(), ''
    except urllib_error.HTTPError as e:
        return e.code, 'HTTP %s %s from %s' % (e.code, e.reason, url)
    except (urllib_error.URLError, socket.timeout, ssl.SSLError, OSError, ValueError) as e:
        reason = getattr(e, 'reason', e)
        if isinstance(reason, socket.timeout) or 'timed out' in str(reason):
            return None, 'no answer from %s within %s s' % (url, timeout)
        return None, 'cannot reach %s: %s' % (url, reason)


def _http_probe(url, binary, timeout, environ):
    """An http(s) mirror: a binary cache must serve its index; a source mirror must answer at all."""
    base = url.rstrip('/')
    if not binary:
        code, why = http_status(base + '/', timeout, environ)
        return (code is not None and code < 500), why
    first = None
    for index in INDEXES:
        code, why = http_status('%s/%s' % (base, index), timeout, environ)
        if code == 405:
            code, why = http_status('%s/%s' % (base, index), timeout, environ, method='GET')
        if code is not None and 200 <= code < 300:
            return True, ''
        if code is None:
            return False, why
        first = first or why
    return False, 'no build cache index at %s (%s)' % (base, first)


def s3_probe_url(url, entry, environ=None):
    """The URL that tells, without credentials, whether the bucket's server is there (and the bucket).

    Path style on the mirror's endpoint (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), else on AWS's global
    endpoint; an unsigned HEAD of a bucket answers 403 (private), 200 (public) or 404 (no such bucket).
    """
    env = dict(os.environ)
    env.update(environ or {})
    bucket = urllib_parse.urlparse(url).netloc
    base = (endpoint(entry, 'fetch') or endpoint(entry, 'push') or env.get('AWS_ENDPOINT_URL_S3')
            or env.get('AWS_ENDPOINT_URL') or 'https://s3.amazonaws.com')
    return '%s/%s' % (base.rstrip('/'), bucket)


def _oci_probe_url(url):
    """The registry API root of an oci:// (https) or oci+http:// mirror."""
    scheme = 'http' if url.startswith('oci+http://') else 'https'
    host = url.split('://', 1)[1].split('/', 1)[0]
    return '%s://%s/v2/' % (scheme, host)


def reachable(spack, url, entry, timeout=PROBE_TIMEOUT):
    """(ok, why not): can this mirror be read, probed for its scheme within about TIMEOUT seconds?

    - file:// (or a path): a readable directory on the host (no Spack process needed);
    - http(s)://: the server answers; a binary cache serves its index (Spack's own `buildcache list`
      exits 0 for an https mirror it cannot reach, so it cannot be the probe);
    - s3://: the endpoint answers an unsigned HEAD of the bucket (404: no such bucket), then Spack lists
      the cache with only this mirror configured (credentials, from the environment on Spack 1.x);
    - oci://: the registry answers at /v2/.
    A Spack 1.x entry naming credential variables that are not set is unreachable whatever its scheme.
    """
    path = file_url_path(url)
    if path is not None:
        if os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK):
            return True, ''
        return False, 'no readable directory %s on this host' % path
    environ = spack.environ
    # Spack 1.x lists a cache whose credential variables are unset as if it were empty (exit 0): say why.
    unset = sorted(var for var in stored_variables(entry).values() if var not in environ and var not in os.environ)
    if unset:
        return False, 'credential variable %s not set (give it in spack_secret_env)' % ', '.join(unset)
    scheme = url.split('://', 1)[0].lower()
    norm = normalize(entry) or {}
    if scheme in ('http', 'https'):
        # A binary-only mirror is useless without its index; one that also serves sources need only answer.
        return _http_probe(url, norm.get('binary', True) and not norm.get('source', True), timeout, environ)
    if scheme.startswith('oci'):
        code, why = http_status(_oci_probe_url(url), timeout, environ, method='GET')
        return (code is not None and code < 500), why
    if scheme == 's3':
        probe = s3_probe_url(url, entry, environ)
        code, why = http_status(probe, timeout, environ)
        if code is None or code >= 500:
            return False, why
        if code == 404:
            return False, 'no bucket %s at %s' % (urllib_parse.urlparse(url).netloc, probe.rsplit('/', 1)[0])
    with single_mirror_scope(entry) as scope:
        rc, out, err = spack.run('buildcache_list', scope_dirs=[scope], check=False,
                                 config=['config:connect_timeout:%d' % max(1, int(timeout))])
    lines = (err or '').strip().splitlines()
    return rc == 0, lines[-1] if lines else ''
