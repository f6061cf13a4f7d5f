# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The research.wizard.progress callback's model: the install runs of every host, as seen through
the results of ``spack_install_status`` polls.

Events are aggregated by ``module_utils/_progress_state.ProgressState`` (the status module's own
aggregate), in its mode that keeps only the packages in flight; finished packages go to a spool
file (:mod:`.progress_history`), so memory stays flat however many packages an install has.
Private to the collection: the API may change freely.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import shutil
import tempfile

from ansible_collections.research.wizard.plugins.module_utils._progress_state import (
    COUNT_KEYS,
    DONE_STATES,
    ProgressState,
)
from ansible_collections.research.wizard.plugins.plugin_utils.progress_history import PackageSpool


CONTEXT_KEYS = ('domain', 'spack_version', 'target', 'install_tree')
FAILURE_KEYS = ('package', 'version', 'hash', 'log', 'message', 'excerpt')


def fmt_seconds(value):
    """1.2s, 42s, 3m05s, 2h03m; '-' when unknown. The one duration format of the terminal and the reports."""
    if value is None:
        return '-'
    value = float(value)
    if value < 10:
        return '%.1fs' % value
    value = int(round(value))
    if value < 60:
        return '%ds' % value
    if value < 3600:
        return '%dm%02ds' % (value // 60, value % 60)
    return '%dh%02dm' % (value // 3600, (value % 3600) // 60)


class Reiterable(object):
    """An iterable that produces its items anew at every iteration (here: re-reads a spool)."""

    def __init__(self, produce):
        self._produce = produce

    def __iter__(self):
        return iter(self._produce())


def _spooled(record):
    """What the spool keeps of a package: the report fields, with the start as a Unix time."""
    item = record.as_dict()
    item['start_ts'] = record.start_ts()
    return item


class RunTracker(object):
    """One install run (one progress file, one start) on one host, as seen through status results.

    Holds aggregates and the packages in flight only; finished packages go to a :class:`PackageSpool`.
    """

    SUMMARY_KEYS = ('started', 'pid', 'env', 'elapsed', 'total', 'done', 'queued', 'cache', 'source', 'already',
                    'external', 'failed_count', 'skipped_count', 'counts', 'in_flight', 'finished', 'rc', 'died',
                    'eta_seconds', 'msg')

    def __init__(self, host, key, result, spool_dir, history=None, context=None):
        self.host = host
        self.history = history      # the build-time history (BuildHistory), for the ETA
        self.context = context if context is not None else {}   # the host's pack, Spack, target, tree
        self.key = key
        self.progress_file = result.get('progress_file')
        self.spool = PackageSpool(spool_dir)
        self.state = ProgressState(retain=False)
        self.pending = []       # finished packages of the current poll, not spooled yet
        self._done_offset = 0   # packages the polls counted whose events were not seen here
        self.missed = 0
        self.summary = {}
        self.finished = False
        self.announced_end = False

    @property
    def active(self):
        """Package name -> record, for the packages being worked on."""
        return self.state.packages

    @property
    def last_seq(self):
        return self.state.last_seq

    @property
    def total(self):
        """Packages in the plan: the start event's total, else Spack's [n/m] (None when neither is known)."""
        for candidate in (self.state.plan_total, self.state.spack_total):
            if candidate is not None:
                return candidate
        return None

    @property
    def done(self):
        return self.state.done() + self._done_offset

    def new_events(self, events):
        """The events not seen yet, in order; counts those lost in a gap (max_events too small)."""
        fresh = []
        last = self.state.last_seq
        for event in events or ():
            if not isinstance(event, dict):
                continue
            seq = event.get('seq')
            if not isinstance(seq, int) or isinstance(seq, bool) or seq <= last:
                continue
            if seq > last + 1:
                self.missed += seq - last - 1
            last = seq
            fresh.append(event)
        return fresh

    def apply(self, event):
        """Apply one new event. Returns the package's record for package events (else None)."""
        self.state.apply(event)
        if event.get('event') == 'finished':
            self.announced_end = True
            self.summary.update({'rc': event.get('rc'), 'elapsed': event.get('seconds')})
            if isinstance(event.get('totals'), dict):
                self.summary['counts'] = event['totals']
        record = self.state.last_record
        if record is not None and record.state in DONE_STATES:
            self.pending.append(_spooled(record))
        return record

    def take(self, result, observe):
        """Apply one status result: its new events in order, calling ``observe(event, record)`` after
        each, then its figures. True when the run ended with this result unannounced (no finished event)."""
        if self.state.plan_total is None and isinstance(result.get('total'), int):
            # The start event may have been left out of a poll (max_events); the total was not.
            self.state.plan_total = result['total']
        for event in self.new_events(result.get('events')):
            observe(event, self.apply(event))
        self.flush()
        self.update(result)
        if self.finished and not self.announced_end:
            self.announced_end = True
            return True
        return False

    def eta(self):
        """Seconds left (None when unknown): Spack's [n/m] and the status result's packages in flight,
        timed with the build-time history and this run's own times (``_progress_state.eta_seconds``)."""
        if self.finished or self.state.finished:
            return 0.0
        summary = self.summary
        history = self.history
        total = summary.get('total') if isinstance(summary.get('total'), int) else self.total
        done = summary.get('done') if isinstance(summary.get('done'), int) else self.done
        flight = [item for item in summary.get('in_flight') or () if isinstance(item, dict)]
        return self.state.eta(None, known=history.estimate if history is not None else None,
                              cache_mean=history.cache_mean() if history is not None else None,
                              total=total, done=done, flight=flight)

    def flush(self):
        self.spool.append(self.pending)
        self.pending = []

    def update(self, result):
        for key in self.SUMMARY_KEYS:
            if key in result:
                self.summary[key] = result[key]
        if isinstance(result.get('done'), int):
            # The poll counted the whole file: it also knows the packages of events not seen here.
            self._done_offset = result['done'] - self.state.done()
        if isinstance(result.get('in_flight'), list) and self.active:
            # A package whose end event was left out of a poll (max_events) would stay here for good.
            working = set(item.get('package') for item in result['in_flight'] if isinstance(item, dict))
            for name in [name for name in self.active if name not in working]:
                self.state.discard(name)
        if result.get('finished'):
            self.finished = True
        if isinstance(result.get('packages'), list):
            self.replace_packages(result['packages'])

    def replace_packages(self, packages):
        """The final result lists every package of the run: it replaces what the events gave."""
        self.flush()
        run_start = self.run_start()
        items = []
        for item in packages:
            if not isinstance(item, dict) or not item.get('package'):
                continue
            item = dict(item)
            start = item.get('start')
            item['start_ts'] = (run_start + start if run_start is not None and isinstance(start, (int, float))
                                else None)
            items.append(item)
        self.spool.replace(items)
        for name in list(self.active):
            self.state.discard(name)

    def run_start(self):
        started = self.summary.get('started')
        if isinstance(started, (int, float)):
            return float(started)
        return self.state.started if self.state.started is not None else self.state.first_ts

    def counts(self):
        counts = self.summary.get('counts')
        if isinstance(counts, dict):
            return dict((k, counts.get(k, 0) or 0) for k in COUNT_KEYS)
        return self.state.counts()

    def packages(self, history=None):
        """The packages of the run for the reports, read back from the spool."""
        run_start = self.run_start()
        for item in self.spool:
            start_ts = item.pop('start_ts', None)
            if item.get('start') is None and start_ts is not None and run_start is not None:
                item['start'] = round(start_ts - run_start, 2)
            item['build_seconds_recorded'] = None
            if history is not None and item.get('state') == 'installed' and item.get('origin') == 'cache':
                item['build_seconds_recorded'] = history.lookup(item['package'], item.get('version'))
            yield item

    def failures(self):
        for item in self.spool:
            if item.get('state') == 'failed':
                yield dict((k, item.get(k)) for k in FAILURE_KEYS)

    def report(self, history):
        """The report of this run: figures, plus the failures and packages streamed from the spool."""
        saved, known, cached = 0.0, 0, 0
        for item in self.packages(history):
            if item['state'] == 'installed' and item['origin'] == 'cache':
                cached += 1
                if item['build_seconds_recorded'] is not None:
                    known += 1
                    saved += max(0.0, item['build_seconds_recorded'] - (item.get('seconds') or 0.0))
        return {
            'host': self.host,
            'context': dict((k, self.context[k]) for k in CONTEXT_KEYS if self.context.get(k)),
            'progress_file': self.progress_file,
            'env': self.summary.get('env', self.state.env),
            'started': self.run_start(),
            'finished': bool(self.summary.get('finished')),
            'rc': self.summary.get('rc'),
            'died': bool(self.summary.get('died')),
            'msg': self.summary.get('msg'),
            'seconds': self.summary.get('elapsed'),
            'total': self.summary.get('total', self.total),
            'done': self.summary.get('done', self.done),
            'counts': self.counts(),
            'cache_saved_seconds': round(saved, 1) if known else None,
            'cache_saved_known': known,
            'cache_packages': cached,
            'events_missed': self.missed,
            'failures': Reiterable(self.failures),
            'packages': Reiterable(lambda: self.packages(history)),
        }


class RunBook(object):
    """Every run seen in the playbook: per host, in the order the hosts first reported, each host's
    runs in order. The runs' spools share one temporary directory, removed by :meth:`close`."""

    def __init__(self, history=None):
        self.hosts = {}         # host -> [RunTracker, ...]
        self.order = []
        self.history = history
        self.contexts = {}      # host -> what is known of its deployment (CONTEXT_KEYS)
        self._spool_dir = None

    def __getitem__(self, host):
        return self.hosts[host]

    def __bool__(self):
        return bool(self.hosts)

    def tracker(self, host, result):
        """The run a status result belongs to (a new one when it is the first result of a run);
        None for a result with nothing to show yet."""
        if not result.get('exists') and not result.get('events') and not result.get('finished'):
            return None
        key = (result.get('progress_file'), result.get('started'), result.get('pid'))
        runs = self.hosts.get(host)
        if runs is None:
            runs = self.hosts[host] = []
            self.order.append(host)
        if runs and runs[-1].key == key:
            return runs[-1]
        if runs and runs[-1].key[0] == key[0] and runs[-1].key[1] is None and not result.get('rotated'):
            # The first polls came before the start event: same run, now identified.
            runs[-1].key = key
            return runs[-1]
        if self._spool_dir is None:
            self._spool_dir = tempfile.mkdtemp(prefix='wizard-progress-')
            atexit.register(self.close)
        tracker = RunTracker(host, key, result, self._spool_dir, self.history, self.contexts.setdefault(host, {}))
        runs.append(tracker)
        return tracker

    def note_context(self, host, values):
        """Record what a result told of a host's deployment (pack, Spack version, target, install tree);
        True when it changed. Later values win: the deployment summary fact is the last and surest."""
        context = self.contexts.setdefault(host, {})
        changed = False
        for key in CONTEXT_KEYS:
            value = values.get(key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value) \
                    and context.get(key) != str(value):
                context[key] = str(value)
                changed = True
        return changed

    def latest(self):
        """The current run of every host."""
        return [self.hosts[host][-1] for host in self.order if self.hosts[host]]

    def all(self):
        return [tracker for host in self.order for tracker in self.hosts[host]]

    def close(self):
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir = None
