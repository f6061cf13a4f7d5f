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
# A build-cache download: 0.23 "build_cache/...spec.json|.spack", 1.x layout v3 "blobs/sha256/..".
_BINARY_URL = re.compile(r'/build_cache/|/blobs/sha\d+/|/v3/manifests/')
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
# ".../spack-stage-tinybroken-0.1-t6eetazbqltbzj2da4ssgrmmbfusllua/spack-build-out.txt"
_STAGE_NVH = re.compile(r'spack-stage-(?P<nvh>[\w.+-]+-[a-z0-9]{32})(?:/|$)')
_BUILD_LOG = re.compile(r'^\s*See build log for details:\s*$')
_ERROR = re.compile(r'^==> Error: (?P<msg>.*)$')
# The new installer (config:installer:new, the default from Spack 1.2) without a terminal prints
# one line per state change: "cgbn46w gcc-runtime@12.2.0: fetching from build cache".
_NEW_STATE = re.compile(r'^(?P<hash>[a-z0-9]{7}) (?P<name>[\w.+-]+)@(?P<version>\S+): (?P<state>[\w ]+?)\s*$')
# ... and, after "==> Error: The following packages failed to install:", "name@version/HASH: LOG".
_NEW_FAILED = re.compile(r'^(?P<name>[\w.+-]+)@(?P<version>\S+)/(?P<hash>[a-z0-9]{32}): (?P<log>\S+)\s*$')

# Failures of a network connection to a server that exists: worth a retry later. Not: "Name or
# service not known" (the host does not resolve, e.g. offline), a file no mirror has (404, "No such
# file or directory", NoSuchKey), a refused credential.
_CONNECTION = re.compile(
    r'(Could not connect|Connection (?:refused|reset|aborted)|timed? ?out|'
    r'Temporary failure in name resolution|HTTP Error 5\d\d|\b50[234]\b|Max retries exceeded|'
    r'EndpointConnectionError|No route to host|Network is unreachable|RemoteDisconnected)', re.I)


