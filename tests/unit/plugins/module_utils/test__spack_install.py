# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""install(): one real subprocess replaying recorded Spack output; events, results, retries."""
import json
import os
import stat
import sys

import pytest

from ansible_collections.research.wizard.plugins.module_utils import _spack_install
from ansible_collections.research.wizard.plugins.module_utils._spack_install import install
from helpers.spack_fixtures import DIRS, GENERATIONS


def make_fake_spack(tmp_path, directory):
    """A `spack` that prints recorded output: one fixture name per run, from a queue file."""
    queue = tmp_path / 'queue'
    script = tmp_path / 'spack'
    script.write_text('''#!%s
import json, sys
q = %r
names = open(q).read().split()
name, rest = names[0], names[1:]
open(q, 'w').write(' '.join(rest or [name]))
rc = dict((r['name'], r['rc']) for r in map(json.loads, open(%r))).get(name, 0)
sys.stdout.write(open(%r + '/' + name + '.stdout').read()); sys.stdout.flush()
sys.stderr.write(open(%r + '/' + name + '.stderr').read())
sys.exit(rc)
''' % (sys.executable, str(queue), os.path.join(directory, 'commands.jsonl'), directory, directory))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)

    def play(*names):
        queue.write_text(' '.join(names))
        return [str(script)]
    return play


@pytest.fixture(params=GENERATIONS)
def gen(request):
    return request.param


@pytest.fixture
def fake_spack(tmp_path, gen):
    return make_fake_spack(tmp_path, DIRS[gen])


@pytest.fixture
def fake_spack_023(tmp_path):
    return make_fake_spack(tmp_path, DIRS['0.23'])


@pytest.fixture
def fake_spack_1(tmp_path):
    return make_fake_spack(tmp_path, DIRS['1.1.1'])


# Totals of each recorded install, per generation (1.x builds compiler-wrapper and has gcc as an external).
SOURCE_TOTALS = {
    '0.23': {'cache': 0, 'source': 4, 'already': 0, 'external': 3, 'failed': 0, 'skipped': 0},
    '1.1.1': {'cache': 0, 'source': 5, 'already': 0, 'external': 4, 'failed': 0, 'skipped': 0},
}


def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_from_source_events_and_totals(fake_spack, gen, tmp_path):
    progress = str(tmp_path / 'p' / 'events.jsonl')
    totals = SOURCE_TOTALS[gen]
    nodes = sum(totals.values())
    result = install(fake_spack('install-source'), dict(os.environ), progress_file=progress, total=nodes, env='harness')
    assert result['rc'] == 0 and result['attempts'] == 1
    assert result['totals'] == totals
    events = read_events(progress)
    assert events[0]['event'] == 'start' and events[0]['total'] == nodes and events[0]['env'] == 'harness'
    assert events[-1]['event'] == 'finished' and events[-1]['totals'] == result['totals']
    assert [e['seq'] for e in events] == list(range(len(events)))
    installed = [e for e in events if e['event'] == 'installed' and e['origin'] == 'source']
    assert len(installed) == totals['source'] and all(e['seconds'] is not None for e in installed)


@pytest.mark.parametrize('name', ['install-cache-fs', 'install-cache-auto', 'install-cache-newinst'])
def test_cache_origins_1x(fake_spack_1, name, tmp_path):
    """Every cached package ends installed/cache, whatever the installer's order: none is left
    "queued" or "fetching" (the report once said done 4 of 9)."""
    progress = str(tmp_path / 'events.jsonl')
    result = install(fake_spack_1(name), dict(os.environ), progress_file=progress)
    cached = {'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'} | ({'compiler-wrapper'} if name == 'install-cache-auto' else set())
    assert {p['name'] for p in result['packages'] if p['origin'] == 'cache'} == cached
    assert all(p['status'] == 'installed' for p in result['packages'])
    last = {}
    for ev in read_events(progress):
        if 'package' in ev:
            last[ev['package']] = ev['event']
    assert set(last.values()) == {'installed'}


