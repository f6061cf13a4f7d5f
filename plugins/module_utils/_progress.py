# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read and aggregate the install progress events of ``research.wizard.spack_install``.

The event format is documented in ``docs/progress-events.md``: one JSON object per line, appended
and flushed one at a time by the writer. This module is the single reader: the
``spack_install_status`` module runs it on the target, and the ``research.wizard.progress`` callback
uses the same aggregation on the controller. Pure Python, no Ansible imports, so it is unit-tested
on its own. Private to the collection (leading underscore): the API may change freely.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import time

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


def parse_lines(data):
    """Parse the bytes of a progress file into events.

    Returns ``(events, invalid)``: the JSON objects of every complete line (a line ending in
    ``\\n``), in file order, and the number of complete lines that were not a JSON object. A last
    line without its newline is being written right now and is ignored, as the contract says.
    """
    events = []
    invalid = 0
    if not data:
        return events, invalid
    lines = data.split(b'\n')
    # The chunk after the last newline is a partial line (or empty): never parse it.
    for raw in lines[:-1]:
        raw = raw.strip()
        if not raw:
            continue
        try:
            event = json.loads(raw.decode('utf-8', 'replace'))
        except ValueError:
            invalid += 1
            continue
        if not isinstance(event, dict) or not isinstance(event.get('event'), str):
            invalid += 1
            continue
        events.append(event)
    return events, invalid


class ProgressReader(object):
    """Follows one progress file, reading only what was appended since the previous :meth:`refresh`.

    The status module re-reads the file every ~0.1 s while it waits for news, so a whole-file parse
    per look would cost O(file) each time. Only complete lines are consumed: the bytes after the
    last newline are being written right now and are read again, whole, at a later refresh.

    A file that was replaced (another inode), truncated (shorter than what was read) or rewritten
    (its first bytes differ) holds a new run: everything is read again from the start.
    """

    HEAD_BYTES = 256

    def __init__(self, path):
        self.path = path
        self.exists = False
        self.mtime = None
        self._stat_key = None
        self._restart()

    def _restart(self):
        self.state = ProgressState()
        self.run_events = []     # (seq, event) of the run the state holds
        self.invalid = 0
        self._offset = 0
        self._head = b''

    def refresh(self):
        """Read the complete lines appended since the last call. True when anything changed."""
        try:
            stat = os.stat(self.path)
        except (IOError, OSError) as exc:
            if getattr(exc, 'errno', None) != 2:  # only ENOENT means "not written yet"
                raise
            changed = self.exists
            self.exists, self.mtime, self._stat_key = False, None, None
            if changed:
                self._restart()
            return changed
        key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime)
        if key == self._stat_key:
            return False
        with open(self.path, 'rb') as handle:
            stat = os.fstat(handle.fileno())
            replaced = (self._stat_key is not None and self._stat_key[:2] != (stat.st_dev, stat.st_ino))
            if replaced or stat.st_size < self._offset or handle.read(len(self._head)) != self._head:
                self._restart()
            handle.seek(self._offset)
            data = handle.read()
        self.exists = True
        self.mtime = stat.st_mtime
        self._stat_key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime)
        complete = data[:data.rfind(b'\n') + 1]
        if len(self._head) < self.HEAD_BYTES:
            self._head = (self._head + complete)[:self.HEAD_BYTES]
        self._offset += len(complete)
        events, invalid = parse_lines(complete)
        self.invalid += invalid
        for event in events:
            seq = self.state.apply(event)
            if self.state.events_seen == 1:
                # apply() started a new run (first event, or the file now holds a newer run).
                self.run_events = []
            self.run_events.append((seq, event))
        return True


def package_label(name, version=None):
    if not name:
        return '?'
    return '%s@%s' % (name, version) if version else name