# What to do about each kind of failure error_summary() recognises.
HINTS = {
    'syntax': 'fix the spec syntax',
    'unknown-package': 'check the package name with `spack list NAME`, or add the repository that provides it',
    'unknown-variant': 'check the variant names with `spack info PACKAGE` (a variant of one version may not exist in another)',
    'unsatisfiable': 'relax the version/variant constraints (see `spack info PACKAGE`)',
    'connection': 'check that the mirror is reachable and its credentials, or remove it',
    'fetch': ('no mirror Spack tried has this source: add the file to a source mirror (spack_source_mirrors, '
              '`spack mirror create`), or check the mirror URLs and network access'),
    'signature': "trust the cache's signing key (spack_buildcache action=keys) or mark the mirror unsigned",
    'build': 'read the build log',
    'cache-miss': ('no binary cache had this package: push it from a builder, or allow builds (use_buildcache: auto). '
                   'Spack 1.x says the same, naming no mirror, when it installs a concretized environment from an '
                   'unreachable mirror, or from a signed one that holds only unsigned binaries: check those too'),
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


# Where each event stands in a package's life: a package's events only ever move forward.
EVENT_RANK = {'queued': 0, 'fetching': 1, 'extracting': 2, 'building': 2,
              'installed': 3, 'failed': 3, 'skipped': 3}


class InstallOutputParser(object):
    """Turns `spack install` output lines into package state-change events.

    Feed lines in order (stdout and stderr may be interleaved); `feed` returns a list of events
    (dicts with 'event' and package keys) per docs/progress-events.md, minus ts/seq which the
    writer adds. Keeps just enough state to attribute phase and fetch lines to the package that
    Spack most recently announced.

    The two Spack generations order a binary install differently: 0.23 prints
    ``Installing X [n/m]``, then the fetches, ``Extracting X``, ``Successfully installed X``; 1.x
    does the whole binary install first and prints ``Installing X [n/m]`` last, so the fetch lines
    before ``Extracting X`` follow the *previous* package's announcement. A build-cache fetch
    that the announced package cannot own is therefore held until ``Extracting`` names its
    package, and an announcement of a package already finished only records its index.
    Source builds are announced first by both.
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
        self.binary_fetch = False    # a build-cache fetch seen that no announced package owns yet
        self.new_failed = {}         # 7-char hash -> nvh: new installer failures awaiting their log line
        self.new_logs = {}           # 7-char hash -> log, when that line came first (stderr read ahead of stdout)

    def _event(self, event, nvh, **extra):
        last = self.state.get(nvh)
        if last is not None and EVENT_RANK[event] <= EVENT_RANK[last]:
            # Never backwards, never twice: a line printed late (1.x's "Installing" after the
            # binary install) must not move a package back.
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
        m = _NEW_STATE.match(line)
        if m:
            return self._new_installer_state(m)
        m = _NEW_FAILED.match(line)
        if m:
            return self._new_installer_log(m)
        m = _INSTALLING.match(line)
        if m:
            nvh = m.group('nvh')
            if m.group('index'):
                self.index[nvh] = (int(m.group('index')), int(m.group('total')))
            if nvh in self.state:
                # 1.x: the announcement after the binary install (or its failure) of the same package.
                return []
            self.current = nvh
            self.binary_fetch = False
            return self._event('queued', nvh)
        m = _NO_BINARY.match(line)
        if m:
            self.origin[m.group('nvh')] = 'source'
            return []
        m = _EXTRACTING.match(line)
        if m:
            nvh = m.group('nvh')
            self.origin[nvh] = 'cache'
            events = self._event('fetching', nvh) if self.binary_fetch else []
            self.binary_fetch = False
            return events + self._event('extracting', nvh)
        m = _FETCHING.match(line)
        if m:
            if self.current and self.state.get(self.current) in ('queued', 'fetching'):
                return self._event('fetching', self.current)
            if _BINARY_URL.search(m.group('url')):
                self.binary_fetch = True
            return []
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

    def _new_installer_state(self, m):
        # The new installer names packages by 7-char hash; its states are "fetching from build
        # cache", "relocating", "no binary available", "staging", each build phase's name
        # ("edit", "build", "install", "cmake", ...), "finished" and "failed". A package it has
        # nothing to do for is not printed; an external is printed "finished" straight away.
        nvh = '%s-%s-%s' % (m.group('name'), m.group('version'), m.group('hash'))
        state = m.group('state')
        if state == 'fetching from build cache':
            self.origin[nvh] = 'cache'
            return self._event('fetching', nvh)
        if state == 'relocating':
            self.origin[nvh] = 'cache'
            return self._event('extracting', nvh)
        if state == 'no binary available':
            self.origin[nvh] = 'source'
            return []
        if state == 'staging':
            self.origin.setdefault(nvh, 'source')
            return self._event('fetching', nvh)
        if state == 'finished':
            self.origin.setdefault(nvh, 'external' if nvh not in self.state else 'source')
            return self._event('installed', nvh)
        if state == 'failed':
            # Its build log is named only in the list at the end of the run (stderr): report the
            # failure with it, whichever of the two streams is read first.
            self.new_failed[m.group('hash')] = nvh
            if m.group('hash') in self.new_logs:
                return self._new_installer_log(self.new_logs.pop(m.group('hash')))
            return []
        self.origin.setdefault(nvh, 'source')
        return self._event('building', nvh)

    def _new_installer_log(self, m):
        nvh = self.new_failed.pop(m.group('hash')[:7], None)
        if nvh is None:
            self.new_logs[m.group('hash')[:7]] = m
            return []
        message = 'failed fetching its source' if self.state.get(nvh) == 'fetching' else 'failed to install'
        return self._event('failed', nvh, message=message, log=m.group('log'))

    def _flush_pending(self):
        if not self.pending:
            return []
        nvh, msg = self.pending
        self.pending = None
        # stdout and stderr are read by two threads: the error of one package may arrive after the
        # next package's "Installing" line. The build log's stage directory names the package.
        staged = _STAGE_NVH.search(self.build_log or '')
        if staged:
            nvh = staged.group('nvh')
        if self.state.get(nvh) in ('failed', 'installed', 'skipped'):
            return []
        return self._event('failed', nvh, message=msg, log=self.build_log if self.origin.get(nvh) != 'cache' else None)

    def close(self):
        """Events still owed when the output ends: failures only known from their dependents."""
        events = self._flush_pending()
        for nvh in sorted(self.new_failed.values()):
            events += self._event('failed', nvh, message=self.errors[0] if self.errors else 'failed', log=None)
        self.new_failed = {}
        for nvh in sorted(self.failed_deps):
            if self.state.get(nvh) not in (None, 'failed', 'installed', 'skipped'):
                events += self._event('failed', nvh, message=self.errors[0] if self.errors else 'failed',
                                      log=self.build_log if self.origin.get(nvh) != 'cache' else None)
        return events


# The one classifier of Spack's failure texts, both generations (first match wins; order matters:
# a build that fails because of a fetch says "FetchError", one that fails compiling says
# "ProcessError"). Everything else maps the kind error_summary() returns (modules return it as
# error_kind; validate's report and the concretize benchmark name it in their own words);
# tests/unit/plugins/module_utils/test__spack_parse.yaml holds its cases, on recorded output of both.
KINDS = (
    # 0.23 "unexpected tokens in the spec string", 1.x "unexpected characters in the spec string";
    # both follow with the spec and a caret line.
    ('syntax', re.compile(r'unexpected (?:tokens|characters) in the spec string|unexpected end of input|'
                          r'spec syntax|SpecSyntaxError|SpecParsingError|SpecTokenizationError', re.I)),
    # 0.23 "Package 'x' not found" / "no such package: x"; 1.x (concretize, install) "cannot
    # concretize 'x', since 'x' does not exist" ("spack add" still says "no such package").
    ('unknown-package', re.compile(r"no such package|unknown package|package '[^']+' not found|UnknownPackageError|"
                                   r"cannot concretize '[^']*', since '[^']+' does not exist", re.I)),
    # 1.x "No such variant {'x'} for spec: 'pkg+x'" (found before solving). Its own kind, not
    # "unsatisfiable": no constraint to relax, a name to correct.
    ('unknown-variant', re.compile(r'No such variant|UnknownVariantError|variant .* does not exist', re.I)),
    # 1.x's pre-check "No version exists that satisfies these input specs:" + the spec on the next line.
    ('unsatisfiable', re.compile(r'concretization failed|cannot satisfy|unsatisfiable|'
                                 r'No version exists that satisfies', re.I)),
    ('signature', re.compile(r'UnsignedPackageException|NoVerifyException|signature|no public key', re.I)),
    ('cache-miss', re.compile(r'No binary .*found when cache-only|cache-only specified|no binaries? (?:for|found)', re.I)),
)
_FETCH = re.compile(r'FetchError|All fetchers failed|Failed to fetch|FetchCacheError', re.I)
# 0.23's conflict texts without "concretization failed": a conflict only when nothing more telling
# matched (a compiler's "conflicts with a previous declaration" in a build log is a build failure).
_CONFLICT = re.compile(r'conflicts with|cannot be satisfied|No valid version')
# The package names in the "unknown package" texts of both generations.
_UNKNOWN_NAME = re.compile(r"Package '(?:spack\.pkg\.[\w-]+\.)?([\w-]+)' not found|no such package: ([\w-]+)"
                           r"|Unknown package:? '?([\w-]+)|since '([\w.-]+)' does not exist")


def _kind(text, build_log):
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind
    if build_log or re.search(r'ProcessError|InstallError|Command exited with status', text):
        return 'build'
    if _FETCH.search(text):
        return 'fetch'
    if _CONNECTION.search(text) or re.search(r'URLError|Name or service not known', text):
        return 'connection'
    if _CONFLICT.search(text):
        return 'unsatisfiable'
    return 'other'


def fetch_failures(text):
    """The URLs of a FetchError and why each failed: [{'url', 'reason', 'connection': bool}].

    1.x (and 0.23) list each URL tried under "FetchError: All fetchers failed for X", one per line
    ("URL: ErrorType: reason").
    """
    out = []
    for line in (text or '').splitlines():
        m = re.match(r'^\s+(?P<url>(?:file|https?|s3|oci|gs)://\S+?): (?P<reason>.+)$', line)
        if m:
            out.append({'url': m.group('url'), 'reason': m.group('reason').strip(),
                        'connection': bool(_CONNECTION.search(m.group('reason')))})
    return out


def is_transient(kind, text):
    """Whether running the same command again, seconds later, can succeed.

    A connection that failed to a server that exists can; a fetch only when one of the URLs tried
    failed that way (a mirror that was down): a source that is in no mirror and whose upstream
    host does not resolve (offline, air-gapped) fails again, however often it is retried.
    """
    if kind == 'connection':
        return bool(_CONNECTION.search(text))
    if kind == 'fetch':
        failures = fetch_failures(text)
        if failures:
            return any(f['connection'] for f in failures)
        return bool(_CONNECTION.search(text))
    return False


def error_summary(stderr, stdout=''):
    """Spack's own error line(s) and what kind of failure this is.

    Returns {'error': first '==> Error:' message (or last stderr line), 'errors': all of them,
    'kind': one of syntax|unknown-package|unknown-variant|unsatisfiable|signature|cache-miss|build|
    connection|fetch|other, 'build_log': path or None, 'detail': the most telling line on one line
    (the unknown package names, the bad spec and its column, the first reason of a conflict),
    'transient': bool (see is_transient), 'fetch_failures': see fetch_failures}.
    """
    text = '\n'.join(t for t in (stderr, stdout) if t)
    errors = [m.group('msg').strip() for m in (_ERROR.match(l) for l in text.splitlines()) if m]
    lines = text.splitlines()
    build_log = None
    for i, line in enumerate(lines):
        if _BUILD_LOG.match(line) and i + 1 < len(lines):
            build_log = lines[i + 1].strip()
    first = errors[0] if errors else (lines[-1].strip() if lines else '')
    # The new installer lists each failed package with its log after its one error line.
    new_failed = [m for m in (_NEW_FAILED.match(l) for l in lines) if m]
    staging = False
    if new_failed:
        # It names a log even when the package failed before building: one that failed while
        # "staging" failed to fetch its source (the reasons are only in Spack's stage log).
        last = {}
        for m in (_NEW_STATE.match(l) for l in lines):
            if m and m.group('state') != 'failed':
                last[m.group('hash')] = m.group('state')
        staging = all(last.get(m.group('hash')[:7]) == 'staging' for m in new_failed)
        build_log = build_log or new_failed[0].group('log')
        first = '%s %s' % (first, ', '.join('%s@%s/%s' % (m.group('name'), m.group('version'), m.group('hash')[:7])
                                            for m in new_failed))
        if staging:
            first += ' (while staging: fetching the source failed)'
    kind = 'fetch' if staging else _kind('\n'.join([stderr or ''] + errors), build_log)
    if kind == 'unsatisfiable':
        # 0.23 and the 1.x solver: reasons on numbered lines ("   1. Cannot satisfy 'libtiny@2.0'");
        # the 1.x pre-check: the spec alone on the line after "...input specs:".
        reasons = []
        for i, line in enumerate(lines):
            m = re.match(r'^\s+\d+\.\s+(.*\S)', line)
            if m and m.group(1) not in reasons:
                reasons.append(m.group(1).split('. Couldn')[0].strip())
            elif line.rstrip().endswith('satisfies these input specs:'):
                reasons += [l.strip() for l in lines[i + 1:] if l.startswith(' ') and l.strip()][:5]
        if reasons:
            first = '%s: %s' % (first.rstrip(':'), '; '.join(reasons[:5]))
    if kind == 'syntax':
        # The spec and a caret under the bad characters follow on the next two lines: keep them
        # as lines, so the caret still points at the column.
        for i, line in enumerate(lines):
            if re.search(r'unexpected (?:tokens|characters) in the spec string', line, re.I):
                spec_lines = [l.rstrip() for l in lines[i + 1:i + 3] if not l.startswith('==>')]
                first = '\n'.join([line.split('Error:', 1)[-1].strip()] + spec_lines)
                break
    return {'error': first, 'errors': errors, 'kind': kind, 'build_log': build_log, 'detail': _detail(kind, first, text),
            'transient': is_transient(kind, text), 'fetch_failures': fetch_failures(text) if kind == 'fetch' else []}


def _detail(kind, error, text):
    """The most telling line of a failure, on one line, for a report table."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    error_lines = [line for line in lines if line.startswith('==> Error')] or lines[-1:] or ['']
    if kind == 'unknown-package':
        names = sorted(set(n for found in _UNKNOWN_NAME.findall(text) for n in found if n))
        return 'unknown: %s' % ', '.join(names) if names else error_lines[0]
    if kind == 'syntax':
        # The spec, and the column the caret line points at.
        parts = error.split('\n')
        detail = '==> Error: ' + parts[0]
        if len(parts) > 1:
            detail += ': %s' % parts[1].strip()
        if len(parts) > 2 and '^' in parts[2]:
            detail += ' (column %d)' % (parts[2].index('^') + 1)
        return detail
    if kind == 'unsatisfiable':
        # The solver's first numbered reason, else the error (1.x's pre-check names the spec in it).
        reasons = [line for line in lines if re.match(r'^\d+\.\s', line)]
        return reasons[0] if reasons else error
    if kind == 'unknown-variant':
        return error
    return error_lines[0]


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
