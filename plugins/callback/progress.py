# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: progress
type: aggregate
short_description: Live per-package progress of Spack installs, a summary table and JSON/HTML reports
version_added: 0.1.0
description:
  - Follows the results of M(research.wizard.spack_install_status) polled with C(until) (each poll
    reaches callbacks as C(v2_runner_retry)) and shows the install of every host as it happens.
  - On a real terminal, a live bar per host at the bottom of the screen, redrawn in place - done and
    total packages, cache versus source, the package(s) being worked on, elapsed time and an ETA -
    plus one permanent line per finished package above it.
  - Under AWX or ansible-runner (E(JOB_ID), E(AWX_HOST) or E(AWX_ISOLATED_DATA_DIR) set, or the
    C(awx_display) stdout callback), with E(TERM=dumb), or when the
    output is not a terminal, one plain line per package state change, no cursor movement.
  - At the end of the playbook, a summary table per host (packages by origin, failures with their
    build log, total time, time the binary cache saved), a JSON report and a self-contained HTML
    report with the package table and a timeline chart.
  - It only adds output; every other callback's output (errors, warnings, other tasks) is untouched.
  - The time the cache saved is estimated from a small history of source build times per package,
    recorded by earlier runs in O(history_file).
requirements:
  - Enable it by its full name, for example C(callbacks_enabled = research.wizard.progress) in the
    C([defaults]) section of C(ansible.cfg) (the collection's own C(ansible.cfg) does).
author:
  - research.wizard developers (@research-wizard)
options:
  mode:
    description:
      - V(auto) picks V(live) on a terminal and V(plain) under AWX/ansible-runner, with C(TERM=dumb),
        or when the output is not a terminal.
      - V(live) forces the redrawn bars (terminal escape codes); V(plain) forces one line per package
        state change.
    type: str
    default: auto
    choices: [auto, live, plain]
    env:
      - name: WIZARD_PROGRESS_MODE
    ini:
      - section: callback_wizard_progress
        key: mode
  summary:
    description: Print the summary table when the playbook ends.
    type: bool
    default: true
    env:
      - name: WIZARD_PROGRESS_SUMMARY
    ini:
      - section: callback_wizard_progress
        key: summary
  reports:
    description: Write the JSON and HTML reports when the playbook ends. V(false) turns them off.
    type: bool
    default: true
    env:
      - name: WIZARD_PROGRESS_REPORTS
    ini:
      - section: callback_wizard_progress
        key: reports
  report_dir:
    description:
      - Directory for the reports C(install-report-YYYYmmdd-HHMMSS.json) and C(.html), created when
        missing. A relative path is relative to the directory C(ansible-playbook) runs in.
    type: str
    default: wizard-reports
    env:
      - name: WIZARD_PROGRESS_REPORT_DIR
    ini:
      - section: callback_wizard_progress
        key: report_dir
  history_file:
    description:
      - JSON file with the source build time of each package seen by earlier runs (name and version),
        used to estimate the time the binary cache saved. Updated at the end of every playbook with
        the packages built from source.
      - An empty value turns the history off (no estimate, nothing written).
    type: str
    default: ~/.cache/research.wizard/build-times.json
    env:
      - name: WIZARD_PROGRESS_HISTORY_FILE
    ini:
      - section: callback_wizard_progress
        key: history_file
notes:
  - A package's line appears with the first poll after Spack reported it. With the long polls of
    M(research.wizard.spack_install_status) (O(research.wizard.spack_install_status#module:wait),
    C(delay=0), as the C(domain_pack) role does) that is within a fraction of a second; with plain
    polls, up to the C(delay) of the C(until) loop.
  - Memory stays flat however many packages an install has - finished packages are spooled to a
    temporary file (removed at the end of the playbook) and streamed back into the summary and
    the reports.
  - The live bars use a terminal scroll region (like C(apt)); other output scrolls above them. The
    region is reset when the polling task ends, at the end of the playbook and at exit.
seealso:
  - module: research.wizard.spack_install_status
  - module: research.wizard.spack_install
'''

import atexit
import datetime
import html
import json
import os
import shutil
import sys
import tempfile
import time

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

from ansible_collections.research.wizard.plugins.module_utils._progress import (
    ACTIVE_STATES,
    COUNT_KEYS,
    PACKAGE_EVENTS,
    PackageRecord,
    package_label,
)

STATUS_ACTIONS = ('research.wizard.spack_install_status', 'spack_install_status')
STATUS_KEYS = ('progress_file', 'next_since', 'in_flight', 'finished')
REPORT_FORMAT = 1
HISTORY_FORMAT = 1
HISTORY_MAX_ENTRIES = 5000
SUMMARY_MAX_FAILURES = 50
LIVE_MAX_HOST_LINES = 8
BAR_WIDTH = 20

ESC = '\x1b'


def fmt_seconds(value):
    """1.2s, 42s, 3m05s, 2h03m; '-' when unknown."""
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


def resolve_mode(option, environ=None, stream=None):
    """The display mode to use: ``live`` or ``plain``."""
    if option in ('live', 'plain'):
        return option
    environ = os.environ if environ is None else environ
    # ansible-runner (AWX's engine, and ansible-navigator's) gives the playbook a pty but keeps the
    # output as job events: it always sets AWX_ISOLATED_DATA_DIR, and its awx_display stdout callback.
    if (environ.get('JOB_ID') or environ.get('AWX_HOST') or environ.get('AWX_ISOLATED_DATA_DIR')
            or environ.get('ANSIBLE_STDOUT_CALLBACK') == 'awx_display' or environ.get('TERM') == 'dumb'):
        return 'plain'
    stream = sys.stdout if stream is None else stream
    try:
        return 'live' if stream.isatty() else 'plain'
    except (AttributeError, ValueError):
        return 'plain'


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
    def _write(handle, items):
        for item in items:
            handle.write(json.dumps(item, sort_keys=True))
            handle.write('\n')

    def append(self, items):
        if not items:
            return
        # A raw descriptor, not open(..., 'a'): on CPython 3.11 every text-mode append left a few
        # dozen bytes behind (tracemalloc, benchmarks/progress_memory.py), one poll after another.
        data = ''.join(json.dumps(item, sort_keys=True) + '\n' for item in items).encode('utf-8')
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            while data:
                data = data[os.write(handle, data):]
        finally:
            os.close(handle)

    def replace(self, items):
        with open(self.path + '.new', 'w') as handle:
            self._write(handle, items)
        os.rename(self.path + '.new', self.path)

    def __iter__(self):
        with open(self.path, 'r') as handle:
            for line in handle:
                yield json.loads(line)


def _spooled(record):
    """What the spool keeps of a package: the report fields, with the start as a Unix time."""
    item = record.as_dict()
    item['start_ts'] = record.start_ts()
    return item


class Reiterable(object):
    """An iterable that produces its items anew at every iteration (here: re-reads a spool)."""

    def __init__(self, produce):
        self._produce = produce

    def __iter__(self):
        return iter(self._produce())


class RunTracker(object):
    """One install run (one progress file, one start) on one host, as seen through status results.

    Holds aggregates and the packages in flight only; finished packages go to a :class:`PackageSpool`.
    """

    SUMMARY_KEYS = ('started', 'pid', 'env', 'elapsed', 'total', 'done', 'queued', 'cache', 'source', 'already',
                    'external', 'failed_count', 'skipped_count', 'counts', 'in_flight', 'finished', 'rc', 'died',
                    'eta_seconds', 'msg')

    def __init__(self, host, key, result, spool_dir):
        self.host = host
        self.key = key
        self.progress_file = result.get('progress_file')
        self.spool = PackageSpool(spool_dir)
        self.active = {}        # package name -> PackageRecord, for the packages being worked on
        self.pending = []       # finished packages of the current poll, not spooled yet
        self.plan_total = None
        self.spack_total = None
        self.done = 0
        self.event_counts = dict((k, 0) for k in COUNT_KEYS)
        self.started = None
        self.first_ts = None
        self.env = None
        self.last_seq = -1
        self.missed = 0
        self.summary = {}
        self.finished = False
        self.announced_start = False
        self.announced_end = False

    @property
    def total(self):
        for candidate in (self.plan_total, self.spack_total):
            if candidate is not None:
                return candidate
        return None

    def new_events(self, events):
        """The events not seen yet, in order; counts those lost in a gap (max_events too small)."""
        fresh = []
        for event in events or ():
            if not isinstance(event, dict):
                continue
            seq = event.get('seq')
            if not isinstance(seq, int) or isinstance(seq, bool) or seq <= self.last_seq:
                continue
            if seq > self.last_seq + 1:
                self.missed += seq - self.last_seq - 1
            self.last_seq = seq
            fresh.append(event)
        return fresh

    def apply(self, event):
        """Apply one new event. Returns the package's record for package events (else None)."""
        kind = event.get('event')
        ts = event.get('ts')
        ts = float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else None
        if self.first_ts is None:
            self.first_ts = ts
        if kind == 'start':
            self.started = ts
            self.env = event.get('env')
            total = event.get('total')
            self.plan_total = total if isinstance(total, int) else None
            return None
        name = event.get('package')
        if kind not in PACKAGE_EVENTS or not isinstance(name, str) or not name:
            return None
        if isinstance(event.get('total'), int):
            self.spack_total = max(event['total'], self.spack_total or 0)
        if kind == 'queued':
            # Nothing to keep: Spack queues the whole plan at once, and the poll's count says enough.
            return None
        record = self.active.get(name) or PackageRecord(name)
        record.apply(kind, event, ts)
        if kind in ACTIVE_STATES:
            self.active[name] = record
            return record
        self.active.pop(name, None)
        self.done += 1
        self.event_counts[kind if kind != 'installed' else (record.origin or 'source')] += 1
        self.pending.append(_spooled(record))
        return record

    def flush(self):
        self.spool.append(self.pending)
        self.pending = []

    def update(self, result):
        for key in self.SUMMARY_KEYS:
            if key in result:
                self.summary[key] = result[key]
        if isinstance(result.get('done'), int):
            # The poll counted the whole file: it also knows the packages of events not seen here.
            self.done = result['done']
        if isinstance(result.get('in_flight'), list) and self.active:
            # A package whose end event was left out of a poll (max_events) would stay here for good.
            working = set(item.get('package') for item in result['in_flight'] if isinstance(item, dict))
            for name in [name for name in self.active if name not in working]:
                del self.active[name]
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
        self.active.clear()

    def run_start(self):
        started = self.summary.get('started')
        if isinstance(started, (int, float)):
            return float(started)
        return self.started if self.started is not None else self.first_ts

    def counts(self):
        counts = self.summary.get('counts')
        if isinstance(counts, dict):
            return dict((k, counts.get(k, 0) or 0) for k in COUNT_KEYS)
        return dict(self.event_counts)

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
                yield dict((k, item.get(k)) for k in ('package', 'version', 'hash', 'log', 'message'))

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
            'progress_file': self.progress_file,
            'env': self.summary.get('env', self.env),
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


class LiveArea(object):
    """A block of lines at the bottom of the terminal, kept there with a scroll region.

    Other output scrolls in the region above; the block is redrawn in place. Same technique as
    apt's progress line.
    """

    def __init__(self, write, size=None):
        self._write = write
        self._size = size or (lambda: shutil.get_terminal_size((80, 24)))
        self.height = 0
        self.rows = 0
        self.cols = 80

    @property
    def active(self):
        return self.height > 0

    def _open(self, height):
        cols, rows = self._size()
        height = max(1, min(height, rows - 2))
        self.rows, self.cols, self.height = rows, cols, height
        # Make room (scrolls the screen up if needed), then confine scrolling to the rows above.
        self._write('\n' * height + '%s[%dA' % (ESC, height) + ESC + '7'
                    + '%s[1;%dr' % (ESC, rows - height) + ESC + '8')

    def draw(self, lines):
        cols, rows = self._size()
        if not self.active or len(lines) != self.height or rows != self.rows or cols != self.cols:
            self.close()
            self._open(len(lines))
        lines = lines[:self.height]
        out = [ESC + '7']
        top = self.rows - self.height + 1
        for offset, line in enumerate(lines):
            out.append('%s[%d;1H%s[2K%s' % (ESC, top + offset, ESC, line[:max(1, self.cols - 1)]))
        out.append(ESC + '8')
        self._write(''.join(out))

    def close(self):
        if not self.active:
            return
        top = self.rows - self.height + 1
        self._write(ESC + '7' + '%s[%d;1H%s[J' % (ESC, top, ESC) + ESC + '[r' + ESC + '8')
        self.height = 0


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'research.wizard.progress'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.mode = None
        self.runs = {}          # host -> [RunTracker, ...] in order
        self.host_order = []
        self.playbook_name = None
        self.playbook_start = time.time()
        self.live = None
        self.report_paths = []
        self._atexit = False
        self._spool_dir = None

    # -- options and output ---------------------------------------------------------------------
    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.mode = resolve_mode(self.get_option('mode'))
        self.live = LiveArea(self._raw) if self.mode == 'live' else None

    def _raw(self, text):
        self._display.display(text, newline=False, screen_only=True)
        self._flush()

    def _line(self, text, color=None):
        self._display.display(text, color=color)
        self._flush()

    @staticmethod
    def _flush():
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass

    def _close_live(self):
        if self.live is not None and self.live.active:
            self.live.close()

    # -- recognising status results -------------------------------------------------------------
    @staticmethod
    def is_status_result(result):
        data = getattr(result, 'result', None)
        if not isinstance(data, dict):
            return False
        task = getattr(result, 'task', None)
        action = getattr(task, 'resolved_action', None) or getattr(task, 'action', None)
        if action in STATUS_ACTIONS:
            return 'progress_file' in data
        return all(key in data for key in STATUS_KEYS)

    def _tracker(self, host, data):
        key = (data.get('progress_file'), data.get('started'), data.get('pid'))
        runs = self.runs.get(host)
        if runs is None:
            runs = self.runs[host] = []
            self.host_order.append(host)
        if runs and runs[-1].key == key:
            return runs[-1]
        if runs and runs[-1].key[0] == key[0] and runs[-1].key[1] is None and not data.get('rotated'):
            # The first polls came before the start event: same run, now identified.
            runs[-1].key = key
            return runs[-1]
        if self._spool_dir is None:
            self._spool_dir = tempfile.mkdtemp(prefix='wizard-progress-')
            atexit.register(self._remove_spool)
        tracker = RunTracker(host, key, data, self._spool_dir)
        runs.append(tracker)
        return tracker

    def _remove_spool(self):
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir = None

    # -- consuming ------------------------------------------------------------------------------
    def handle_status(self, host, data):
        if not data.get('exists') and not data.get('events') and not data.get('finished'):
            return
        tracker = self._tracker(host, data)
        if tracker.plan_total is None and isinstance(data.get('total'), int):
            # The start event may have been left out of a poll (max_events); the total was not.
            tracker.plan_total = data['total']
        fresh = tracker.new_events(data.get('events'))
        lines = []
        queued = 0
        queued_at = None
        for event in fresh:
            record = tracker.apply(event)
            if event.get('event') == 'queued':
                # One line for the queued packages of a poll, where the first of them came.
                queued += 1
                if queued_at is None:
                    queued_at = len(lines)
                    lines.append(None)
                continue
            line = self.event_line(tracker, event, record)
            if line:
                lines.append(line)
        if queued_at is not None:
            lines[queued_at] = ('%s | %d package%s queued' % (host, queued, '' if queued == 1 else 's'), None)
        tracker.flush()
        tracker.update(data)
        if tracker.finished and not tracker.announced_end:
            tracker.announced_end = True
            if not any(e.get('event') == 'finished' for e in fresh):
                lines.append(self.finished_line(tracker))
        for text, color in lines:
            self._line(text, color)
        if self.mode == 'live':
            self.draw_live()

    def event_line(self, tracker, event, record=None):
        """The (text, color) line for one event, or None when this mode shows it in the bar only.

        ``record`` is the package's record after the event (:meth:`RunTracker.apply`).
        """
        host = tracker.host
        kind = event.get('event')
        total = tracker.total
        done = min(tracker.done, total) if total else tracker.done
        counter = '[%*d/%s]' % (len(str(total or 0)), done, total if total is not None else '?')
        label = package_label(event.get('package'), event.get('version'))
        origin = event.get('origin') or (record.origin if record else None)
        if kind == 'start':
            tracker.announced_start = True
            details = ['%s package%s' % (total, '' if total == 1 else 's')] if total is not None else []
            if event.get('env'):
                details.append('env %s' % event['env'])
            return ('%s | spack install started%s' % (host, ': ' + ', '.join(details) if details else ''), None)
        if kind == 'finished':
            tracker.announced_end = True
            tracker.summary.update({'rc': event.get('rc'), 'elapsed': event.get('seconds')})
            if isinstance(event.get('totals'), dict):
                tracker.summary['counts'] = event['totals']
            return self.finished_line(tracker)
        if kind in ACTIVE_STATES:
            if self.mode == 'live':
                return None
            how = {'fetching': 'fetching',
                   'building': 'building from source',
                   'extracting': 'extracting from the binary cache'}[kind]
            return ('%s | %s %s %s' % (host, counter, label, how), None)
        if kind == 'installed':
            seconds = event.get('seconds')
            if origin == 'already':
                how = 'already installed'
            elif origin == 'external':
                how = 'external (provided by the system)'
            elif origin == 'cache':
                how = 'installed from the binary cache in %s' % fmt_seconds(seconds)
            elif origin == 'source':
                how = 'built from source in %s' % fmt_seconds(seconds)
            else:
                how = 'installed in %s' % fmt_seconds(seconds)
            return ('%s | %s %s %s' % (host, counter, label, how), C.COLOR_OK)
        if kind == 'failed':
            text = '%s | %s %s FAILED after %s' % (host, counter, label, fmt_seconds(event.get('seconds')))
            if event.get('message'):
                text += ': %s' % event['message']
            text += ' (log: %s)' % (event.get('log') or 'none')
            return (text, C.COLOR_ERROR)
        if kind == 'skipped':
            text = '%s | %s %s skipped' % (host, counter, label)
            if event.get('message'):
                text += ': %s' % event['message']
            return (text, C.COLOR_SKIP)
        return None

    def finished_line(self, tracker):
        summary = tracker.summary
        counts = tracker.counts()
        rc = summary.get('rc')
        text = '%s | spack install %s rc=%s in %s: %s' % (
            tracker.host,
            'died' if summary.get('died') else 'finished',
            rc,
            fmt_seconds(summary.get('elapsed')),
            ', '.join('%d %s' % (counts.get(k, 0), k) for k in COUNT_KEYS),
        )
        if summary.get('msg'):
            text += ' (%s)' % summary['msg']
        ok = rc == 0 and not summary.get('died') and not counts.get('failed')
        return (text, C.COLOR_OK if ok else C.COLOR_ERROR)

    # -- the live bars --------------------------------------------------------------------------
    def bar_line(self, tracker):
        summary = tracker.summary
        total = summary.get('total') or 0
        done = summary.get('done') or 0
        filled = int(BAR_WIDTH * done / total) if total else 0
        if tracker.finished:
            gauge = '=' * BAR_WIDTH
        else:
            gauge = ('=' * filled + ('>' if filled < BAR_WIDTH else '')).ljust(BAR_WIDTH)[:BAR_WIDTH]
        counts = tracker.counts()
        parts = ['%s [%s] %d/%s' % (tracker.host, gauge, done, total or '?'),
                 'cache %d | source %d' % (counts['cache'], counts['source'])]
        extra = []
        if counts['already'] or counts['external']:
            extra.append('%d present' % (counts['already'] + counts['external']))
        if counts['failed']:
            extra.append('%d FAILED' % counts['failed'])
        if extra:
            parts[-1] += ' | ' + ' | '.join(extra)
        if tracker.finished:
            # Before the counts could push it off a narrow terminal.
            parts.insert(1, '%s rc=%s in %s' % ('died' if summary.get('died') else 'finished', summary.get('rc'),
                                                fmt_seconds(summary.get('elapsed'))))
        else:
            parts.append('elapsed %s' % fmt_seconds(summary.get('elapsed')))
            parts.append('ETA %s' % fmt_seconds(summary.get('eta_seconds')))
            flight = summary.get('in_flight') or []
            if flight:
                first = flight[0]
                current = '%s %s %s' % (first.get('state'), package_label(first.get('package'), first.get('version')),
                                        fmt_seconds(first.get('elapsed')))
                if len(flight) > 1:
                    current += ' +%d more' % (len(flight) - 1)
                parts.append(current)
            elif summary.get('queued'):
                parts.append('%d queued' % summary['queued'])
        return '  '.join(parts)

    def draw_live(self):
        lines = []
        for host in self.host_order:
            runs = self.runs.get(host)
            if runs:
                lines.append(self.bar_line(runs[-1]))
        if len(lines) > LIVE_MAX_HOST_LINES:
            hidden = lines[LIVE_MAX_HOST_LINES - 1:]
            lines = lines[:LIVE_MAX_HOST_LINES - 1] + ['... and %d more hosts' % len(hidden)]
        if lines:
            self.live.draw(lines)
            if not self._atexit:
                self._atexit = True
                atexit.register(self._close_live)

    # -- callback entry points ------------------------------------------------------------------
    def _consume(self, result):
        if self.mode is None:
            self.set_options()
        if self.is_status_result(result):
            self.handle_status(result.host.get_name(), result.result)

    def v2_runner_retry(self, result):
        self._consume(result)

    def v2_runner_on_ok(self, result):
        self._consume(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._consume(result)

    def v2_playbook_on_start(self, playbook):
        self.playbook_name = os.path.basename(getattr(playbook, '_file_name', '') or '') or None
        self.playbook_start = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_live()

    def v2_playbook_on_handler_task_start(self, task):
        self._close_live()

    def v2_playbook_on_play_start(self, play):
        self._close_live()

    def v2_playbook_on_stats(self, stats):
        self._close_live()
        if not self.runs:
            return
        try:
            self.final_output()
        finally:
            self._remove_spool()

    def final_output(self):
        history_path = self.get_option('history_file')
        history = BuildHistory(history_path) if history_path else None
        if history is not None and history.error:
            self._display.warning(history.error)
        reports = [tracker.report(history) for host in self.host_order for tracker in self.runs[host]]
        if self.get_option('reports'):
            try:
                self.report_paths = self.write_reports(reports, self.get_option('report_dir'))
            except (IOError, OSError) as exc:
                self._display.warning('research.wizard.progress: cannot write the reports: %s' % exc)
        if self.get_option('summary'):
            self._display.banner('SPACK INSTALL SUMMARY')
            for text, color in self.summary_lines(reports):
                self._display.display(text, color=color)
            self._flush()
        if history is not None:
            for report in reports:
                for item in report['packages']:
                    if (item.get('state') == 'installed' and item.get('origin') == 'source'
                            and isinstance(item.get('seconds'), (int, float))):
                        history.record(item['package'], item.get('version'), float(item['seconds']))
            try:
                history.save()
            except (IOError, OSError) as exc:
                self._display.warning('research.wizard.progress: cannot write the build-time history %s: %s'
                                      % (history.path, exc))

    # -- summary and reports --------------------------------------------------------------------
    def summary_lines(self, reports):
        """The summary table as (text, color) lines: one row per host and run, then the failures."""
        header = ('host', 'total', 'cache', 'source', 'already', 'external', 'failed', 'skipped', 'rc', 'time',
                  'cache saved')
        rows = []
        for report in reports:
            counts = report['counts']
            if report['cache_saved_seconds'] is None:
                saved = 'unknown' if report['cache_packages'] else '-'
            else:
                saved = '~' + fmt_seconds(report['cache_saved_seconds'])
                if report['cache_saved_known'] < report['cache_packages']:
                    saved += ' (%d/%d known)' % (report['cache_saved_known'], report['cache_packages'])
            rows.append((report['host'], str(report['total'] if report['total'] is not None else '?'))
                        + tuple(str(counts.get(k, 0)) for k in COUNT_KEYS)
                        + ('died' if report['died'] else str(report['rc']), fmt_seconds(report['seconds']), saved))
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        lines = []

        def fmt(row):
            cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, len(row) - 1)]
            cells.append(row[-1].ljust(widths[-1]))
            return '  '.join(cells).rstrip()

        lines.append((fmt(header), None))
        for row, report in zip(rows, reports):
            bad = report['counts'].get('failed') or report['died'] or (report['rc'] not in (0, None))
            lines.append((fmt(row), C.COLOR_ERROR if bad else C.COLOR_OK))
        shown = more = 0
        for report in reports:
            for failure in report['failures']:
                if shown == SUMMARY_MAX_FAILURES:
                    more += 1
                    continue
                if not shown:
                    lines.append(('failed packages:', C.COLOR_ERROR))
                shown += 1
                label = package_label(failure.get('package'), failure.get('version'))
                text = '  %s  %s  log: %s' % (report['host'], label, failure.get('log') or 'none')
                if failure.get('message'):
                    text += '  (%s)' % failure['message']
                lines.append((text, C.COLOR_ERROR))
        if more:
            lines.append(('  ... and %d more failed packages (see the reports)' % more, C.COLOR_ERROR))
        for report in reports:
            if report['msg']:
                lines.append(('%s: %s' % (report['host'], report['msg']), C.COLOR_WARN))
            if report['events_missed']:
                lines.append(('%s: %d events were not seen live (raise max_events); the summary is complete'
                              % (report['host'], report['events_missed']), None))
        if self.report_paths:
            lines.append(('reports: %s' % ', '.join(self.report_paths), None))
        return lines

    def write_reports(self, reports, report_dir):
        report_dir = os.path.abspath(os.path.expanduser(report_dir or 'wizard-reports'))
        if not os.path.isdir(report_dir):
            os.makedirs(report_dir)
        now = time.time()
        stamp = datetime.datetime.fromtimestamp(now).strftime('%Y%m%d-%H%M%S')
        base = os.path.join(report_dir, 'install-report-%s' % stamp)
        suffix = 1
        while os.path.exists(base + '.json') or os.path.exists(base + '.html'):
            suffix += 1
            base = os.path.join(report_dir, 'install-report-%s-%d' % (stamp, suffix))
        document = {
            'format': REPORT_FORMAT,
            'generator': 'research.wizard.progress',
            'generated': datetime.datetime.fromtimestamp(now).isoformat(),
            'playbook': self.playbook_name,
            'playbook_seconds': round(now - self.playbook_start, 1),
            'runs': reports,
        }
        with open(base + '.json', 'w') as handle:
            write_json(handle, document)
            handle.write('\n')
        with open(base + '.html', 'w') as handle:
            write_html(handle, document)
        return [base + '.json', base + '.html']


def write_json(handle, value, indent=1, level=0):
    """``json.dump(value, handle, indent=1, sort_keys=True)``, streaming a :class:`Reiterable`
    (the spooled packages) item by item instead of building it in memory."""
    if isinstance(value, dict):
        items = sorted(value.items())
        opener, closer = '{', '}'
    elif isinstance(value, (list, tuple, Reiterable)):
        items = ((None, item) for item in value)
        opener, closer = '[', ']'
    else:
        handle.write(json.dumps(value, sort_keys=True))
        return
    inner = '\n' + ' ' * (indent * (level + 1))
    handle.write(opener)
    empty = True
    for key, item in items:
        handle.write(inner if empty else ',' + inner)
        empty = False
        if key is not None:
            handle.write(json.dumps(key) + ': ')
        write_json(handle, item, indent, level + 1)
    if not empty:
        handle.write('\n' + ' ' * (indent * level))
    handle.write(closer)


# -- HTML report ------------------------------------------------------------------------------------
ORIGIN_COLORS = {
    'cache': '#2e9d5b',
    'source': '#2f6fd1',
    'already': '#9aa0a6',
    'external': '#b59f7b',
    'failed': '#d93025',
    'skipped': '#f29900',
    None: '#5f6368',
}

HTML_STYLE = '''
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#202124;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #dadce0;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f1f3f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fce8e6}tr.skipped td{background:#fef7e0}
.legend span{display:inline-block;margin-right:1.2em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
code{font-size:.95em}.meta{color:#5f6368}
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#202124}
'''


def _esc(value):
    return html.escape('' if value is None else str(value), quote=True)


def _bar_color(item):
    if item.get('state') in ('failed', 'skipped'):
        return ORIGIN_COLORS[item['state']]
    return ORIGIN_COLORS.get(item.get('origin'), ORIGIN_COLORS[None])


def write_timeline(write, report):
    """An inline SVG Gantt chart of the package installs of one run, in install order.

    Two passes over the packages (the scale needs the longest end first), none kept in memory.
    """
    rows, span = 0, max(report.get('seconds') or 0, 0.001)
    for item in report['packages']:
        if item.get('start') is not None:
            rows += 1
            span = max(span, item['start'] + (item.get('seconds') or 0))
    if not rows:
        write('<p class="meta">No timing data for a timeline.</p>')
        return
    label_w, plot_w, row_h, top = 200, 680, 16, 24
    height = top + row_h * rows + 10
    width = label_w + plot_w + 70
    write('<svg xmlns="http://www.w3.org/2000/svg" role="img" class="timeline" width="%d" height="%d" '
          'viewBox="0 0 %d %d"><title>Package install timeline</title>' % (width, height, width, height))
    for tick in range(6):
        x = label_w + plot_w * tick / 5.0
        write('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e8eaed"/>' % (x, top - 4, x, height - 6))
        write('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, top - 8, _esc(fmt_seconds(span * tick / 5.0))))
    row = 0
    for item in report['packages']:
        if item.get('start') is None:
            continue
        y = top + row * row_h
        row += 1
        x = label_w + plot_w * item['start'] / span
        w = max(2.0, plot_w * (item.get('seconds') or 0) / span)
        label = package_label(item['package'], item.get('version'))
        tip = '%s: %s %s, starts at %s, %s' % (label, item.get('state'), item.get('origin') or '',
                                               fmt_seconds(item['start']), fmt_seconds(item.get('seconds')))
        write('<text x="%d" y="%d" text-anchor="end">%s</text>' % (label_w - 6, y + 11, _esc(label[:32])))
        write('<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s</title></rect>'
              % (x, y + 2, w, row_h - 4, _bar_color(item), _esc(tip)))
    write('</svg>')


def write_html(handle, document):
    """The self-contained HTML report (inline CSS and SVG, no script, no external resource)."""
    write = handle.write
    runs = document['runs']
    write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
          '<meta name="viewport" content="width=device-width, initial-scale=1">'
          '<title>Spack install report</title><style>%s</style></head><body>' % HTML_STYLE)
    write('<h1>Spack install report</h1>')
    write('<p class="meta">Generated %s by research.wizard.progress%s.</p>' % (
        _esc(document['generated']),
        ', playbook <code>%s</code>' % _esc(document['playbook']) if document.get('playbook') else ''))
    write('<table class="summary" id="summary"><thead><tr><th>host</th><th>environment</th><th>total</th>')
    write(''.join('<th>%s</th>' % k for k in COUNT_KEYS))
    write('<th>rc</th><th>time</th><th>cache saved</th></tr></thead><tbody>')
    for run in runs:
        counts = run['counts']
        saved = fmt_seconds(run['cache_saved_seconds']) if run['cache_saved_seconds'] is not None else 'unknown'
        write('<tr class="%s"><td>%s</td><td><code>%s</code></td><td class="num">%s</td>%s'
              '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>' % (
                  'failed' if counts.get('failed') or run['died'] else 'ok',
                  _esc(run['host']), _esc(run['env']), _esc(run['total']),
                  ''.join('<td class="num">%d</td>' % (counts.get(k) or 0) for k in COUNT_KEYS),
                  'died' if run['died'] else _esc(run['rc']), _esc(fmt_seconds(run['seconds'])),
                  _esc(saved)))
    write('</tbody></table>')
    write('<div class="legend">%s</div>' % ''.join(
        '<span><i style="background:%s"></i>%s</span>' % (ORIGIN_COLORS[k], k)
        for k in ('cache', 'source', 'already', 'external', 'failed', 'skipped')))
    for index, run in enumerate(runs):
        write('<h2>%s <span class="meta">%s</span></h2>' % (_esc(run['host']), _esc(run['progress_file'])))
        if run.get('msg'):
            write('<p><strong>%s</strong></p>' % _esc(run['msg']))
        opened = False
        for failure in run['failures']:
            if not opened:
                write('<h3>Failures</h3><ul class="failures">')
                opened = True
            write('<li><code>%s</code>: %s &mdash; log <code>%s</code></li>' % (
                _esc(package_label(failure.get('package'), failure.get('version'))),
                _esc(failure.get('message') or 'failed'), _esc(failure.get('log') or 'none')))
        if opened:
            write('</ul>')
        write('<h3>Timeline</h3>')
        write_timeline(write, run)
        write('<h3>Packages</h3><table class="packages" id="packages-%d"><thead><tr><th>package</th>'
              '<th>version</th><th>hash</th><th>origin</th><th>state</th><th>start</th><th>seconds</th>'
              '<th>recorded build time</th><th>log / message</th></tr></thead><tbody>' % index)
        for item in run['packages']:
            note = item.get('log') or ''
            if item.get('message'):
                note = (note + ' ' if note else '') + item['message']
            recorded = item.get('build_seconds_recorded')
            write('<tr class="%s"><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td>'
                  '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td>%s</td></tr>' % (
                      _esc(item.get('state')), _esc(item['package']), _esc(item.get('version')),
                      _esc((item.get('hash') or '')[:7]), _esc(item.get('origin')), _esc(item.get('state')),
                      _esc(fmt_seconds(item.get('start'))), _esc(fmt_seconds(item.get('seconds'))),
                      _esc(fmt_seconds(recorded) if recorded is not None else ''), _esc(note)))
        write('</tbody></table>')
    write('</body></html>\n')
