# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the research.wizard.progress callback keeps on disk: the build-time history across
playbooks, and the spool of one playbook's finished packages. Private to the collection."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import tempfile
import time

from ansible_collections.research.wizard.plugins.module_utils._progress_state import package_label

HISTORY_FORMAT = 1
HISTORY_MAX_ENTRIES = 5000


class BuildHistory(object):
    """Install times per package (``name@version``), kept in a small JSON file.

    An entry has ``seconds`` (the mean source build time), ``cache_seconds`` (the mean install time
    from a binary cache), either or both, with their ``samples``/``cache_samples`` and ``updated``.
    """

    def __init__(self, path):
        self.path = os.path.expanduser(path) if path else None
        self.entries = {}
        self.error = None
        self._newest = None     # package name -> its most recent entry, built at the first look-up
        self._cache_mean = False
        if self.path:
            self._load()

    def _load(self):
        try:
            with open(self.path, 'r') as handle:
                data = json.load(handle)
        except (IOError, OSError):
            return
        except ValueError as exc:
            self.error = 'ignoring unreadable build-time history %s: %s' % (self.path, exc)
            return
        packages = data.get('packages') if isinstance(data, dict) else None
        if isinstance(packages, dict):
            for key, entry in packages.items():
                if isinstance(entry, dict) and (_number(entry.get('seconds')) or _number(entry.get('cache_seconds'))):
                    self.entries[key] = entry

    def _lookup(self, name, version, field):
        entry = self.entries.get(package_label(name, version))
        if entry is None or not _number(entry.get(field)):
            if self._newest is None:
                # One pass for all look-ups: a report looks up every cached package.
                self._newest = {}
                for key, candidate in self.entries.items():
                    base = key.split('@', 1)[0]
                    for known in ('seconds', 'cache_seconds'):
                        if not _number(candidate.get(known)):
                            continue
                        best = self._newest.get((base, known))
                        if best is None or (candidate.get('updated') or 0) > (best.get('updated') or 0):
                            self._newest[(base, known)] = candidate
            entry = self._newest.get((name, field))
        return None if entry is None else float(entry[field])

    def lookup(self, name, version):
        """Recorded source build seconds: this version, else the most recent build of any version."""
        return self._lookup(name, version, 'seconds')

    def lookup_cache(self, name, version):
        """Recorded seconds of an install from a binary cache: this version, else any version."""
        return self._lookup(name, version, 'cache_seconds')

    def cache_mean(self):
        """Mean recorded cache install time over all packages (None when none was recorded): what a
        cache install of a package never seen costs."""
        if self._cache_mean is False:
            times = [float(e['cache_seconds']) for e in self.entries.values() if _number(e.get('cache_seconds'))]
            self._cache_mean = sum(times) / len(times) if times else None
        return self._cache_mean

    def estimate(self, name, version, origin):
        """Expected seconds of a package coming from ``origin`` (source or cache; None when unknown,
        or when the origin is not known yet). The ETA's ``known`` (module_utils/_progress_state)."""
        if origin == 'source':
            return self.lookup(name, version)
        if origin == 'cache':
            return self.lookup_cache(name, version)
        return None

    def record(self, name, version, seconds, now=None, origin='source'):
        self._newest = None
        self._cache_mean = False
        key = package_label(name, version)
        field, count = ('seconds', 'samples') if origin == 'source' else ('cache_seconds', 'cache_samples')
        entry = dict(self.entries.get(key) or {})
        known = _number(entry.get(field))
        samples = min(int(entry.get(count, 1)), 9) if known else 0
        old = float(entry[field]) if known else 0.0
        # Running mean over the last ~10 installs.
        entry.update({field: round((old * samples + seconds) / (samples + 1), 2), count: samples + 1,
                      'updated': round(now if now is not None else time.time(), 1)})
        self.entries[key] = entry

    def record_builds(self, reports):
        """Record the packages the runs of these reports built from source or took from a cache."""
        for report in reports:
            for item in report['packages']:
                if (item.get('state') == 'installed' and item.get('origin') in ('source', 'cache')
                        and isinstance(item.get('seconds'), (int, float))):
                    self.record(item['package'], item.get('version'), float(item['seconds']),
                                origin=item['origin'])

    def save(self):
        if not self.path:
            return
        if len(self.entries) > HISTORY_MAX_ENTRIES:
            keep = sorted(self.entries.items(), key=lambda kv: kv[1].get('updated') or 0)[-HISTORY_MAX_ENTRIES:]
            self.entries = dict(keep)
        directory = os.path.dirname(self.path) or '.'
        if not os.path.isdir(directory):
            os.makedirs(directory)
        fd, tmp = tempfile.mkstemp(prefix='.build-times.', dir=directory)
        try:
            with os.fdopen(fd, 'w') as handle:
                json.dump({'format': HISTORY_FORMAT, 'packages': self.entries}, handle, indent=1, sort_keys=True)
                handle.write('\n')
            os.rename(tmp, self.path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class PackageSpool(object):
    """The per-package records of one run, one JSON line each, in a temporary file.

    Keeps the callback's memory flat however many packages an install has: only what the live
    display needs stays in memory, and the reports stream the records back from here at the end.
    """

    def __init__(self, directory):
        handle, self.path = tempfile.mkstemp(prefix='run-', suffix='.jsonl', dir=directory)
        os.close(handle)

    @staticmethod
    def _lines(items):
        return ''.join(json.dumps(item, sort_keys=True) + '\n' for item in items)

    def append(self, items):
        if not items:
            return
        # A raw descriptor, not open(..., 'a'): on CPython 3.11 every text-mode append left a few
        # dozen bytes behind (tracemalloc, benchmarks/progress_memory.py), one poll after another.
        data = self._lines(items).encode('utf-8')
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            while data:
                data = data[os.write(handle, data):]
        finally:
            os.close(handle)

    def replace(self, items):
        with open(self.path + '.new', 'w') as handle:
            for item in items:
                handle.write(self._lines((item,)))
        os.rename(self.path + '.new', self.path)

    def __iter__(self):
        with open(self.path, 'r') as handle:
            for line in handle:
                yield json.loads(line)