def test_cache_origins(fake_spack):
    result = install(fake_spack('install-cache-fs'), dict(os.environ))
    assert result['totals']['cache'] == 4 and result['totals']['source'] == 0


def test_build_failure_is_not_retried(fake_spack):
    sleeps = []
    result = install(fake_spack('err-build-best-effort'), dict(os.environ), retries=3, sleep=sleeps.append)
    assert result['rc'] == 1 and result['attempts'] == 1 and sleeps == []
    failed = [p for p in result['packages'] if p['status'] == 'failed']
    assert [p['name'] for p in failed] == ['tinybroken'] and failed[0]['log'].endswith('spack-build-out.txt')
    assert result['summary']['kind'] == 'build'


@pytest.mark.parametrize('name', ['err-fetch-no-mirror', 'err-fetch-alias-only-mirror', 'err-fetch-no-mirror-newinst'])
def test_source_in_no_mirror_is_not_retried(fake_spack_1, name):
    """Offline, a source no mirror has fails again however often it is retried (0.23's code
    retried it twice as "transient")."""
    sleeps = []
    result = install(fake_spack_1(name), dict(os.environ), retries=2, sleep=sleeps.append)
    assert result['rc'] == 1 and result['attempts'] == 1 and sleeps == []
    assert result['summary']['kind'] == 'fetch' and result['summary']['transient'] is False


def test_new_installer_failure(fake_spack_1):
    result = install(fake_spack_1('err-build-best-effort-newinst'), dict(os.environ), retries=2)
    assert result['attempts'] == 1 and result['summary']['kind'] == 'build'
    failed = [p for p in result['packages'] if p['status'] == 'failed']
    assert [p['name'] for p in failed] == ['tinybroken'] and failed[0]['log'].endswith('spack-build-out.txt')


def test_spack_gets_a_stdin_epoll_accepts(tmp_path):
    """The new installer registers stdin with epoll: /dev/null is refused, a closed pipe is
    always readable (EOF) and would make it spin. What Spack gets is an open, silent pipe."""
    script = tmp_path / 'spack'
    script.write_text('''#!%s
import selectors, sys
sel = selectors.DefaultSelector()
sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
sys.exit(3 if sel.select(timeout=0.2) else 0)
''' % sys.executable)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    assert install([str(script)], dict(os.environ))['rc'] == 0


def test_transient_failure_is_retried_with_backoff(fake_spack_023):
    fake_spack = fake_spack_023
    sleeps = []
    result = install(fake_spack('err-unreachable-dead-s3-install', 'err-unreachable-dead-s3-install', 'install-cache-fs'),
                     dict(os.environ), retries=3, backoff=2, sleep=sleeps.append)
    assert result['rc'] == 0 and result['attempts'] == 3
    assert sleeps == [2, 4]
    assert result['totals']['cache'] == 4 and result['totals']['failed'] == 0


def test_retries_exhausted(fake_spack_023):
    fake_spack = fake_spack_023
    sleeps = []
    result = install(fake_spack('err-unreachable-dead-s3-install'), dict(os.environ), retries=1, backoff=0.5,
                     sleep=sleeps.append)
    assert result['rc'] == 1 and result['attempts'] == 2 and sleeps == [0.5]
    assert result['summary']['kind'] == 'connection'


LIBTINY = {'0.23': 'libtiny-1.0-funjglgk6qabth3nip7mhofotizg65zf', '1.1.1': 'libtiny-1.0-vzcq3jek67c53adfeeguokgpplmer4us'}


def test_binary_distribution_marker_wins(fake_spack, gen, tmp_path, monkeypatch):
    """An install the log calls 'source' whose prefix carries Spack's binary marker came from a cache."""
    real_exists = os.path.exists
    marker = LIBTINY[gen] + '/.spack/binary_distribution'
    monkeypatch.setattr(_spack_install.os.path, 'exists', lambda p: p.endswith(marker) or real_exists(p))
    result = install(fake_spack('install-source'), dict(os.environ))
    origins = dict((p['name'], p['origin']) for p in result['packages'])
    assert origins['libtiny'] == 'cache' and origins['tinyapp'] == 'source'
