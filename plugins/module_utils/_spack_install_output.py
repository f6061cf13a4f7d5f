# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`spack install` output, line by line, as per-package state-change events (both generations,
the old and the new installer). Errors are classified by _spack_parse, the one classifier."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    _BUILD_LOG, _ERROR, _NEW_FAILED, _NEW_STATE)

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
