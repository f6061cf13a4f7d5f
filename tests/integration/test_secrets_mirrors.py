# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets stay secret, mirrors are what they say (issue 13, parts 5 and 6), on the real Spack 1.1.1.

One site: deploy.yml with an S3 cache on moto and an explicit key id and secret, while a thread reads
/proc/*/cmdline of every process every 50 ms; afterwards no file holding the secret (site, home,
/tmp files of the run) is readable by anyone but its owner. The https public cache on a closed port is
warned about and left out; status.yml reports each mirror truthfully (with the S3 credentials, then with
moto stopped); the binary_cache role alone then follows its variables: an unreachable S3 cache and a
public cache turned off are removed, binary_cache_type none removes the cache. On Spack 0.23, the
direct 0600 write of spack_mirror, four ways, with the same sampler.
"""
import contextlib
import functools
import http.server
import json
import os
import secrets
import socket
import stat
import subprocess
import threading
import time

import boto3
import pytest
import yaml

from helpers.ansible import explain, run_playbook
from helpers.moto import moto_server
from helpers.spack_sandbox import deploy_vars, make_sandbox, make_spack_tarball
from helpers.spacks import spack_or_skip

ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}
JSON_OUT = dict(ENV, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
KEY_ID = 'AKIAWIZ' + secrets.token_hex(6).upper()
SECRET = 'wizS3cret-' + secrets.token_hex(12)
BUCKET = 'wizard-secrets'


def closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class CmdlineSampler(object):
    """Reads /proc/*/cmdline of every process every 50 ms; `hits` are the argument lists holding a needle."""

    def __init__(self, needles):
        self.needles = [n.encode() for n in needles]
        self.hits, self.samples = [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in os.listdir('/proc'):
                if not pid.isdigit():
                    continue
                try:
                    with open('/proc/%s/cmdline' % pid, 'rb') as f:
                        cmdline = f.read()
                except OSError:
                    continue
                if any(n in cmdline for n in self.needles):
                    self.hits.append((pid, cmdline.replace(b'\0', b' ').decode(errors='replace')))
            self.samples += 1
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def exposed_files(roots, since, needles):
    """Files under ROOTS (those under /tmp only if changed since SINCE) holding a needle and readable
    by group or others, or not owned by the user running the tests: [(path, mode, uid)]."""
    out, seen = [], set()
    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(directory, d))]
            for name in files:
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if path in seen or not stat.S_ISREG(info.st_mode) or info.st_size > 8 << 20:
                    continue
                if root == '/tmp' and max(info.st_mtime, info.st_ctime) < since:
                    continue
                seen.add(path)
                try:
                    with open(path, 'rb') as f:
                        data = f.read()
                except OSError:
                    continue
                if any(n.encode() in data for n in needles):
                    if info.st_mode & 0o077 or info.st_uid != os.geteuid():
                        out.append((path, oct(stat.S_IMODE(info.st_mode)), info.st_uid))
    return out


class Moto(object):
    """A moto server for the whole module, stopped on demand (the S3 cache going down)."""

    def __init__(self):
        self._stack = contextlib.ExitStack()
        self.url = self._stack.enter_context(moto_server())
        self.running = True

    def stop(self):
        self._stack.close()
        self.running = False


@pytest.fixture(scope='module')
def moto():
    server = Moto()
    boto3.client('s3', endpoint_url=server.url, region_name='us-east-1', aws_access_key_id=KEY_ID,
                 aws_secret_access_key=SECRET).create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


class CacheCopyServer(object):
    """A copy of the S3 cache served over plain http on 127.0.0.1 (a reachable stand-in for the public
    cache: moto refuses unsigned reads), stopped on demand."""

    def __init__(self, moto_url, directory):
        s3 = boto3.client('s3', endpoint_url=moto_url, region_name='us-east-1', aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET)
        for page in s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET):
            for obj in page.get('Contents', []):
                path = os.path.join(directory, obj['Key'])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                s3.download_file(BUCKET, obj['Key'], path)
        handler = functools.partial(Quiet, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.url = 'http://127.0.0.1:%d/spack' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.running = True

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    base = str(tmp_path_factory.mktemp('secrets-site'))
    tarball = make_spack_tarball(spack['vars'].get('spack_local_source') or spack['root'],
                                 os.path.join(base, 'spack-src.tar'))
    site_vars = deploy_vars(base, spack, tarball=tarball)
    # A stage of its own: the default one under /tmp is shared with every other Spack on the machine
    # (and its locks with their builds).
    with open(os.path.join(base, 'user', 'config.yaml'), 'w') as f:
        yaml.safe_dump({'config': {'build_stage': [os.path.join(base, 'stage')]}}, f)
    return {'base': base, 'vars': site_vars,
            'env_vars': dict({'SPACK_PYTHON': os.path.join(site_vars['spack_venv'], 'bin', 'python')},
                             **site_vars['spack_extra_env_vars'])}


def secret_vars_file(site, name, values):
    """Credentials travel as a 0600 extra-vars file (-e @FILE), as from a vault: not in the test's argv."""
    path = os.path.join(site['base'], name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(values, f)
    return ['-e', '@' + path]


def s3_vars(moto_url):
    # Unsigned: the signing key's creation and publication would add minutes of test time and nothing
    # to what is tested here (the credentials reach those commands the same way).
    return dict(cache='s3', binary_cache_s3_bucket=BUCKET, binary_cache_s3_endpoint_url=moto_url,
                binary_cache_signed=False)


# The pack's smallest part (tinyapp and libtiny): the test is about what the deploy exposes, not builds.
SMALL = {'domain_pack_overrides': {'remove_specs': ['tinycmake']}}


CREDENTIALS = dict(binary_cache_s3_access_key_id=KEY_ID, binary_cache_s3_access_key_secret=SECRET)


def status(site, args=()):
    """status.yml's Status message for localhost, and the run."""
    proc = run_playbook('playbooks/status.yml', site['vars'], env=JSON_OUT, args=args)
    assert proc.returncode == 0, explain(proc)
    tasks = json.loads(proc.stdout)['plays'][0]['tasks']
    changed = [t['task']['name'] for t in tasks if t['hosts'].get('localhost', {}).get('changed')]
    assert not changed, 'status.yml only reads: %r' % changed
    return next(t for t in tasks if t['task']['name'] == 'Status')['hosts']['localhost']['msg']


def mirrors_yaml(site):
    """The mirrors of the site scope of the deployed Spack 1.1 (etc/spack/site/mirrors.yaml)."""
    path = os.path.join(site['vars']['spack_root'], 'etc', 'spack', 'site', 'mirrors.yaml')
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return (yaml.safe_load(f) or {}).get('mirrors') or {}


def binary_cache_role(site, args=(), **extra):
    """The binary_cache role alone (what deploy.yml runs second), against the deployed Spack."""
    play = os.path.join(site['base'], 'binary_cache.yml')
    with open(play, 'w') as f:
        f.write('- hosts: localhost\n  gather_facts: false\n  roles: [research.wizard.binary_cache]\n')
    values = dict(site['vars'], binary_cache_spack_root=site['vars']['spack_root'],
                  binary_cache_spack_env_vars=site['env_vars'], **extra)
    values['binary_cache_type'] = values.pop('cache', 'local')
    proc = run_playbook(play, values, env=ENV, args=args)
    assert proc.returncode == 0, explain(proc)
    return proc


def test_deploy_keeps_the_s3_credentials_out_of_argv_and_readable_files(site, moto):
    dead_https = 'https://127.0.0.1:%d/cache' % closed_port()
    creds = secret_vars_file(site, 'credentials.json', CREDENTIALS)
    started = time.time()
    with CmdlineSampler([SECRET, KEY_ID]) as sampler:
        proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], binary_cache_public=True,
                                                         binary_cache_public_url=dead_https, **dict(SMALL, **s3_vars(moto.url))),
                            env=ENV, args=creds)
    assert proc.returncode == 0, explain(proc)
    assert sampler.samples > 100 and not sampler.hits, (sampler.samples, sampler.hits[:3])
    out = proc.stdout + proc.stderr
    assert SECRET not in out and KEY_ID not in out

    with open(os.path.join(site['base'], 'data', 'deployments', 'selftest.json')) as f:
        summary = json.load(f)
    assert summary['rc'] == 0 and summary['cache'] == 'wizard-cache' and summary['pushed'] >= 2 and summary['counts']['source'] >= 2, summary
    listed = boto3.client('s3', endpoint_url=moto.url, region_name='us-east-1', aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET).list_objects_v2(Bucket=BUCKET)
    assert listed.get('KeyCount', 0) > summary['pushed'], 'the packages and the index are in the bucket'

    # The https public cache on a closed port: warned about, left out.
    assert 'Mirror spack-public (%s) is unreachable' % dead_https in out, out
    stored = mirrors_yaml(site)
    assert 'spack-public' not in stored, stored
    # Spack 1.x stores only the names of the variables holding the credentials.
    assert stored['wizard-cache']['access_pair'] == {'id_variable': 'SPACK_MIRROR_WIZARD_CACHE_S3_ID',
                                                     'secret_variable': 'SPACK_MIRROR_WIZARD_CACHE_S3_SECRET'}

    exposed = exposed_files([site['base'], os.environ['HOME'], '/tmp'], started - 1, [SECRET, KEY_ID])
    assert not exposed, 'files holding a credential that others can read: %r' % exposed

    # status.yml gives the probe the credentials, by the variables the stored entry names. (A
    # spack-public it may list is Spack's own source mirror from its defaults scope, probed as such.)
    msg = status(site, args=creds)
    assert msg['mirrors']['wizard-cache'] is True, msg


