# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the research.wizard.progress callback shows on the terminal: one line per package state
change, the live bars (an ANSI scroll region at the bottom of the screen) and the summary table.
Private to the collection: the API may change freely."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil
import sys

from ansible import constants as C

from ansible_collections.research.wizard.plugins.module_utils._progress_state import (
    ACTIVE_STATES,
    COUNT_KEYS,
    package_label,
)
from ansible_collections.research.wizard.plugins.plugin_utils.progress_model import fmt_seconds
from ansible_collections.research.wizard.plugins.plugin_utils.table import RIGHT, format_table

SUMMARY_MAX_FAILURES = 50
EXCERPT_MAX_LINES = 8
LIVE_MAX_HOST_LINES = 8
LIVE_MAX_HEADER_LINES = 3
BAR_WIDTH = 20
ESC = '\x1b'

ACTIVE_TEXT = {'fetching': 'fetching',
               'building': 'building from source',
               'extracting': 'extracting from the binary cache'}
SUMMARY_COLUMNS = ([(0, 'host'), (1, 'total', RIGHT)] + [(2 + i, key, RIGHT) for i, key in enumerate(COUNT_KEYS)]
                   + [(8, 'rc', RIGHT), (9, 'time', RIGHT), (10, 'cache saved')])


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


class PollLines(object):
    """The permanent (text, color) lines of one status result, collected event by event
    (:meth:`RunTracker.take` calls :meth:`add`). ``live``: fetching/building/extracting show in the
    bar only."""

    def __init__(self, tracker, live):
        self.tracker = tracker
        self.live = live
        self.lines = []
        self._queued = 0
        self._queued_at = None

    def add(self, event, record):
        if event.get('event') == 'queued':
            # One line for the queued packages of a poll, where the first of them came.
            self._queued += 1
            if self._queued_at is None:
                self._queued_at = len(self.lines)
                self.lines.append(None)
            return
        self.lines.extend(event_lines(self.tracker, event, record, self.live))

    def end(self):
        """The run ended without a finished event of its own."""
        self.lines.append(finished_line(self.tracker))

    def result(self):
        if self._queued_at is not None:
            self.lines[self._queued_at] = ('%s | %d package%s queued' % (
                self.tracker.host, self._queued, '' if self._queued == 1 else 's'), None)
        return self.lines


def context_text(context):
    """'pack selftest, Spack 1.1.1, target x86_64_v3, install tree /opt/spack' (what is known of it)."""
    context = context or {}
    parts = []
    for key, text in (('domain', 'pack %s'), ('spack_version', 'Spack %s'), ('target', 'target %s'),
                      ('install_tree', 'install tree %s')):
        if context.get(key):
            parts.append(text % context[key])
    return ', '.join(parts)


def excerpt_lines(excerpt, indent):
    """The build log's error excerpt (text, lines joined by newlines), indented, at most EXCERPT_MAX_LINES."""
    if not isinstance(excerpt, str) or not excerpt.strip():
        return []
    lines = excerpt.splitlines()
    shown = [indent + '| ' + line for line in lines[:EXCERPT_MAX_LINES]]
    if len(lines) > EXCERPT_MAX_LINES:
        shown.append(indent + '| ...')
    return shown


def event_lines(tracker, event, record=None, live=False):
    """The (text, color) lines of one event: :func:`event_line`, and below a failure its log's excerpt."""
    line = event_line(tracker, event, record, live)
    if line is None:
        return []
    lines = [line]
    if event.get('event') == 'failed':
        excerpt = event.get('excerpt') or (record.excerpt if record is not None else None)
        lines.extend((text, C.COLOR_ERROR) for text in excerpt_lines(excerpt, '%s |     ' % tracker.host))
    return lines


def event_line(tracker, event, record=None, live=False):
    """The (text, color) line for one event, or None when it is shown in the bar only (``live``)
    or not at all. ``record`` is the package's record after the event (:meth:`RunTracker.apply`)."""
    host = tracker.host
    kind = event.get('event')
    total = tracker.total
    done = min(tracker.done, total) if total else tracker.done
    counter = '[%*d/%s]' % (len(str(total or 0)), done, total if total is not None else '?')
    label = package_label(event.get('package'), event.get('version'))
    origin = event.get('origin') or (record.origin if record else None)
    if kind == 'start':
        details = ['%s package%s' % (total, '' if total == 1 else 's')] if total is not None else []
        if event.get('env'):
            details.append('env %s' % event['env'])
        context = context_text(tracker.context)
        if context:
            details.append(context)
        return ('%s | spack install started%s' % (host, ': ' + ', '.join(details) if details else ''), None)
    if kind == 'finished':
        return finished_line(tracker)
    if kind in ACTIVE_STATES:
        return None if live else ('%s | %s %s %s' % (host, counter, label, ACTIVE_TEXT[kind]), None)
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


def finished_line(tracker):
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


