# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The aggregate of the install progress events of one run (``docs/progress-events.md``).

``module_utils/_progress.py`` (the reader of progress files, used by ``spack_install_status`` on the
target) re-exports everything here; the ``research.wizard.progress`` callback uses the same
aggregate on the controller. Pure Python, no Ansible imports. Private to the collection.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

PACKAGE_EVENTS = ('queued', 'fetching', 'building', 'extracting', 'installed', 'failed', 'skipped')
ACTIVE_STATES = ('fetching', 'building', 'extracting')
DONE_STATES = ('installed', 'failed', 'skipped')
ORIGINS = ('cache', 'source', 'already', 'external')
COUNT_KEYS = ('cache', 'source', 'already', 'external', 'failed', 'skipped')


def _num(value):
    """A float for an int/float value, else None (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value):
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def package_label(name, version=None):
    if not name:
        return '?'
    return '%s@%s' % (name, version) if version else name


class PackageRecord(object):
    """What is known about one package of the current run."""

    __slots__ = ('name', 'version', 'hash', 'origin', 'state', 'first_ts', 'active_ts', 'end_ts',
                 'seconds', 'index', 'log', 'message', 'excerpt', 'prefix')

    def __init__(self, name):
        self.name = name
        self.version = None
        self.hash = None
        self.origin = None
        self.state = None
        self.first_ts = None
        self.active_ts = None
        self.end_ts = None
        self.seconds = None
        self.index = None
        self.log = None
        self.message = None
        self.excerpt = None     # the first error lines of the build log, on a failure
        self.prefix = None      # where an already installed package is (who installed it: _install_runs)

    @property
    def label(self):
        return package_label(self.name, self.version)

    def apply(self, kind, event, ts):
        """Apply one of this package's events (``kind`` is its ``event``, ``ts`` its time)."""
        for attr in ('version', 'log', 'message', 'excerpt', 'prefix'):
            value = event.get(attr)
            if value is not None:
                setattr(self, attr, value)
        event_hash = event.get('hash')
        # Spack prints 7-character prefixes in some lines and full hashes in others: keep the longest.
        if isinstance(event_hash, str) and (self.hash is None or len(event_hash) > len(self.hash)):
            self.hash = event_hash
        origin = event.get('origin')
        if origin in ORIGINS:
            self.origin = origin
        elif kind == 'building' and self.origin is None:
            self.origin = 'source'
        elif kind == 'extracting' and self.origin is None:
            self.origin = 'cache'
        index = _int(event.get('index'))
        if index is not None:
            self.index = index
        if self.first_ts is None:
            self.first_ts = ts
        if kind in ACTIVE_STATES and self.active_ts is None:
            self.active_ts = ts
        if kind in ('installed', 'failed'):
            self.end_ts = ts
            seconds = _num(event.get('seconds'))
            if seconds is not None:
                self.seconds = seconds
        elif kind == 'skipped':
            self.end_ts = ts
        self.state = kind

    def duration(self):
        """Seconds this package took, once it is installed or failed (None when unknown)."""
        if self.seconds is not None:
            return self.seconds
        start = self.active_ts if self.active_ts is not None else self.first_ts
        if self.end_ts is not None and start is not None:
            return max(0.0, self.end_ts - start)
        return None

    def start_ts(self):
        """When the work on the package began: first fetch/build/extract, else end minus seconds."""
        if self.active_ts is not None:
            return self.active_ts
        if self.end_ts is not None and self.seconds is not None:
            return self.end_ts - self.seconds
        return self.end_ts if self.end_ts is not None else self.first_ts

    def as_dict(self, run_start=None):
        start = self.start_ts()
        item = {
            'package': self.name,
            'version': self.version,
            'hash': self.hash,
            'origin': self.origin,
            'state': self.state,
            'seconds': _round(self.duration()),
            'start': _round(start - run_start) if (start is not None and run_start is not None) else None,
            'log': self.log,
            'message': self.message,
        }
        if self.excerpt is not None:
            item['excerpt'] = self.excerpt
        if self.prefix is not None:
            item['prefix'] = self.prefix
        return item


def _outcome(record):
    """The COUNT_KEYS entry of a package that ended (None while it has not)."""
    if record.state == 'installed':
        return record.origin if record.origin in ORIGINS else 'source'
    if record.state in ('failed', 'skipped'):
        return record.state
    return None


def _round(value, digits=2):
    return None if value is None else round(value, digits)


