"""install(): one real subprocess replaying recorded Spack output; events, results, retries."""
import json
import os
import stat
import sys

import pytest

from ansible_collections.research.wizard.plugins.module_utils import _spack_install
from ansible_collections.research.wizard.plugins.module_utils._spack_install import install, install_args
from helpers.spack_fixtures import DIR


@pytest.fixture
def fake_spack(tmp_path):
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
''' % (sys.executable, str(queue), os.path.join(DIR, 'commands.jsonl'), DIR, DIR))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)

    def play(*names):
        queue.write_text(' '.join(names))
        return [str(script)]
    return play


def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_install_args():
    assert install_args() == ['install']
    assert install_args('only', 4, True, False, ['a', 'b']) == [
        'install', '--use-buildcache', 'only', '-j', '4', '--fail-fast', '--no-check-signature', 'a', 'b']


def test_from_source_events_and_totals(fake_spack, tmp_path):
    progress = str(tmp_path / 'p' / 'events.jsonl')
    result = install(fake_spack('install-source'), dict(os.environ), progress_file=progress, total=7, env='harness')
    assert result['rc'] == 0 and result['attempts'] == 1
    assert result['totals'] == {'cache': 0, 'source': 4, 'already': 0, 'external': 3, 'failed': 0, 'skipped': 0}
    events = read_events(progress)
    assert events[0]['event'] == 'start' and events[0]['total'] == 7 and events[0]['env'] == 'harness'
    assert events[-1]['event'] == 'finished' and events[-1]['totals'] == result['totals']
    assert [e['seq'] for e in events] == list(range(len(events)))
    installed = [e for e in events if e['event'] == 'installed' and e['origin'] == 'source']
    assert len(installed) == 4 and all(e['seconds'] is not None for e in installed)


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


def test_transient_failure_is_retried_with_backoff(fake_spack):
    sleeps = []
    result = install(fake_spack('err-unreachable-dead-s3-install', 'err-unreachable-dead-s3-install', 'install-cache-fs'),
                     dict(os.environ), retries=3, backoff=2, sleep=sleeps.append)
    assert result['rc'] == 0 and result['attempts'] == 3
    assert sleeps == [2, 4]
    assert result['totals']['cache'] == 4 and result['totals']['failed'] == 0


def test_retries_exhausted(fake_spack):
    sleeps = []
    result = install(fake_spack('err-unreachable-dead-s3-install'), dict(os.environ), retries=1, backoff=0.5,
                     sleep=sleeps.append)
    assert result['rc'] == 1 and result['attempts'] == 2 and sleeps == [0.5]
    assert result['summary']['kind'] == 'connection'


def test_binary_distribution_marker_wins(fake_spack, tmp_path, monkeypatch):
    """An install the log calls 'source' whose prefix carries Spack's binary marker came from a cache."""
    real_exists = os.path.exists
    monkeypatch.setattr(_spack_install.os.path, 'exists',
                        lambda p: p.endswith('libtiny-1.0-funjglgk6qabth3nip7mhofotizg65zf/.spack/binary_distribution') or real_exists(p))
    result = install(fake_spack('install-source'), dict(os.environ))
    origins = dict((p['name'], p['origin']) for p in result['packages'])
    assert origins['libtiny'] == 'cache' and origins['tinyapp'] == 'source'
