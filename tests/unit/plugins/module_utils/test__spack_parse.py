# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The text parsers against recorded output of the real Spack, both generations (0.23 and 1.1.1)."""
import json
import os

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._spack_install_output import (
    EVENT_RANK, InstallOutputParser, split_nvh)
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    HINTS, KINDS, error_summary, fetch_failures, parse_buildcache_list, parse_gpg_keys, parse_push_output,
    parse_spec_install_status, parse_version)
from helpers.spack_fixtures import DIRS, GENERATIONS, err, names, out, rc

NEW = '1.1.1'  # recordings of the new installer (config:installer:new) exist for this generation only


def parse_events(name, gen, order=('stdout', 'stderr')):
    parser = InstallOutputParser()
    events = []
    text = {'stdout': out(name, gen), 'stderr': err(name, gen)}
    for stream in order:
        for line in text[stream].splitlines():
            events.extend(parser.feed(line))
    return parser, events


def events_of(name, gen):
    parser, events = parse_events(name, gen)
    return events + parser.close()


def final(events):
    state = {}
    for ev in events:
        state[ev['package']] = ev
    return state


def sequence(events, name):
    return [e['event'] for e in events if e['package'] == name]


def install_streams():
    """Every recorded install run of both generations: (gen, name)."""
    out = []
    for gen in GENERATIONS:
        for name in names(gen):
            text = open(os.path.join(DIRS[gen], name + '.stdout')).read()
            text += open(os.path.join(DIRS[gen], name + '.stderr')).read()
            if 'Installing ' in text or 'Successfully installed' in text or '[+] ' in text or ': finished' in text:
                out.append((gen, name))
    return out


