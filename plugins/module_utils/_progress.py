# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read and aggregate the install progress events of ``research.wizard.spack_install``.

The event format is documented in ``docs/progress-events.md``: one JSON object per line, appended
and flushed one at a time by the writer. This module is the single reader: the
``spack_install_status`` module runs it on the target. The aggregate of a run's events is in
``_progress_state.py`` (re-exported here), which the ``research.wizard.progress`` callback also uses
on the controller. Pure Python, no Ansible imports, so it is unit-tested
on its own. Private to the collection (leading underscore): the API may change freely.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import time

# The event aggregate, also importable from here (__all__).
from ansible_collections.research.wizard.plugins.module_utils._progress_state import (
    ACTIVE_STATES,
    COUNT_KEYS,
    DONE_STATES,
    ORIGINS,
    PACKAGE_EVENTS,
    PackageRecord,
    ProgressState,
    _int,
    _round,
    package_label,
)

__all__ = ['ACTIVE_STATES', 'COUNT_KEYS', 'DONE_STATES', 'ORIGINS', 'PACKAGE_EVENTS', 'PackageRecord', 'ProgressState',
           'package_label', 'parse_lines', 'ProgressReader', 'pid_alive', 'read_async_job', 'status', 'wait_status']


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
        self.run_id = None       # the start event's run_id (a run of a run directory)
        self.waiting = None      # the last `waiting` event (the lock held by another run) until `locked`
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
                self.run_id = self.waiting = None
            kind = event.get('event')
            if kind == 'start':
                self.run_id = event.get('run_id') if isinstance(event.get('run_id'), str) else None
            elif kind == 'waiting':
                self.waiting = event
            elif kind in ('locked', 'finished') or kind in PACKAGE_EVENTS:
                self.waiting = None
            self.run_events.append((seq, event))
        return True


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

    waiting = reader.waiting if state is reader.state else None
    if waiting and not finished and not msg:
        msg = waiting.get('message') or 'Waiting for the lock of the environment'
    counts = state.counts()
    result = {
        'progress_file': path,
        'exists': exists,
        'started': state.started,
        'pid': state.pid,
        'env': state.env,
        'run_id': reader.run_id if state is reader.state else None,
        'waiting_for': (waiting.get('holder') if isinstance(waiting.get('holder'), dict) else {}) if waiting else None,
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
                clock=time.time, sleep=time.sleep, beat=None, beat_every=1.0):
    """:func:`status`, once there is news: a long poll. Returns ``(result, job)``.

    Waits up to ``wait`` seconds, looking at the file every ``interval`` seconds, and returns as soon
    as the current run has events with ``seq >= since`` (any event when ``since`` is None), ``since``
    is past the end of the file (a new run replaced it), the run has finished, the async job has
    ended, or the writer is gone (``stale_after``). Every look costs one ``stat`` while nothing
    changes, and a read of the new lines only when something did.

    ``job_source``: a function returning the :func:`read_async_job` dict, called at every look.
    ``beat``: a function called at the first look and then every ``beat_every`` seconds (the
    owner's heartbeat of a run: it lives as long as the poll does).
    """
    reader = ProgressReader(path)
    deadline = clock() + max(0.0, wait or 0)
    target = 0 if since is None else since
    last_beat = None
    while True:
        if beat is not None and (last_beat is None or clock() - last_beat >= beat_every):
            last_beat = clock()
            beat()
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