def bar_line(tracker):
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
        eta = tracker.eta()
        parts.append('ETA unknown' if eta is None else 'ETA <1s' if eta < 1 else 'ETA %s' % fmt_seconds(eta))
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


def header_lines(trackers):
    """What is being deployed, above the bars: one line when every host deploys the same (pack,
    Spack version, target, install tree), else one line per host; none while nothing is known."""
    texts = [(tracker.host, context_text(tracker.context)) for tracker in trackers]
    distinct = set(text for _host, text in texts if text)
    if not distinct:
        return []
    if len(distinct) == 1:
        return [distinct.pop()]
    return ['%s: %s' % (host, text) for host, text in texts if text]


def live_lines(trackers):
    """The header, then one bar per host (its current run), at most LIVE_MAX_HOST_LINES lines."""
    lines = [bar_line(tracker) for tracker in trackers]
    if len(lines) > LIVE_MAX_HOST_LINES:
        hidden = lines[LIVE_MAX_HOST_LINES - 1:]
        lines = lines[:LIVE_MAX_HOST_LINES - 1] + ['... and %d more hosts' % len(hidden)]
    header = header_lines(trackers)
    if len(header) > LIVE_MAX_HEADER_LINES:
        header = header[:LIVE_MAX_HEADER_LINES - 1] + ['... and %d more hosts (see the summary)'
                                                       % (len(header) - LIVE_MAX_HEADER_LINES + 1)]
    return header + lines


def _cache_saved(report):
    if report['cache_saved_seconds'] is None:
        return 'unknown' if report['cache_packages'] else '-'
    saved = '~' + fmt_seconds(report['cache_saved_seconds'])
    if report['cache_saved_known'] < report['cache_packages']:
        saved += ' (%d/%d known)' % (report['cache_saved_known'], report['cache_packages'])
    return saved


def summary_lines(reports, report_paths=()):
    """The summary table as (text, color) lines: one row per host and run, then the failures."""
    rows = []
    for report in reports:
        counts = report['counts']
        rows.append((report['host'], str(report['total'] if report['total'] is not None else '?'))
                    + tuple(str(counts.get(k, 0)) for k in COUNT_KEYS)
                    + ('died' if report['died'] else str(report['rc']), fmt_seconds(report['seconds']),
                       _cache_saved(report)))
    table = format_table(rows, SUMMARY_COLUMNS, rule=False)
    lines = [(table[0], None)]
    for text, report in zip(table[1:], reports):
        bad = report['counts'].get('failed') or report['died'] or (report['rc'] not in (0, None))
        lines.append((text, C.COLOR_ERROR if bad else C.COLOR_OK))
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
            lines.extend((line, C.COLOR_ERROR) for line in excerpt_lines(failure.get('excerpt'), '      '))
    if more:
        lines.append(('  ... and %d more failed packages (see the reports)' % more, C.COLOR_ERROR))
    seen = set()
    for report in reports:
        context = context_text(report.get('context'))
        if context and report['host'] not in seen:
            seen.add(report['host'])
            lines.append(('%s: %s' % (report['host'], context), None))
    for report in reports:
        if report['msg']:
            lines.append(('%s: %s' % (report['host'], report['msg']), C.COLOR_WARN))
        if report['events_missed']:
            lines.append(('%s: %d events were not seen live (raise max_events); the summary is complete'
                          % (report['host'], report['events_missed']), None))
    if report_paths:
        lines.append(('reports: %s' % ', '.join(report_paths), None))
    return lines


def interrupt_lines(polling, contexts=None):
    """What to say when the playbook is interrupted (Ctrl-C) while install poll loops run: the installs
    go on in the background. ``polling``: host -> what its last poll told (jid, pid, env, run_id,
    progress_file); ``contexts``: host -> the deployment's pack (for the commands to run)."""
    contexts = contexts or {}
    lines = [('research.wizard.progress: interrupted, but the install goes on in the background on %s:'
              % ', '.join(sorted(polling)), C.COLOR_WARN)]
    domains = set()
    for host in sorted(polling):
        info = polling[host]
        details = []
        for key, text in (('jid', 'job id %s'), ('pid', 'pid %s'), ('env', 'env %s'), ('run_id', 'run %s'),
                          ('progress_file', 'progress file %s')):
            if info.get(key) not in (None, ''):
                details.append(text % info[key])
        lines.append(('  %s: %s' % (host, ', '.join(details) or 'no details known'), C.COLOR_WARN))
        domain = (contexts.get(host) or {}).get('domain')
        if domain:
            domains.add(domain)
    domain = domains.pop() if len(domains) == 1 else 'DOMAIN'
    lines.extend([
        ('  follow it: rerun the same deploy (it attaches to the running install, then counts and pushes'
         ' what it built),', C.COLOR_WARN),
        ('             or ansible-playbook playbooks/status.yml -e domain=%s' % domain, C.COLOR_WARN),
        ('  stop it:   rerun the deploy with -e deploy_cancel=true', C.COLOR_WARN),
    ])
    return lines