class ProgressState(object):
    """Aggregate of the events of one install run.

    Feed events in file order with :meth:`apply`. A ``start`` event after other events, or a
    ``seq`` lower than the last one seen, means the file now holds a new run (the writer replaced
    or truncated it): the state resets to that run.

    ``retain=False`` keeps only the packages in flight, for a reader that must not grow with the
    size of the plan (the progress callback): ``queued`` events record nothing, and a package that
    ends leaves :attr:`packages` (its record stays in :attr:`last_record` until the next event) but
    still counts in :meth:`counts` and :meth:`done`.
    """

    def __init__(self, retain=True):
        self.retain = retain
        self.reset()

    def reset(self):
        self.started = None
        self.pid = None
        self.env = None
        self.cmd = None
        self.plan_total = None
        self.spack_total = None
        self.packages = {}
        self.order = []
        self.finished = False
        self.rc = None
        self.run_seconds = None
        self.totals = None
        self.last_seq = -1
        self.last_ts = None
        self.first_ts = None
        self.events_seen = 0
        self.last_record = None     # the record of the last package event applied (None for others)
        self.ended = dict((k, 0) for k in COUNT_KEYS)   # outcomes of the packages no longer retained
        # Timing of the packages that ended, kept as sums (flat memory): origin -> [count, seconds]
        # for the installs, and the package-seconds of all timed work with its first start and last end.
        self.timing = {'cache': [0, 0.0], 'source': [0, 0.0]}
        self.work_seconds = 0.0
        self.work_start = None
        self.work_end = None

    # -- feeding --------------------------------------------------------------------------------
    def apply(self, event):
        """Apply one event. Returns the event's seq (its position in the run when it has none)."""
        kind = event.get('event')
        seq = _int(event.get('seq'))
        if seq is None:
            seq = self.last_seq + 1
        if self.events_seen and (kind == 'start' or seq <= self.last_seq):
            self.reset()
        self.events_seen += 1
        self.last_seq = seq
        self.last_record = None
        ts = _num(event.get('ts'))
        if ts is not None:
            self.last_ts = ts
            if self.first_ts is None:
                self.first_ts = ts

        if kind == 'start':
            self.started = ts
            self.pid = _int(event.get('pid'))
            self.env = event.get('env')
            self.cmd = event.get('cmd')
            self.plan_total = _int(event.get('total'))
        elif kind == 'finished':
            self.finished = True
            self.rc = _int(event.get('rc'))
            self.run_seconds = _num(event.get('seconds'))
            totals = event.get('totals')
            if isinstance(totals, dict):
                self.totals = dict((k, _int(totals.get(k)) or 0) for k in COUNT_KEYS)
        elif kind in PACKAGE_EVENTS:
            self._apply_package(kind, event, ts)
        return seq

    def _apply_package(self, kind, event, ts):
        name = event.get('package')
        if not isinstance(name, str) or not name:
            return
        total = _int(event.get('total'))
        if total is not None:
            self.spack_total = max(total, self.spack_total or 0)
        if kind == 'queued' and not self.retain:
            # Spack queues the whole plan at once: a record each would grow with the plan.
            return
        record = self.packages.get(name)
        if record is None:
            record = PackageRecord(name)
            self.packages[name] = record
            self.order.append(name)
        record.apply(kind, event, ts)
        self.last_record = record
        if kind in ('installed', 'failed'):
            self._time(kind, record)
        if kind in DONE_STATES and not self.retain:
            self.discard(name)
            self.ended[_outcome(record)] += 1

    def _time(self, kind, record):
        """Count an ended package's time in :attr:`timing` and the work figures (cache and source only:
        an already installed or external package takes no time worth estimating)."""
        duration = record.duration()
        if duration is None or record.origin not in self.timing:
            return
        if kind == 'installed':
            self.timing[record.origin][0] += 1
            self.timing[record.origin][1] += duration
        self.work_seconds += duration
        start = record.start_ts()
        if start is not None and (self.work_start is None or start < self.work_start):
            self.work_start = start
        if record.end_ts is not None and (self.work_end is None or record.end_ts > self.work_end):
            self.work_end = record.end_ts

    def discard(self, name):
        """Forget a package's record without counting it (a reader that missed the package's end)."""
        if self.packages.pop(name, None) is not None:
            self.order.remove(name)

    # -- reading --------------------------------------------------------------------------------
    @property
    def total(self):
        """Packages in the plan: the start event's total, else Spack's [n/m], else the packages seen."""
        seen = len(self.packages) + sum(self.ended.values())
        for candidate in (self.plan_total, self.spack_total):
            if candidate is not None:
                return max(candidate, seen)
        return seen or None

    def records(self):
        return [self.packages[key] for key in self.order]

    def counts(self):
        """Packages by outcome. The ``finished`` event's totals win once it is there."""
        counts = dict(self.ended)
        for record in self.packages.values():
            outcome = _outcome(record)
            if outcome is not None:
                counts[outcome] += 1
        if self.totals:
            counts.update(self.totals)
        return counts

    def done(self):
        return sum(1 for r in self.packages.values() if r.state in DONE_STATES) + sum(self.ended.values())

    def queued(self):
        return sum(1 for r in self.packages.values() if r.state == 'queued')

    def in_flight(self, now):
        flight = []
        for record in self.records():
            if record.state in ACTIVE_STATES:
                since = record.active_ts if record.active_ts is not None else record.first_ts
                flight.append({
                    'package': record.name,
                    'version': record.version,
                    'state': record.state,
                    'origin': record.origin,
                    'elapsed': _round(max(0.0, now - since) if since is not None else None, 1),
                })
        return flight

    def failures(self):
        """The failed packages; ``excerpt`` (the first error lines of the build log) when known."""
        out = []
        for r in self.records():
            if r.state == 'failed':
                item = {'package': r.name, 'version': r.version, 'hash': r.hash, 'log': r.log, 'message': r.message}
                if r.excerpt is not None:
                    item['excerpt'] = r.excerpt
                out.append(item)
        return out

    def elapsed(self, now):
        if self.finished and self.run_seconds is not None:
            return self.run_seconds
        start = self.started if self.started is not None else self.first_ts
        if start is None:
            return None
        end = self.last_ts if self.finished and self.last_ts is not None else now
        return max(0.0, end - start)

    def mean(self, origin):
        """Mean seconds of this run's installs from ``origin`` (cache or source), None before the first."""
        count, seconds = self.timing[origin]
        return seconds / count if count else None

    def parallelism(self):
        """Package-seconds per wall-second of the work seen so far (1 to 64; 1 before two overlap)."""
        if self.work_start is None or self.work_end is None or self.work_end <= self.work_start:
            return 1.0
        return min(max(1.0, self.work_seconds / (self.work_end - self.work_start)), 64.0)

    def eta(self, now, known=None, cache_mean=None, total=None, done=None, flight=None):
        """Seconds left (None when unknown), see :func:`eta_seconds`. ``known`` and ``cache_mean``
        come from a build-time history (the controller has one, the target does not); ``total``,
        ``done`` and ``flight`` override this state's own figures (a reader that saw only some events)."""
        if self.finished:
            return 0.0
        own_cache = self.mean('cache')
        return eta_seconds(
            self.total if total is None else total,
            self.done() if done is None else done,
            self.in_flight(now) if flight is None else flight,
            own_cache if own_cache is not None else cache_mean,
            self.mean('source'),
            (self.timing['cache'][0], self.timing['source'][0]),
            self.parallelism(),
            known,
        )