@pytest.fixture(scope='module')
def public_copy(site, moto):
    server = CacheCopyServer(moto.url, os.path.join(site['base'], 'public-copy'))
    yield server
    server.stop()


def test_public_cache_on_then_status_with_and_without_credentials(site, moto, public_copy):
    """The public cache reachable (a copy of the S3 cache over plain http): configured. Without the
    credentials, status says the S3 cache cannot be read (Spack 1.x alone would list it as empty),
    naming the variables."""
    creds = secret_vars_file(site, 'credentials.json', CREDENTIALS)
    public = public_copy.url
    with CmdlineSampler([SECRET, KEY_ID]) as sampler:
        binary_cache_role(site, args=creds, binary_cache_public=True, binary_cache_public_url=public,
                          **s3_vars(moto.url))
    assert not sampler.hits, sampler.hits[:3]
    assert mirrors_yaml(site)['spack-public']['url'] == public
    msg = status(site, args=creds)
    assert msg['mirrors']['spack-public'] is True and msg['mirrors']['wizard-cache'] is True, msg
    msg = status(site)
    assert msg['mirrors']['wizard-cache'] is False, msg
    assert 'SPACK_MIRROR_WIZARD_CACHE_S3_ID' in msg['unreachable']['wizard-cache'], msg


MIRROR_PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: The S3 cache with its credentials
      research.wizard.spack_mirror:
        name: wizard-cache
        url: s3://%(bucket)s/compat
        type: [binary]
        signed: false
        scope: user
        s3_endpoint_url: "{{ endpoint }}"
        s3_access_key_id: "{{ key_id }}"
        s3_access_key_secret: "{{ secret }}"
        verify: true
        spack_root: "{{ root }}"
        spack_env_vars: "{{ env_vars }}"
