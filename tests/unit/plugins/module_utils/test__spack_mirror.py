# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_spack_mirror on real files and sockets: the probe's HTTP request (answers, refusals, a server that
never answers: bounded by the timeout) and the atomic 0600 write of a Spack 0.2x scope file."""
import http.server
import os
import socket
import stat
import threading
import time

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils import _spack_mirror as m


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 that serves /cache/build_cache/index.json only (200), else 404."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200 if self.path == '/cache/build_cache/index.json' else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_http_status_answers(server):
    assert m.http_status(server + '/cache/build_cache/index.json', 5) == (200, '')
    code, why = m.http_status(server + '/nothing', 5)
    assert code == 404 and 'HTTP 404' in why


def test_http_status_refused():
    code, why = m.http_status('http://127.0.0.1:%d/' % closed_port(), 5)
    assert code is None and 'cannot reach' in why and 'refused' in why


def test_http_status_is_bounded_by_the_timeout():
    # Accepts the connection and never answers: the probe gives up after the timeout, not Spack's minutes.
    with socket.socket() as silent:
        silent.bind(('127.0.0.1', 0))
        silent.listen(1)
        start = time.monotonic()
        code, why = m.http_status('http://127.0.0.1:%d/' % silent.getsockname()[1], 1)
        took = time.monotonic() - start
    assert code is None and 'within 1 s' in why and took < 5, (why, took)


def test_http_status_ignores_a_proxy_for_no_proxy_hosts(server):
    env = {'http_proxy': 'http://127.0.0.1:%d' % closed_port(), 'no_proxy': '127.0.0.1'}
    assert m.http_status(server + '/cache/build_cache/index.json', 5, env)[0] == 200
    assert m.http_status(server + '/cache/build_cache/index.json', 5, {'http_proxy': env['http_proxy']})[0] is None


def test_http_binary_cache_probe_tries_both_layouts(server):
    assert m._http_probe(server + '/cache', True, 5, {}) == (True, '')
    ok, why = m._http_probe(server + '/empty', True, 5, {})
    assert not ok and why.startswith('no build cache index at %s/empty' % server)
    assert m._http_probe(server + '/empty', False, 5, {})[0], 'a source mirror needs only an answer'


@pytest.mark.parametrize('url,entry,env,expected', [
    ('s3://b/p', {'url': 's3://b/p', 'endpoint_url': 'http://minio:9000/'}, {}, 'http://minio:9000/b'),
    ('s3://b/p', {'url': 's3://b/p'}, {'AWS_ENDPOINT_URL_S3': 'http://s3.local'}, 'http://s3.local/b'),
    ('s3://b/p', 's3://b/p', {}, 'https://s3.amazonaws.com/b'),
])
def test_s3_probe_url(url, entry, env, expected, monkeypatch):
    for key in ('AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'):
        monkeypatch.delenv(key, raising=False)
    assert m.s3_probe_url(url, entry, env) == expected


SECRET_ENTRY = {'url': 's3://b/p', 'access_pair': ['AKID', 'sekrit']}


@pytest.mark.parametrize('before,name,entry,after', [
    (None, 'cache', SECRET_ENTRY, {'mirrors': {'cache': SECRET_ENTRY}}),
    ("mirrors:\n  other: file:///o\n", 'cache', SECRET_ENTRY, {'mirrors': {'other': 'file:///o', 'cache': SECRET_ENTRY}}),
    ("mirrors::\n  other: file:///o\n", 'cache', SECRET_ENTRY, {'mirrors:': {'other': 'file:///o', 'cache': SECRET_ENTRY}}),
    ("mirrors:\n  cache: file:///old\n  other: file:///o\n", 'cache', None, {'mirrors': {'other': 'file:///o'}}),
    ("spack:\n  specs: [zlib]\n  mirrors:\n    other: file:///o\n", 'cache', SECRET_ENTRY,
     {'spack': {'specs': ['zlib'], 'mirrors': {'other': 'file:///o', 'cache': SECRET_ENTRY}}}),
], ids=['new-file', 'merged', 'override-key-kept', 'removed', 'environment-spack-yaml'])
def test_write_entry(tmp_path, before, name, entry, after):
    path = tmp_path / 'scope' / ('spack.yaml' if before and before.startswith('spack') else 'mirrors.yaml')
    if before is not None:
        path.parent.mkdir()
        path.write_text(before)
        path.chmod(0o644)
    m.write_entry(str(path), name, entry)
    info = os.stat(str(path))
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    assert yaml.safe_load(path.read_text()) == after
    assert os.listdir(str(path.parent)) == [path.name], 'no temporary file is left'


def test_write_entry_refuses_a_broken_file(tmp_path):
    path = tmp_path / 'mirrors.yaml'
    path.write_text('- a list\n')
    with pytest.raises(m.SpackError, match='mirrors.yaml is not a YAML mapping'):
        m.write_entry(str(path), 'cache', SECRET_ENTRY)


def test_private(tmp_path):
    path = tmp_path / 'f'
    assert m.private(str(path)), 'a missing file holds nothing'
    path.write_text('x')
    path.chmod(0o640)
    assert not m.private(str(path))
    path.chmod(0o600)
    assert m.private(str(path))


@pytest.mark.parametrize('entry,expected', [
    ({'url': 's3://b', 'access_pair': {'id_variable': 'I', 'secret_variable': 'S'}, 'access_token_variable': 'T'},
     {'s3_access_key_id': 'I', 's3_access_key_secret': 'S', 's3_access_token': 'T'}),
    ({'url': 'oci://r/x', 'access_pair': {'id': 'me', 'secret_variable': 'P'}}, {'oci_password': 'P'}),
    ({'url': 's3://b', 'access_pair': ['AKID', 'sekrit']}, {}),
    ('file:///x', {}),
])
def test_stored_variables(entry, expected):
    assert m.stored_variables(entry) == expected
