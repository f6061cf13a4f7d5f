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
    """Source build times per package (``name@version``), kept in a small JSON file."""

    def __init__(self, path):
        self.path = os.path.expanduser(path) if path else None
        self.entries = {}
        self.error = None
        self._newest = None     # package name -> its most recent entry, built at the first look-up
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
                if isinstance(entry, dict) and isinstance(entry.get('seconds'), (int, float)):
                    self.entries[key] = entry

    def lookup(self, name, version):
        """Recorded build seconds: this version, else the most recent build of any version."""
        entry = self.entries.get(package_label(name, version))
        if entry is None:
            if self._newest is None:
                # One pass for all look-ups: a report looks up every cached package.
                self._newest = {}
                for key, candidate in self.entries.items():
                    base = key.split('@', 1)[0]
                    best = self._newest.get(base)
                    if best is None or (candidate.get('updated') or 0) > (best.get('updated') or 0):
                        self._newest[base] = candidate
            entry = self._newest.get(name)
        return None if entry is None else float(entry['seconds'])

    def record(self, name, version, seconds, now=None):
        self._newest = None
        key = package_label(name, version)
        entry = self.entries.get(key)
        samples = min(int(entry.get('samples', 1)), 9) if entry else 0
        old = float(entry['seconds']) if entry else 0.0
        # Running mean over the last ~10 builds.
        self.entries[key] = {
            'seconds': round((old * samples + seconds) / (samples + 1), 2),
            'samples': samples + 1,
            'updated': round(now if now is not None else time.time(), 1),
        }

    def record_builds(self, reports):
        """Record the packages the runs of these reports built from source."""
        for report in reports:
            for item in report['packages']:
                if (item.get('state') == 'installed' and item.get('origin') == 'source'
                        and isinstance(item.get('seconds'), (int, float))):
                    self.record(item['package'], item.get('version'), float(item['seconds']))

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
