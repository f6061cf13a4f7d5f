# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Spack's text, parsed: versions, the one error classifier, build-cache/push/spec/key listings.

`spack install`'s output is read by _spack_install_output, which uses the patterns and the
classifier below. Everything is tested against recorded real output.

build_log_excerpt() reads a build log (spack-build-out.txt) for the lines that say why a build failed.

Spack prints JSON only for a few commands (find --json, spec --json); install progress, errors,
buildcache listings and push results are text. Colour is always off (--color never), so the
patterns below never see escape codes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import gzip
import re

VERSION_RE = re.compile(r'^(\d+)\.(\d+)(?:\.(\d+))?(\S*)')

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


# The lines of a build log that say what went wrong (Spack's own summary of a failed build picks
# lines the same way): compiler errors (gcc/clang "file.c:2:25: error:", "fatal error:", gfortran's
# "Error:" on its own line, nvcc/icx "error #"), make's "*** ... Error", CMake's "CMake Error",
# linker errors, a Python traceback and its exception, a configure script's "error:", a command or
# file that is not there. Not: -Werror=..., strerror, error.c, "warnings being treated as errors".
_LOG_ERROR = re.compile(
    r'\b(?:fatal )?error(?: [A-Z]*\d+| #\d+)?:'                 # gcc, clang, MSVC-style "error C2065:"
    r'|^\s*Error: '                                            # gfortran, Python, Spack's phases
    r'|\bmake(?:\[\d+\])?: \*\*\* '                           # make: *** [Makefile:4: broken] Error 1
    r'|^\s*(?:ninja: build stopped|FAILED: )'                 # ninja
    r'|^CMake Error\b'                                         # CMake
    r'|undefined reference to |\bld(?:\.\w+)?: cannot find |collect2: error'
    r'|^Traceback \(most recent call last\)|^\w+(?:Error|Exception): '    # Python (setup.py, a build script)
    r'|: command not found$|: No such file or directory$', re.I)
_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
EXCERPT_LINE = 300   # characters kept of one line


def build_log_excerpt(path, max_lines=8, context=2, max_bytes=64 * 1024 * 1024):
    """The first error lines of a build log, as text: None when the log cannot be read.

    Works on Spack's build logs of both generations (spack-build-out.txt in the stage, the per-phase
    spack-build-NN-PHASE-out.txt, a .gz copy in the prefix's .spack/). Each error line comes with up to
    CONTEXT lines after it (the source quote and caret of gcc/clang, CMake's indented message), up to
    MAX_LINES lines in all, each cut at EXCERPT_LINE characters; the excerpt's first line is always an
    error line. A log in which no line looks like an error gives its last three non-empty lines. The log
    is read line by line, at most its first MAX_BYTES.
    """
    picked = []                     # the lines kept
    tail = collections.deque(maxlen=3)
    after = 0                       # context lines still wanted after the last error line
    try:
        opener = gzip.open if str(path).endswith('.gz') else open
        with opener(path, 'rb') as f:
            read = 0
            for raw in f:
                read += len(raw)
                if read > max_bytes or len(picked) >= max_lines:
                    break
                line = _ANSI.sub('', raw.decode('utf-8', 'replace')).rstrip()
                if line.strip():
                    tail.append(line)
                if _LOG_ERROR.search(line) and not line.startswith('==> ['):
                    picked.append(line)
                    after = context
                elif after and line.strip() and not line.startswith('==>'):
                    picked.append(line)
                    after -= 1
                else:
                    after = 0       # a blank or Spack line ends an error's block
    except (IOError, OSError, TypeError, ValueError, EOFError):
        return None
    picked = picked[:max_lines] or list(tail)
    return '\n'.join(_cut(line) for line in picked) if picked else None


def _cut(line):
    return line if len(line) <= EXCERPT_LINE else line[:EXCERPT_LINE - 3] + '...'


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


# Detection: `spack compiler find`, `spack external find`, `spack compiler list`.
_ADDED_COMPILERS = re.compile(r'^==> Added \d+ new compilers? to ')
_ADDED_EXTERNALS = re.compile(r'^==> The following specs have been detected on this system and added to ')
_SPEC = re.compile(r'^(?:\[\w\]\s+)?(\S+@\S+)$')


def _specs_after(text, header):
    """The specs listed after HEADER's line, up to the next `==>` line (headers `-- ... --` skipped)."""
    out, inside = [], False
    for line in (text or '').splitlines():
        if line.startswith('==>'):
            inside = bool(header.match(line))
            continue
        if inside and not line.strip().startswith('--'):
            out += [w for w in line.split() if '@' in w]
    return out


def parse_compilers_added(text):
    """`spack compiler find` -> the compilers it added ([] for "Found no new compilers")."""
    return _specs_after(text, _ADDED_COMPILERS)


def parse_externals_added(text):
    """`spack external find` -> the specs it added ([] for "No new external packages detected")."""
    return _specs_after(text, _ADDED_EXTERNALS)


def parse_compiler_list(text):
    """`spack compiler list` -> every compiler spec (1.x marks externals `[e]`)."""
    out = []
    for line in (text or '').splitlines():
        m = _SPEC.match(line.strip())
        if m and not line.startswith(('==>', '--')):
            out.append(m.group(1))
    return out
