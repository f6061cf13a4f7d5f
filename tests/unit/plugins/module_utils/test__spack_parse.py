"""The text parsers against recorded output of the real Spack."""
import pytest

from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    InstallOutputParser, error_summary, parse_buildcache_list, parse_gpg_keys, parse_push_output,
    parse_spec_install_status, parse_version, split_nvh)
from helpers.spack_fixtures import err, out, rc


def events_of(name):
    return parse_events(name)[1]


def parse_events(name, order=('stdout', 'stderr')):
    parser = InstallOutputParser()
    events = []
    text = {'stdout': out(name), 'stderr': err(name)}
    for stream in order:
        for line in text[stream].splitlines():
            events.extend(parser.feed(line))
    return parser, events


def final(events):
    state = {}
    for ev in events:
        state[ev['package']] = ev
    return state


@pytest.mark.parametrize('text,expected', [
    ('0.23.0.dev0 (e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384)', ((0, 23, 0), '0.23.0.dev0')),
    ('1.1.0', ((1, 1, 0), '1.1.0')),
    ('0.21', ((0, 21, 0), '0.21')),
    ('garbage', (None, 'garbage')),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_parse_version_recorded():
    assert parse_version(out('version'))[0] == (0, 23, 0)


@pytest.mark.parametrize('nvh,expected', [
    ('tinyapp-1.0-pto5yztp2jsttzcie3c2yc2gxfckebqh', ('tinyapp', '1.0', 'pto5yztp2jsttzcie3c2yc2gxfckebqh')),
    ('gcc-runtime-12.2.0-5ac4sesq5gnja3i4ucraplw4u2yoe4q7', ('gcc-runtime', '12.2.0', '5ac4sesq5gnja3i4ucraplw4u2yoe4q7')),
    ('py-numpy-1.26.4-abc', ('py-numpy', '1.26.4', 'abc')),
    ('r-3d-viewer-2.0-rc1-h', ('r-3d-viewer', '2.0-rc1', 'h')),
    ('foo-develop-h', ('foo', 'develop', 'h')),
])
def test_split_nvh(nvh, expected):
    assert split_nvh(nvh) == expected


def test_install_from_source():
    parser, events = parse_events('install-source')
    state = final(events)
    assert set(state) == {'cmake', 'glibc', 'gmake', 'gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'}
    assert {n for n, e in state.items() if e['origin'] == 'external'} == {'cmake', 'glibc', 'gmake'}
    for name in ('gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'):
        seq = [e['event'] for e in events if e['package'] == name]
        assert seq[0] == 'queued' and seq[-1] == 'installed' and 'building' in seq
        assert state[name]['origin'] == 'source'
    assert [e['event'] for e in events if e['package'] == 'libtiny'] == ['queued', 'fetching', 'building', 'installed']
    assert state['tinycmake']['index'] == 7 and state['tinycmake']['total'] == 7
    assert state['libtiny']['hash'] == 'funjglgk6qabth3nip7mhofotizg65zf'
    assert parser.prefix['libtiny-1.0-funjglgk6qabth3nip7mhofotizg65zf'].endswith('libtiny-1.0-funjglgk6qabth3nip7mhofotizg65zf')


def test_install_from_cache():
    events = events_of('install-cache-fs')
    state = final(events)
    for name in ('gcc-runtime', 'libtiny', 'tinyapp', 'tinycmake'):
        assert [e['event'] for e in events if e['package'] == name] == ['queued', 'fetching', 'extracting', 'installed']
        assert state[name]['origin'] == 'cache'
    assert state['glibc']['origin'] == 'external'


def test_install_noop_is_already():
    events = events_of('install-noop')
    state = final(events)
    assert {e['origin'] for n, e in state.items() if n != 'glibc'} == {'already'}
    assert all(e['event'] == 'installed' for e in events)


def test_build_failure_best_effort():
    parser, events = parse_events('err-build-best-effort')
    state = final(events)
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinybroken']['log'].endswith('spack-build-out.txt')
    assert 'ProcessError' in state['tinybroken']['message']
    assert state['tinyapp']['event'] == 'installed' and state['tinyapp']['origin'] == 'source'
    assert state['libtiny']['origin'] == 'already'


def test_build_failure_fail_fast():
    events = events_of('err-build-fail-fast')
    state = final(events)
    assert state['tinybroken']['event'] == 'failed'
    assert state['tinybroken']['log'].endswith('spack-build-out.txt')


def test_unreachable_s3_install():
    events = events_of('err-unreachable-dead-s3-install')
    state = final(events)
    assert state['gcc-runtime']['event'] == 'failed'
    assert 'EndpointConnectionError' in state['gcc-runtime']['message']
    assert {n for n, e in state.items() if e['event'] == 'skipped'} == {'tinycmake', 'tinyapp', 'libtiny'}


@pytest.mark.parametrize('name,kind,needle', [
    ('err-spec-unsat-version', 'unsatisfiable', "Cannot satisfy 'libtiny@2.0'"),
    ('err-env-add-malformed', 'syntax', 'zlib@@1'),
    ('err-env-add-nosuchpkg', 'unknown-package', 'no such package: nosuchpkg'),
    ('err-install-nosuchpkg', 'unknown-package', 'nosuchpkg'),
    ('err-unreachable-dead-s3-spec', 'connection', 'Could not connect to the endpoint URL'),
    ('err-signed-mirror-install', 'signature', 'UnsignedPackageException'),
    ('err-build-best-effort', 'build', 'ProcessError'),
])
def test_error_summary(name, kind, needle):
    summary = error_summary(err(name), out(name))
    assert rc(name) != 0
    assert summary['kind'] == kind
    assert needle in summary['error']
    assert summary['transient'] == (kind == 'connection')


def test_error_summary_build_log():
    assert error_summary(err('err-build-best-effort'))['build_log'].endswith('spack-build-out.txt')


def test_buildcache_list():
    entries = parse_buildcache_list(out('buildcache-list-alv'))
    assert len(entries) == 7
    assert {'hash': 'funjglg', 'name': 'libtiny', 'version': '1.0'} in entries


def test_push_output():
    parsed = parse_push_output(out('buildcache-push-fs'))
    assert parsed['selected'] == 4
    assert {p['name'] for p in parsed['pushed']} == {'tinycmake', 'tinyapp', 'gcc-runtime', 'libtiny'}
    again = parse_push_output(out('buildcache-push-again'))
    assert again == {'pushed': [], 'selected': 4}


def test_spec_install_status():
    specs = parse_spec_install_status(out('spec-install-status'))
    by_name = dict((s['name'], s) for s in specs)
    assert by_name['tinyapp'] == {'hash': 'cc4n5u2', 'name': 'tinyapp', 'version': '1.0', 'status': 'installed'}
    assert by_name['glibc']['status'] == 'external'
    assert len(specs) == len({s['hash'] for s in specs}) == 7


def test_spec_install_status_missing():
    text = ' -   abcdefg  tinyapp@1.0%gcc@12.2.0~shout build_system=makefile\n -   bcdefgh      ^libtiny@1.0%gcc'
    assert [s['status'] for s in parse_spec_install_status(text)] == ['missing', 'missing']


def test_gpg_keys():
    keys = parse_gpg_keys(out('gpg-list-signing'))
    assert len(keys) == 1, 'pub and sec parts of one key are one key'
    assert keys[-1]['fingerprint'] == 'BF46B2167C21658F73D976CEACF51A9C7A22F752'
    assert 'wizard@example.invalid' in keys[-1]['uids'][0]


def test_env_build_failure_without_package_in_error():
    """Spack may print only 'Error: ProcessError' for a failed build: the package being built failed."""
    parser, events = parse_events('err-env-build')
    events += parser.close()
    state = final(events)
    assert state['libtiny']['event'] == 'failed'
    assert state['libtiny']['log'].endswith('spack-build-out.txt')
    assert state['libtiny']['message'].startswith('ProcessError')
    assert state['tinyapp']['event'] == state['tinycmake']['event'] == 'skipped'
    assert [e['package'] for e in events if e['event'] == 'failed'] == ['libtiny']
