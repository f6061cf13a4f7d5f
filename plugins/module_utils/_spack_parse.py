# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every piece of Spack *text* parsing lives here, tested against recorded real output.

Spack prints JSON only for a few commands (find --json, spec --json); install progress, errors,
buildcache listings and push results are text. Colour is always off (--color never), so the
patterns below never see escape codes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

VERSION_RE = re.compile(r'^(\d+)\.(\d+)(?:\.(\d+))?(\S*)')

# "==> Installing libtiny-1.0-funjglgk6qabth3nip7mhofotizg65zf [5/7]"
_INSTALLING = re.compile(r'^==> Installing (?P<nvh>\S+)(?: \[(?P<index>\d+)/(?P<total>\d+)\])?\s*$')
# "==> No binary for X-1.0-hash found: installing from source"
_NO_BINARY = re.compile(r'^==> No binary for (?P<nvh>\S+) found: installing from source')
# "==> Fetching file:///.../x.tar.gz" and "==> Using cached archive: ..." (source fetch) — for the
# package most recently announced by "Installing".
_FETCHING = re.compile(r'^==> (?:Fetching |Using cached archive: )(?P<url>\S+)')
_EXTRACTING = re.compile(r'^==> Extracting (?P<nvh>\S+) from binary cache')
_PHASE = re.compile(r'^==> (?P<name>[\w.+-]+): Executing phase: \'(?P<phase>[^\']+)\'')
_SUCCESS = re.compile(r'^==> (?P<name>[\w.+-]+): Successfully installed (?P<nvh>\S+)')
_TIMING = re.compile(r'^\s+(?:\w[\w-]*: [\d.]+s\.\s+)*Total: (?P<total>[\d.]+)s')
# "[+] /opt/spack/opt/.../libtiny-1.0-hash" or "[+] /usr (external glibc-2.36-hash)"
_PRESENT = re.compile(r'^\[\+\] (?P<prefix>\S+)(?: \(external (?P<nvh>\S+)\))?\s*$')
# "==> Error: tinybroken-0.1-44hn72t...: Package was not installed"
_PKG_ERROR = re.compile(r'^==> Error: (?P<nvh>[\w.+-]+-[a-z0-9]{32}): (?P<msg>.*)$')
_FAILED_NAME = re.compile(r'^==> Error: (?:Failed to install (?P<name>[\w.+-]+) due to |Terminating after first install failure: )(?P<msg>.*)$')
_SKIPPED = re.compile(r'^==> (?:Warning: )?Skipping build of (?P<nvh>\S+) since (?P<msg>.*)$')
_BUILD_LOG = re.compile(r'^\s*See build log for details:\s*$')
_ERROR = re.compile(r'^==> Error: (?P<msg>.*)$')

_TRANSIENT = re.compile(
    r'(FetchError|All fetchers failed|Could not connect|Connection (?:refused|reset)|'
    r'timed? ?out|Temporary failure in name resolution|URLError|HTTP Error 5\d\d|'
    r'Max retries exceeded|EndpointConnectionError|No route to host)', re.I)


# What to do about each kind of failure error_summary() recognises.
HINTS = {
    'syntax': 'fix the spec syntax',
    'unknown-package': 'check the package name with `spack list NAME`, or add the repository that provides it',
    'unsatisfiable': 'relax the version/variant constraints (see `spack info PACKAGE`)',
    'connection': 'check that the mirror is reachable and its credentials, or remove it',
    'fetch': 'check the mirror/source URLs and network access',
    'signature': "trust the cache's signing key (spack_buildcache action=keys) or mark the mirror unsigned",
    'build': 'read the build log',
    'cache-miss': 'a binary cache lacks this package: push it from a builder, or allow builds (use_buildcache: auto)',
}


def parse_version(text):
    """'0.23.0.dev0 (e8f8cf85...)' or '1.1.0' -> ((0, 23, 0), '0.23.0.dev0')."""
    first = (text or '').strip().split()
    match = VERSION_RE.match(first[0]) if first else None
    if not match:
        return None, (text or '').strip()
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)), first[0]