class PackageRecord(object):
    """What is known about one package of the current run."""

    __slots__ = ('name', 'version', 'hash', 'origin', 'state', 'first_ts', 'active_ts', 'end_ts',
                 'seconds', 'index', 'log', 'message')

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

    @property
    def label(self):
        return package_label(self.name, self.version)

    def apply(self, kind, event, ts):
        """Apply one of this package's events (``kind`` is its ``event``, ``ts`` its time)."""
        for attr in ('version', 'log', 'message'):
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
        return {
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
        if kind in DONE_STATES and not self.retain:
            self.discard(name)
            self.ended[_outcome(record)] += 1

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
        return [{
            'package': r.name,
            'version': r.version,
            'hash': r.hash,
            'log': r.log,
            'message': r.message,
        } for r in self.records() if r.state == 'failed']

    def elapsed(self, now):
        if self.finished and self.run_seconds is not None:
            return self.run_seconds
        start = self.started if self.started is not None else self.first_ts
        if start is None:
            return None
        end = self.last_ts if self.finished and self.last_ts is not None else now
        return max(0.0, end - start)

    def eta(self, now):
        """Seconds left, from the per-package times seen so far (None until one package is timed).

        remaining packages x mean package time, less the time the packages in flight have already
        spent, divided by the parallelism observed (package-seconds per wall-second).
        """
        if self.finished:
            return 0.0
        total = self.total
        if not total:
            return None
        timed = []
        first_start = None
        last_end = None
        for record in self.packages.values():
            if record.state not in ('installed', 'failed') or record.origin in ('already', 'external'):
                continue
            duration = record.duration()
            if duration is None:
                continue
            timed.append(duration)
            start = record.start_ts()
            if start is not None and (first_start is None or start < first_start):
                first_start = start
            if record.end_ts is not None and (last_end is None or record.end_ts > last_end):
                last_end = record.end_ts
        if not timed:
            return None
        mean = sum(timed) / len(timed)
        parallel = 1.0
        if first_start is not None and last_end is not None and last_end > first_start:
            parallel = min(max(1.0, sum(timed) / (last_end - first_start)), 64.0)
        flight = self.in_flight(now)
        remaining = max(0, total - self.done() - len(flight))
        work = remaining * mean
        for item in flight:
            work += max(0.0, mean - (item['elapsed'] or 0.0))
        return round(work / parallel, 1)


def pid_alive(pid):
    """True when a process with this pid runs on this host (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if getattr(exc, 'errno', None) == 1:  # EPERM: it exists, owned by someone else
            return True
        return False
    try:
        with open('/proc/%d/stat' % pid, 'r') as handle:
            fields = handle.read().rsplit(')', 1)[-1].split()
        if fields and fields[0] in ('Z', 'X'):
            return False
    except (IOError, OSError):
        pass
    return True


def read_async_job(async_dir, job_id):
    """The state of an Ansible async job from its status file ``<async_dir>/<job_id>``.

    The async wrapper writes ``{"started": true, "finished": false, ...}`` when the job starts and
    replaces it (atomically) with the module's result when the job ends, or with
    ``{"failed": true, "msg": "Timeout exceeded"}`` when it kills a job over its time limit.
    Returns a dict: ``state`` (``running``, ``finished`` or ``missing``), ``failed``, ``rc``, ``msg``.
    """
    path = os.path.join(os.path.expanduser(async_dir), job_id)
    info = {'state': 'missing', 'failed': None, 'rc': None, 'msg': None, 'results_file': path, 'since': None}
    try:
        with open(path, 'r') as handle:
            raw = handle.read()
            # While running, the file is the one the wrapper wrote when the job started.
            info['since'] = os.fstat(handle.fileno()).st_mtime
    except (IOError, OSError):
        return info
    try:
        data = json.loads(raw)
    except ValueError:
        # The wrapper renames a complete file into place, so this is a job still writing its result.
        info['state'] = 'running'
        return info
    if not isinstance(data, dict):
        info['state'] = 'running'
        return info
    if data.get('started') and not data.get('finished'):
        info['state'] = 'running'
        return info
    info['state'] = 'finished'
    info['failed'] = bool(data.get('failed'))
    info['rc'] = _int(data.get('rc'))
    msg = data.get('msg')
    info['msg'] = msg if isinstance(msg, str) else None
    return info


def _current_run(reader, job):
    """``(state, run_events, msg)`` of the run to report: the reader's, unless it predates the job.

    The progress file may still hold an earlier run (a writer that appends) while this job's install
    has not written its start event yet: report nothing rather than the old run's end.
    """
    state = reader.state
    if (job and job.get('state') == 'running' and job.get('since') and state.started is not None
            and state.started < job['since'] - 2):
        return (ProgressState(), [],
                'Waiting for the install to start (the progress file holds an earlier run)')
    return state, reader.run_events, None


def _stale(state, mtime, now, stale_after, check_pid=True):
    """The writer of this run is gone: its pid no longer runs and the file has been quiet."""
    return bool(check_pid and stale_after and state.pid and mtime is not None
                and now - mtime >= stale_after and not pid_alive(state.pid))


def status(path, since=None, max_events=200, now=None, job=None, stale_after=0, check_pid=True, reader=None):
    """Everything ``spack_install_status`` returns about the progress file at ``path``.

    ``since``: return the events with ``seq >= since`` (all when None); at most ``max_events`` of
    them, the most recent ones (``events_dropped`` says how many older ones were left out).
    ``job``: the :func:`read_async_job` dict of the install's async job, if known: a job that ended
    without a ``finished`` event marks the run finished and ``died``.
    ``stale_after``: seconds without a write to the file after which a run whose ``start`` pid is
    gone from this host counts as died (0 turns the check off).
    ``reader``: a :class:`ProgressReader` of ``path`` that is already up to date (read once if not).
    """
    if now is None:
        now = time.time()
    if reader is None:
        reader = ProgressReader(path)
        reader.refresh()
    exists, mtime, invalid = reader.exists, reader.mtime, reader.invalid
    state, run_events, msg = _current_run(reader, job)

    rotated = False
    if since is not None and since > state.last_seq + 1:
        # The file was replaced by a shorter, newer run: the caller's cursor is from the old one.
        rotated = True
        since = None
    selected = [e for s, e in run_events if since is None or s >= since]
    dropped = 0
    if max_events is not None and max_events >= 0 and len(selected) > max_events:
        dropped = len(selected) - max_events
        selected = selected[dropped:] if max_events else []

    finished = state.finished
    rc = state.rc
    died = False
    if not finished and job and job.get('state') == 'finished':
        # The async job is over but no finished event was written: it was killed (time limit,
        # OOM, signal) or crashed before it could write one.
        finished = True
        died = bool(job.get('failed'))
        rc = job.get('rc')
        if rc is None and not died:
            rc = 0
        msg = 'The install job ended without a finished event in the progress file'
        if job.get('msg'):
            msg += ': %s' % job['msg']
    elif not finished and job and job.get('state') == 'missing' and not exists:
        msg = 'No async job status file at %s and no progress file yet' % job.get('results_file')
    if not finished and _stale(state, mtime, now, stale_after, check_pid):
        finished = True
        died = True
        rc = None
        msg = ('The install process (pid %d) is gone and the progress file has not changed for %ds, '
               'with no finished event' % (state.pid, int(now - mtime)))

    counts = state.counts()
    result = {
        'progress_file': path,
        'exists': exists,
        'started': state.started,
        'pid': state.pid,
        'env': state.env,
        'elapsed': _round(state.elapsed(now), 1),
        'total': state.total,
        'done': state.done(),
        'queued': state.queued(),
        'cache': counts['cache'],
        'source': counts['source'],
        'already': counts['already'],
        'external': counts['external'],
        'failed_count': counts['failed'],
        'skipped_count': counts['skipped'],
        'counts': counts,
        'failures': state.failures(),
        'in_flight': state.in_flight(now),
        'events': selected,
        'events_dropped': dropped,
        'next_since': state.last_seq + 1,
        'rotated': rotated,
        'invalid_lines': invalid,
        'finished': finished,
        'rc': rc,
        'died': died,
        'eta_seconds': 0.0 if finished else state.eta(now),
    }
    if msg:
        result['msg'] = msg
    if finished:
        run_start = state.started if state.started is not None else state.first_ts
        result['packages'] = [r.as_dict(run_start) for r in state.records()]
    return result


def wait_status(path, since=None, max_events=200, wait=0, job_source=None, stale_after=0, interval=0.1,
                clock=time.time, sleep=time.sleep):
    """:func:`status`, once there is news: a long poll. Returns ``(result, job)``.

    Waits up to ``wait`` seconds, looking at the file every ``interval`` seconds, and returns as soon
    as the current run has events with ``seq >= since`` (any event when ``since`` is None), ``since``
    is past the end of the file (a new run replaced it), the run has finished, the async job has
    ended, or the writer is gone (``stale_after``). Every look costs one ``stat`` while nothing
    changes, and a read of the new lines only when something did.

    ``job_source``: a function returning the :func:`read_async_job` dict, called at every look.
    """
    reader = ProgressReader(path)
    deadline = clock() + max(0.0, wait or 0)
    target = 0 if since is None else since
    while True:
        reader.refresh()
        job = job_source() if job_source else None
        now = clock()
        state, _events, _msg = _current_run(reader, job)
        ready = (now >= deadline
                 or state.last_seq + 1 != target  # new events, or since is from an older, longer run
                 or state.finished
                 or (job is not None and job.get('state') == 'finished')
                 or _stale(state, reader.mtime, now, stale_after))
        if ready:
            return status(path, since=since, max_events=max_events, now=now, job=job,
                          stale_after=stale_after, reader=reader), job
        sleep(max(0.0, min(interval, deadline - now)))