def eta_seconds(total, done, flight, cache_mean, source_mean, mix, parallel, known=None):
    """Seconds left in an install run, or None when they cannot be told (never a made-up figure).

    - ``total``/``done``: packages in the plan (Spack's ``[n/m]`` or the start event) and ended.
    - A package in ``flight`` (``in_flight`` items) needs its expected time less its ``elapsed``:
      ``known(package, version, origin)`` (the build-time history: its source build time, or its
      measured cache install time), else this run's mean for its origin (``cache_mean``,
      ``source_mean``); one whose origin is not known yet (fetching), as a package not started. One
      that ran past its expected time, or has no expected time, makes the ETA unknown.
    - Each package not started yet costs the run's mean per package, weighted by the origins seen so
      far (``mix``: cache and source installs counted); unknown before any package was timed, or
      when an origin seen has no mean.
    - The work is divided by the ``parallel`` seen (package-seconds per wall-second), but the ETA
      is never less than the longest time left of a package in flight.
    """
    if not total:
        return None
    flight = flight or ()
    longest = 0.0
    work = 0.0
    for item in flight:
        origin = item.get('origin')
        expected = known(item.get('package'), item.get('version'), origin) if known is not None else None
        if expected is None:
            expected = {'cache': cache_mean, 'source': source_mean}.get(origin)
        if expected is None and origin not in ('cache', 'source'):
            expected = _unit(cache_mean, source_mean, mix)
        elapsed = item.get('elapsed') or 0.0
        if expected is None or elapsed > expected:
            return None
        left = expected - elapsed
        longest = max(longest, left)
        work += left
    remaining = max(0, total - done - len(flight))
    if remaining:
        unit = _unit(cache_mean, source_mean, mix)
        if unit is None:
            return None
        work += remaining * unit
    return round(max(longest, work / max(1.0, parallel)), 1)


def _unit(cache_mean, source_mean, mix):
    """Expected seconds of a package whose origin is not known yet: the means weighted by ``mix``."""
    caches, sources = mix
    if not caches + sources or (caches and cache_mean is None) or (sources and source_mean is None):
        return None
    return ((cache_mean or 0.0) * caches + (source_mean or 0.0) * sources) / (caches + sources)