def split_nvh(nvh):
    """'tinyapp-1.0-pto5yztp2jsttzcie3c2yc2gxfckebqh' -> ('tinyapp', '1.0', 'pto5yzt...').

    Package names may contain dashes ('gcc-runtime') and versions may too, but Spack's DAG hash is
    always the last dash-separated field (32 base32 chars) and versions start with a digit or are
    a branch name; the split takes the last field starting with a digit before the hash, else the
    last field.
    """
    parts = nvh.split('-')
    if len(parts) < 3:
        return nvh, None, None
    dag_hash = parts[-1]
    rest = parts[:-1]
    for i in range(len(rest) - 1, 0, -1):
        if rest[i][:1].isdigit():
            return '-'.join(rest[:i]), '-'.join(rest[i:]), dag_hash
    return '-'.join(rest[:-1]), rest[-1], dag_hash


def _pkg(nvh):
    name, version, dag_hash = split_nvh(nvh)
    return {'package': name, 'version': version, 'hash': dag_hash}


class InstallOutputParser(object):
    """Turns `spack install` output lines into package state-change events.

    Feed lines in order (stdout and stderr may be interleaved); `feed` returns a list of events
    (dicts with 'event' and package keys) per docs/progress-events.md, minus ts/seq which the
    writer adds. Keeps just enough state to attribute phase and fetch lines to the package that
    Spack most recently announced.
    """

    def __init__(self):
        self.current = None          # nvh of the package being installed
        self.state = {}              # nvh -> last event name
        self.origin = {}             # nvh -> cache|source
        self.index = {}              # nvh -> (index, total)
        self.prefix = {}             # nvh -> install prefix, from the "[+] PREFIX" line
        self.build_log = None        # last "See build log for details" path
        self.pending = None          # (nvh, error) of a build failure not yet reported
        self.failed_deps = set()     # nvh named as failed by "Skipping build of X since Y failed"
        self._want_log = False
        self.errors = []             # every "==> Error:" message

    def _event(self, event, nvh, **extra):
        if self.state.get(nvh) == event:
            return []
        self.state[nvh] = event
        index, total = self.index.get(nvh, (None, None))
        ev = dict(_pkg(nvh), event=event, origin=self.origin.get(nvh), index=index, total=total)
        ev.update(extra)
        return [ev]

    def _by_name(self, name):
        """The package being installed, when Spack names it without its hash."""
        if self.current and (name is None or split_nvh(self.current)[0] == name):
            return self.current
        return None

    def feed(self, line):
        line = line.rstrip('\r\n')
        if self._want_log:
            if line.strip():
                self.build_log = line.strip()
                self._want_log = False
                return self._flush_pending()
            return []
        m = _INSTALLING.match(line)
        if m:
            nvh = m.group('nvh')
            self.current = nvh
            if m.group('index'):
                self.index[nvh] = (int(m.group('index')), int(m.group('total')))
            return self._event('queued', nvh)
        m = _NO_BINARY.match(line)
        if m:
            self.origin[m.group('nvh')] = 'source'
            return []
        m = _EXTRACTING.match(line)
        if m:
            nvh = m.group('nvh')
            self.origin[nvh] = 'cache'
            return self._event('extracting', nvh)
        m = _FETCHING.match(line)
        if m and self.current and self.state.get(self.current) == 'queued':
            return self._event('fetching', self.current)
        m = _PHASE.match(line)
        if m and self.current and split_nvh(self.current)[0] == m.group('name'):
            self.origin.setdefault(self.current, 'source')
            return self._event('building', self.current)
        m = _SUCCESS.match(line)
        if m:
            nvh = m.group('nvh')
            self.origin.setdefault(nvh, 'source')
            return self._event('installed', nvh)
        m = _PRESENT.match(line)
        if m:
            if m.group('nvh'):
                nvh = m.group('nvh')
                self.origin[nvh] = 'external'
                return self._event('installed', nvh, prefix=m.group('prefix'))
            nvh = m.group('prefix').rstrip('/').rsplit('/', 1)[-1]
            if nvh not in self.state:
                # Present before this run: no "Installing" line preceded it.
                self.origin[nvh] = 'already'
                return self._event('installed', nvh, prefix=m.group('prefix'))
            self.prefix[nvh] = m.group('prefix')
            return []
        if _BUILD_LOG.match(line):
            self._want_log = True
            return []
        m = _SKIPPED.match(line)
        if m:
            # "Skipping build of X since Y failed": Y failed even if Spack named no package in its error.
            # Spack may name Y's own error only later ("Failed to install Y due to ..."), or never.
            failed = re.match(r'(\S+) failed', m.group('msg'))
            if failed:
                self.failed_deps.add(failed.group(1))
            return self._flush_pending() + self._event('skipped', m.group('nvh'), message=m.group('msg'))
        m = _PKG_ERROR.match(line) or _FAILED_NAME.match(line)
        if m:
            self.pending = None
            self.errors.append(line[len('==> Error: '):])
            nvh = m.groupdict().get('nvh') or self._by_name(m.groupdict().get('name'))
            if not nvh or self.state.get(nvh) in ('failed', 'installed', 'skipped'):
                return []
            log = self.build_log if self.origin.get(nvh) != 'cache' else None
            return self._event('failed', nvh, message=m.group('msg'), log=log)
        m = _ERROR.match(line)
        if m:
            self.errors.append(m.group('msg'))
            # A bare error (e.g. "ProcessError: ...") while a package is being built is that package's
            # failure; its build log path follows a few lines later.
            if self.current and self.state.get(self.current) in ('queued', 'fetching', 'building', 'extracting'):
                self.pending = (self.current, m.group('msg'))
        return []

    def _flush_pending(self):
        if not self.pending:
            return []
        nvh, msg = self.pending
        self.pending = None
        if self.state.get(nvh) in ('failed', 'installed', 'skipped'):
            return []
        return self._event('failed', nvh, message=msg, log=self.build_log if self.origin.get(nvh) != 'cache' else None)

    def close(self):
        """Events still owed when the output ends: failures only known from their dependents."""
        events = self._flush_pending()
        for nvh in sorted(self.failed_deps):
            if self.state.get(nvh) not in (None, 'failed', 'installed', 'skipped'):
                events += self._event('failed', nvh, message=self.errors[0] if self.errors else 'failed',
                                      log=self.build_log if self.origin.get(nvh) != 'cache' else None)
        return events