""" % {'bucket': BUCKET}


def test_compat_spack_writes_the_secret_entry_as_a_private_file(site, moto, tmp_path):
    """Spack 0.23 has no *-variable forms: spack_mirror writes the entry into the scope's mirrors.yaml
    itself, 0600, keeping the scope's other mirrors; check, apply, check, apply; nothing in argv."""
    compat = spack_or_skip('compat')
    sandbox = make_sandbox(str(tmp_path), compat['root'], python=compat['python'])
    scope_file = os.path.join(sandbox['env_vars']['SPACK_USER_CONFIG_PATH'], 'mirrors.yaml')
    os.chmod(scope_file, 0o644)
    play = tmp_path / 'mirror.yml'
    play.write_text(MIRROR_PLAY)
    args = secret_vars_file(site, 'compat.json', dict(key_id=KEY_ID, secret=SECRET, endpoint=moto.url,
                                                      root=compat['root'], env_vars=sandbox['env_vars']))
    changed = []
    started = time.time()
    with CmdlineSampler([SECRET, KEY_ID]) as sampler:
        for check in (True, False, True, False):
            proc = run_playbook(str(play), env=JSON_OUT, check=check, args=args)
            assert proc.returncode == 0, explain(proc)
            result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
            assert result['reachable'] is True, result
            changed.append(result['changed'])
    assert changed == [True, True, False, False]
    assert not sampler.hits, sampler.hits[:3]
    assert SECRET not in proc.stdout
    info = os.stat(scope_file)
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    with open(scope_file) as f:
        stored = yaml.safe_load(f)['mirrors']
    assert stored['wizard-cache']['access_pair'] == [KEY_ID, SECRET]
    assert 'wizardtest-sources' in stored, 'the scope keeps its other mirrors'
    # Spack 0.23 reads what was written.
    out = subprocess.run([os.path.join(compat['root'], 'bin', 'spack'), 'config', '--scope', 'user', 'get', 'mirrors'],
                         env=dict(os.environ, **sandbox['env_vars']), check=True, capture_output=True, text=True).stdout
    assert yaml.safe_load(out)['mirrors']['wizard-cache']['endpoint_url'] == moto.url
    exposed = exposed_files([str(tmp_path), os.environ['HOME'], '/tmp'], started - 1, [SECRET])
    assert not exposed, exposed