@pytest.mark.parametrize('text,expected', [
    ('0.23.0.dev0 (e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384)', ((0, 23, 0), '0.23.0.dev0')),
    ('1.1.0', ((1, 1, 0), '1.1.0')),
    ('0.21', ((0, 21, 0), '0.21')),
    ('garbage', (None, 'garbage')),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize('gen,version', [('0.23', (0, 23, 0)), ('1.1.1', (1, 1, 1))])
def test_parse_version_recorded(gen, version):
    assert parse_version(out('version', gen))[0] == version


@pytest.mark.parametrize('nvh,expected', [
    ('tinyapp-1.0-pto5yztp2jsttzcie3c2yc2gxfckebqh', ('tinyapp', '1.0', 'pto5yztp2jsttzcie3c2yc2gxfckebqh')),
    ('gcc-runtime-12.2.0-5ac4sesq5gnja3i4ucraplw4u2yoe4q7', ('gcc-runtime', '12.2.0', '5ac4sesq5gnja3i4ucraplw4u2yoe4q7')),
    ('compiler-wrapper-1.0-ju7dhgjlhyquorl25n4rysehxpdzagpw', ('compiler-wrapper', '1.0', 'ju7dhgjlhyquorl25n4rysehxpdzagpw')),
    ('py-numpy-1.26.4-abc', ('py-numpy', '1.26.4', 'abc')),
    ('r-3d-viewer-2.0-rc1-h', ('r-3d-viewer', '2.0-rc1', 'h')),
    ('foo-develop-h', ('foo', 'develop', 'h')),
])
def test_split_nvh(nvh, expected):
    assert split_nvh(nvh) == expected


@pytest.mark.parametrize('gen,name', install_streams())
def test_events_never_go_backwards(gen, name):
    """On every recorded install stream, in both stream orders: each package's events in rank order."""
    for order in (('stdout', 'stderr'), ('stderr', 'stdout')):
        parser, events = parse_events(name, gen, order)
        events += parser.close()
        for package in {e['package'] for e in events}:
            ranks = [EVENT_RANK[e['event']] for e in events if e['package'] == package]
            assert ranks == sorted(ranks) and len(ranks) == len(set(ranks)), (package, sequence(events, package))
            assert ranks.count(3) <= 1


# What each recorded source install built, and which nodes are externals: 1.x adds
# compiler-wrapper (built) and gcc (an external, the compiler is a package).
SOURCE = {
    '0.23': {'built': {'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'}, 'external': {'cmake', 'glibc', 'gmake'},
             'libtiny': 'funjglgk6qabth3nip7mhofotizg65zf', 'last': ('tinycmake', 7, 7)},
    '1.1.1': {'built': {'compiler-wrapper', 'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'},
              'external': {'cmake', 'gcc', 'glibc', 'gmake'},
              'libtiny': 'vzcq3jek67c53adfeeguokgpplmer4us', 'last': ('tinycmake', 9, 9)},
}


@pytest.mark.parametrize('gen', GENERATIONS)
def test_install_from_source(gen):
    parser, events = parse_events('install-source', gen)
    state = final(events)
    facts = SOURCE[gen]
    assert set(state) == facts['built'] | facts['external']
    assert {n for n, e in state.items() if e['origin'] == 'external'} == facts['external']
    for name in facts['built']:
        seq = sequence(events, name)
        assert seq[0] == 'queued' and seq[-1] == 'installed' and 'building' in seq
        assert state[name]['origin'] == 'source'
    assert sequence(events, 'libtiny') == ['queued', 'fetching', 'building', 'installed']
    name, index, total = facts['last']
    assert (state[name]['index'], state[name]['total']) == (index, total)
    assert state['libtiny']['hash'] == facts['libtiny']
    nvh = 'libtiny-1.0-' + facts['libtiny']
    assert parser.prefix[nvh].endswith(nvh)


# Binary installs: 0.23 announces each package first (queued), 1.x only after it is installed.
CACHE = {
    '0.23': (['queued', 'fetching', 'extracting', 'installed'], {'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'}),
    '1.1.1': (['fetching', 'extracting', 'installed'], {'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'}),
}


@pytest.mark.parametrize('gen', GENERATIONS)
def test_install_from_cache(gen):
    events = events_of('install-cache-fs', gen)
    state = final(events)
    expected, cached = CACHE[gen]
    for name in cached:
        assert sequence(events, name) == expected, name
        assert state[name]['origin'] == 'cache'
    assert state['glibc']['origin'] == 'external'
    assert {n for n, e in state.items() if e['origin'] == 'cache'} == cached


def test_cache_fetch_goes_to_the_package_extracted_next():
    """1.x: the blob fetched after "Installing gcc-runtime" (printed late) is libtiny's."""
    events = events_of('install-cache-fs', '1.1.1')
    fetches = [e['package'] for e in events if e['event'] == 'fetching']
    extracts = [e['package'] for e in events if e['event'] == 'extracting']
    assert fetches == extracts
    for i, ev in enumerate(events):
        if ev['event'] == 'fetching':
            assert events[i + 1]['event'] == 'extracting' and events[i + 1]['package'] == ev['package']


def test_shared_replay_of_a_cache_install_is_now_right():
    """The shared capture's cache install (auto, 9 nodes) that the old parser misreported:
    queued after installed, the next package's fetch given to the previous one, "done 4 of 9"."""
    text = open(os.path.join(DIRS['1.1.1'], 'replay-cache.combined.txt')).read()
    parser = InstallOutputParser()
    events = []
    for line in text.splitlines():
        events += parser.feed(line)
    events += parser.close()
    state = final(events)
    assert len(state) == 9 and all(e['event'] == 'installed' for e in state.values())
    assert {n for n, e in state.items() if e['origin'] == 'cache'} == {
        'compiler-wrapper', 'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'}
    with open(os.path.join(DIRS['1.1.1'], 'replay-cache.events.jsonl')) as f:
        old = [json.loads(line) for line in f]
    assert [e['event'] for e in old if e.get('package') == 'libtiny'] == ['extracting', 'installed', 'queued', 'fetching']
    assert sequence(events, 'libtiny') == ['fetching', 'extracting', 'installed']


@pytest.mark.parametrize('gen', GENERATIONS)
def test_install_noop_is_already(gen):
    events = events_of('install-noop', gen)
    state = final(events)
    assert {e['origin'] for n, e in state.items() if n != 'glibc'} == {'already'}
    assert state['glibc']['origin'] == 'external'
    assert all(e['event'] == 'installed' for e in events)
    # 1.x lists only link/run nodes of installed specs: compiler-wrapper (build-only) is not there.
    assert 'compiler-wrapper' not in state


@pytest.mark.parametrize('gen', GENERATIONS)
def test_build_failure_best_effort(gen):
    events = events_of('err-build-best-effort', gen)
    state = final(events)
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinybroken']['log'].endswith('spack-build-out.txt')
    assert 'ProcessError' in state['tinybroken']['message']
    assert state['tinyapp']['event'] == 'installed' and state['tinyapp']['origin'] == 'source'
    assert state['libtiny']['origin'] == 'already'
    assert [e['package'] for e in events if e['event'] == 'failed'] == ['tinybroken']


def test_a_failure_read_after_the_next_package_started_is_its_own():
    """stdout and stderr come through two reader threads: seen in CI on 0.23, tinybroken's error block
    arrived after "Installing tinyapp", and tinyapp was reported failed though it installed."""
    stdout = out('err-build-best-effort', '0.23').splitlines()
    cut = next(i for i, line in enumerate(stdout) if line.startswith('==> Installing tinyapp')) + 1
    parser = InstallOutputParser()
    events = []
    for line in stdout[:cut] + err('err-build-best-effort', '0.23').splitlines() + stdout[cut:]:
        events.extend(parser.feed(line))
    state = final(events + parser.close())
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinyapp']['event'] == 'installed', sequence(events, 'tinyapp')


@pytest.mark.parametrize('gen', GENERATIONS)
def test_build_failure_fail_fast(gen):
    events = events_of('err-build-fail-fast', gen)
    state = final(events)
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinybroken']['log'].endswith('spack-build-out.txt')


@pytest.mark.parametrize('gen,name', [('0.23', 'err-unreachable-dead-s3-install'), ('1.1.1', 'err-cache-miss')])
def test_first_cache_failure_skips_the_dependents(gen, name):
    state = final(events_of(name, gen))
    assert state['gcc-runtime']['event'] == 'failed'
    assert {n for n, e in state.items() if e['event'] == 'skipped'} == {'tinycmake', 'tinyapp', 'libtiny'}


def test_unreachable_s3_install():
    state = final(events_of('err-unreachable-dead-s3-install', '0.23'))
    assert 'EndpointConnectionError' in state['gcc-runtime']['message']


def test_fetch_failure_is_the_package_being_fetched():
    state = final(events_of('err-fetch-no-mirror', '1.1.1'))
    assert state['libtiny']['event'] == 'failed' and 'FetchError' in state['libtiny']['message']
    assert state['libtiny']['log'] is None
    assert {n for n, e in state.items() if e['event'] == 'skipped'} == {'tinyapp', 'tinycmake'}


# The new installer (config:installer:new; the default in Spack 1.2) without a terminal: one
# "HASH7 name@version: state" line per change, externals "finished" at once, nothing for a no-op.
@pytest.mark.parametrize('name,origin,expected', [
    ('install-source-newinst', 'source', ['fetching', 'building', 'installed']),
    ('install-cache-newinst', 'cache', ['fetching', 'extracting', 'installed']),
])
def test_new_installer(name, origin, expected):
    events = events_of(name, NEW)
    state = final(events)
    for package in ('gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'):
        assert sequence(events, package) == expected, package
        assert state[package]['origin'] == origin
        assert len(state[package]['hash']) == 7
    assert state['glibc']['origin'] == 'external' and state['glibc']['event'] == 'installed'


def test_new_installer_noop_prints_nothing():
    assert out('install-noop-newinst', NEW) == '' and events_of('install-noop-newinst', NEW) == []


def test_new_installer_failure_gets_its_log_from_the_final_list():
    events = events_of('err-build-best-effort-newinst', NEW)
    state = final(events)
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinybroken']['log'].endswith('spack-stage-tinybroken-0.1-cjqevw4lr7idugwakmtmbn5hlg6z44td/spack-build-out.txt')
    assert state['tinyapp']['event'] == 'installed' and state['libtiny']['event'] == 'installed'
    assert sequence(events, 'tinybroken') == ['fetching', 'building', 'failed']


def test_new_installer_fetch_failure():
    state = final(events_of('err-fetch-no-mirror-newinst', NEW))
    assert state['libtiny']['event'] == 'failed' and state['libtiny']['message'] == 'failed fetching its source'
    assert state['gcc-runtime']['event'] == 'installed'


def test_new_installer_failure_without_its_list_still_fails():
    """Output cut short (Spack killed): close() reports what was seen failing."""
    parser = InstallOutputParser()
    for line in out('err-build-best-effort-newinst', NEW).splitlines():
        parser.feed(line)
    closed = parser.close()
    assert [(e['package'], e['event'], e['log']) for e in closed] == [('tinybroken', 'failed', None)]


def classifier_cases():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test__spack_parse.yaml')) as f:
        return yaml.safe_load(f)


CASES = classifier_cases()


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_error_summary(case):
    if 'fixture' in case:
        assert rc(case['fixture'], case['gen']) != 0
        summary = error_summary(err(case['fixture'], case['gen']), out(case['fixture'], case['gen']))
    else:
        summary = error_summary(case['stderr'])
    assert summary['kind'] == case['kind']
    assert case['error'] in summary['error']
    if 'detail' in case:
        assert summary['detail'] == case['detail']
    assert '\n' not in summary['detail']
    assert summary['transient'] == (case['kind'] == 'connection')
    assert case['kind'] in HINTS or case['kind'] == 'other'


def test_every_kind_has_a_recording():
    recorded = {c['kind'] for c in CASES if 'fixture' in c}
    assert {kind[0] for kind in KINDS} | {'build', 'connection', 'fetch'} <= recorded


@pytest.mark.parametrize('gen,name', [('1.1.1', 'err-fetch-no-mirror'), ('1.1.1', 'err-fetch-alias-only-mirror')])
def test_source_in_no_mirror_is_not_transient(gen, name):
    """Each URL failed for good: the file is not in the mirror, the upstream host does not resolve
    (offline). Retrying cannot help, so install() does not."""
    failures = fetch_failures(err(name, gen))
    assert len(failures) >= 2 and not any(f['connection'] for f in failures)
    assert any('No such file or directory' in f['reason'] for f in failures)
    assert any('Name or service not known' in f['reason'] for f in failures)
    assert error_summary(err(name, gen), out(name, gen))['fetch_failures'] == failures


@pytest.mark.parametrize('reason,transient', [
    ("URLError: <urlopen error [Errno 111] Connection refused>", True),
    ("DetailedURLError: GET https://m.example/x errored with: timed out", True),
    ("URLError: <urlopen error [Errno -3] Temporary failure in name resolution>", True),
    ("HTTPError: HTTP Error 503: Service Unavailable", True),
    ("HTTPError: HTTP Error 404: Not Found", False),
    ("DetailedURLError: GET https://m.example/x errored with: [Errno -2] Name or service not known", False),
])
def test_fetch_failure_transient_only_for_connections(reason, transient):
    """Recorded 1.1.1 FetchError with its mirror line's reason replaced: a mirror that was down."""
    lines = err('err-fetch-no-mirror', '1.1.1').splitlines()
    lines[1] = '        file:///tmp/mirror/x.tar.gz: ' + reason
    assert error_summary('\n'.join(lines))['transient'] is transient


@pytest.mark.parametrize('gen', GENERATIONS)
def test_error_summary_build_log(gen):
    assert error_summary(err('err-build-best-effort', gen))['build_log'].endswith('spack-build-out.txt')


def test_error_summary_build_log_new_installer():
    log = error_summary(err('err-build-best-effort-newinst', NEW))['build_log']
    assert log.endswith('/spack-stage-tinybroken-0.1-cjqevw4lr7idugwakmtmbn5hlg6z44td/spack-build-out.txt')


# 1.x lists the externals (cmake, gcc, glibc, gmake) that the pushed specs depend on too.
BUILDCACHE = {'0.23': (7, {'hash': 'funjglg', 'name': 'libtiny', 'version': '1.0'}),
              '1.1.1': (9, {'hash': 'vzcq3je', 'name': 'libtiny', 'version': '1.0'})}


@pytest.mark.parametrize('gen', GENERATIONS)
def test_buildcache_list(gen):
    count, libtiny = BUILDCACHE[gen]
    entries = parse_buildcache_list(out('buildcache-list-alv', gen))
    assert len(entries) == count
    assert libtiny in entries


PUSHED = {'0.23': {'tinycmake', 'tinyapp', 'gcc-runtime', 'libtiny'},
          '1.1.1': {'tinycmake', 'tinyapp', 'gcc-runtime', 'libtiny', 'compiler-wrapper'}}


@pytest.mark.parametrize('gen', GENERATIONS)
def test_push_output(gen):
    parsed = parse_push_output(out('buildcache-push-fs', gen) + err('buildcache-push-fs', gen))
    assert parsed['selected'] == len(PUSHED[gen])
    assert {p['name'] for p in parsed['pushed']} == PUSHED[gen]
    again = parse_push_output(out('buildcache-push-again', gen) + err('buildcache-push-again', gen))
    assert again == {'pushed': [], 'selected': len(PUSHED[gen])}


SPEC_STATUS = {
    '0.23': ({'hash': 'cc4n5u2', 'name': 'tinyapp', 'version': '1.0', 'status': 'installed'}, 7),
    '1.1.1': ({'hash': '27hipo4', 'name': 'tinyapp', 'version': '1.0', 'status': 'installed'}, 9),
}


@pytest.mark.parametrize('gen', GENERATIONS)
def test_spec_install_status(gen):
    tinyapp, count = SPEC_STATUS[gen]
    specs = parse_spec_install_status(out('spec-install-status', gen))
    by_name = dict((s['name'], s) for s in specs)
    assert by_name['tinyapp'] == tinyapp
    assert by_name['glibc']['status'] == 'external'
    assert len(specs) == len({s['hash'] for s in specs}) == count


def test_spec_install_status_missing():
    text = ' -   abcdefg  tinyapp@1.0%gcc@12.2.0~shout build_system=makefile\n -   bcdefgh      ^libtiny@1.0%gcc'
    assert [s['status'] for s in parse_spec_install_status(text)] == ['missing', 'missing']


@pytest.mark.parametrize('gen', GENERATIONS)
def test_gpg_keys(gen):
    keys = parse_gpg_keys(out('gpg-list-signing', gen))
    assert len(keys) == 1, 'pub and sec parts of one key are one key'
    assert len(keys[-1]['fingerprint']) == 40
    assert 'wizard@example.invalid' in keys[-1]['uids'][0]


def test_env_build_failure_without_package_in_error():
    """0.23 may print only 'Error: ProcessError' for a failed build: the package being built failed."""
    events = events_of('err-env-build', '0.23')
    state = final(events)
    assert state['libtiny']['event'] == 'failed'
    assert state['libtiny']['log'].endswith('spack-build-out.txt')
    assert state['libtiny']['message'].startswith('ProcessError')
    assert state['tinyapp']['event'] == state['tinycmake']['event'] == 'skipped'
    assert [e['package'] for e in events if e['event'] == 'failed'] == ['libtiny']