_KINDS = (
    ('syntax', re.compile(r'unexpected tokens|unexpected end of input|spec syntax', re.I)),
    ('unknown-package', re.compile(r"no such package|unknown package|package '[^']+' not found|UnknownPackageError", re.I)),
    ('unsatisfiable', re.compile(r'concretization failed|cannot satisfy|unsatisfiable', re.I)),
    ('signature', re.compile(r'UnsignedPackageException|NoVerifyException|signature|no public key', re.I)),
    ('cache-miss', re.compile(r'No binary .*found when cache-only|cache-only specified|no binaries? (?:for|found)', re.I)),
)


def _kind(text, build_log):
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    if build_log or re.search(r'ProcessError|InstallError|Command exited with status', text):
        return 'build'
    if _TRANSIENT.search(text):
        return 'connection' if re.search(r'connect|endpoint|route|resolution', text, re.I) else 'fetch'
    return 'other'


def error_summary(stderr, stdout=''):
    """Spack's own error line(s) and what kind of failure this is.

    Returns {'error': first '==> Error:' message (or last stderr line), 'errors': all of them,
    'kind': one of syntax|unknown-package|unsatisfiable|signature|cache-miss|build|connection|fetch|other,
    'build_log': path or None, 'transient': bool}.
    """
    text = '\n'.join(t for t in (stderr, stdout) if t)
    errors = [m.group('msg').strip() for m in (_ERROR.match(l) for l in text.splitlines()) if m]
    lines = text.splitlines()
    build_log = None
    for i, line in enumerate(lines):
        if _BUILD_LOG.match(line) and i + 1 < len(lines):
            build_log = lines[i + 1].strip()
    first = errors[0] if errors else (lines[-1].strip() if lines else '')
    kind = _kind('\n'.join([stderr or ''] + errors), build_log)
    if kind == 'unsatisfiable':
        # The reasons follow on numbered lines: "   1. Cannot satisfy 'libtiny@2.0'".
        reasons = []
        for line in lines:
            m = re.match(r'^\s+\d+\.\s+(.*\S)', line)
            if m and m.group(1) not in reasons:
                reasons.append(m.group(1).split('. Couldn')[0].strip())
        if reasons:
            first = '%s: %s' % (first.rstrip(':'), '; '.join(reasons[:5]))
    if kind == 'syntax':
        # "unexpected tokens" errors put the spec and a caret on the next lines: show them. that point at the bad token.
        for i, line in enumerate(lines):
            if 'unexpected tokens' in line.lower():
                first = ' '.join([line.split('Error:', 1)[-1].strip()] + [l.rstrip() for l in lines[i + 1:i + 3]])
                break
    return {'error': first, 'errors': errors, 'kind': kind, 'build_log': build_log,
            'transient': kind in ('connection', 'fetch')}