def test_dead_mirrors_are_reported_and_removed(site, moto, public_copy):
    """Moto stopped, and an https mirror added by hand before (as the role used to, unprobed): status
    says unreachable for each; the role warns about the dead S3 cache and removes it, removes the public
    cache turned off; a local cache, then binary_cache_type none: removed."""
    creds = secret_vars_file(site, 'credentials.json', CREDENTIALS)
    dead_https = 'https://127.0.0.1:%d' % closed_port()
    spack = os.path.join(site['vars']['spack_root'], 'bin', 'spack')
    subprocess.run([spack, 'mirror', 'add', '--scope', 'site', '--type', 'binary', 'legacy-https', dead_https],
                   env=dict(os.environ, **site['env_vars']), check=True, capture_output=True)
    moto.stop()
    public_copy.stop()
    msg = status(site, args=creds)
    assert [msg['mirrors'][m] for m in ('wizard-cache', 'spack-public', 'legacy-https')] == [False] * 3, msg
    assert 'cannot reach %s' % public_copy.url in msg['unreachable']['spack-public'], msg
    assert 'cannot reach' in msg['unreachable']['legacy-https'], msg
    assert 'cannot reach %s/%s' % (moto.url, BUCKET) in msg['unreachable']['wizard-cache'], msg

    proc = binary_cache_role(site, args=creds, binary_cache_public=False, **s3_vars(moto.url))
    assert 'Mirror wizard-cache (s3://%s/spack) is unreachable' % BUCKET in proc.stdout + proc.stderr, explain(proc)
    stored = mirrors_yaml(site)
    assert 'wizard-cache' not in stored and 'spack-public' not in stored, stored

    binary_cache_role(site, cache='local')
    assert mirrors_yaml(site)['wizard-cache']['url'] == 'file://' + site['vars']['binary_cache_local_path']
    binary_cache_role(site, cache='none')
    assert 'wizard-cache' not in mirrors_yaml(site)