# "xboprwq cmake@3.25.1~doc+ncurses build_system=generic" under "-- platform / compiler ---"
_BC_LINE = re.compile(r'^(?P<hash>[a-z0-9]{7,32})\s+(?P<name>[\w.+-]+)@(?P<version>[^\s~+%^]+)')


def parse_buildcache_list(text):
    """`spack buildcache list -a -l [-v]` -> [{'hash': 7+ chars, 'name', 'version'}]."""
    out = []
    for line in (text or '').splitlines():
        m = _BC_LINE.match(line.strip())
        if m:
            out.append(m.groupdict())
    return out


_PUSHED = re.compile(r'^==> (?:\[\d+/\d+\] )?Pushed (?P<name>[\w.+-]+)@(?P<version>\S+?)/(?P<hash>[a-z0-9]+)')
_SELECTED = re.compile(r'^==> Selected (?P<n>\d+) specs? to push')
_ALREADY = re.compile(r'^==> (?P<n>\d+) specs? (?:were|was) already present|The following (?P<m>\d+) specs? (?:were|was) skipped')


def parse_push_output(text):
    """`spack buildcache push` -> {'pushed': [{'name','version','hash'}], 'selected': n|None}."""
    pushed, selected = [], None
    for line in (text or '').splitlines():
        m = _PUSHED.match(line)
        if m:
            pushed.append(m.groupdict())
            continue
        m = _SELECTED.match(line)
        if m:
            selected = int(m.group('n'))
    return {'pushed': pushed, 'selected': selected}


# `spack spec -I -l`: "[+]  funjglg  libtiny@1.0+shared..." / " -   pto5yzt  tinyapp@1.0" /
# "[e]  x6jyccn      ^glibc@2.36"
_SPEC_I = re.compile(r'^(?P<status>\[[+e^]\]| - )\s+(?P<hash>[a-z0-9]{7,32})\s+[\s^]*(?P<name>[\w.+-]+)@(?P<version>[^\s~+%^]+)')


def parse_spec_install_status(text):
    """`spack spec -I -l SPEC...` -> [{'hash','name','version','status': installed|external|upstream|missing}]."""
    kinds = {'[+]': 'installed', '[e]': 'external', '[^]': 'upstream', ' - ': 'missing'}
    out, seen = [], set()
    for line in (text or '').splitlines():
        m = _SPEC_I.match(line)
        if m and m.group('hash') not in seen:
            seen.add(m.group('hash'))
            out.append({'hash': m.group('hash'), 'name': m.group('name'), 'version': m.group('version'),
                        'status': kinds[m.group('status')]})
    return out


_FPR = re.compile(r'^\s*([0-9A-F]{40})\s*$')
_UID = re.compile(r'^uid\s+(?:\[[^\]]*\]\s+)?(?P<uid>.+)$')


def parse_gpg_keys(text):
    """`spack gpg list [--signing]` (gpg --list-keys output) -> [{'fingerprint', 'uids': [...]}]."""
    keys, current = [], None
    for line in (text or '').splitlines():
        m = _FPR.match(line)
        if m:
            # `--signing` lists each key twice (its pub and its sec part): one entry per fingerprint.
            current = next((k for k in keys if k['fingerprint'] == m.group(1)), None)
            if current is None:
                current = {'fingerprint': m.group(1), 'uids': []}
                keys.append(current)
            continue
        m = _UID.match(line)
        if m and current is not None and m.group('uid').strip() not in current['uids']:
            current['uids'].append(m.group('uid').strip())
    return keys
