# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The research.wizard.progress callback's reports: a JSON document and a self-contained HTML page
(templates/progress_report.html.j2, Jinja2 with autoescape), both streamed from the runs' spools
so that writing them does not hold every package in memory. Private to the collection."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import functools
import json
import os
import time

from jinja2 import Environment, FileSystemLoader

from ansible_collections.research.wizard.plugins.module_utils._progress_state import COUNT_KEYS, package_label
from ansible_collections.research.wizard.plugins.plugin_utils.progress_model import fmt_seconds

REPORT_FORMAT = 1
GENERATOR = 'research.wizard.progress'
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')
HTML_TEMPLATE = 'progress_report.html.j2'

ORIGIN_COLORS = {
    'cache': '#2e9d5b',
    'source': '#2f6fd1',
    'already': '#9aa0a6',
    'external': '#b59f7b',
    'failed': '#d93025',
    'skipped': '#f29900',
    None: '#5f6368',
}
LEGEND = ('cache', 'source', 'already', 'external', 'failed', 'skipped')


def write_reports(reports, report_dir, playbook, playbook_start):
    """Write ``install-report-<stamp>.json`` and ``.html`` for these run reports in ``report_dir``
    (created when missing). Returns the two paths."""
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
        'generator': GENERATOR,
        'generated': datetime.datetime.fromtimestamp(now).isoformat(),
        'playbook': playbook,
        'playbook_seconds': round(now - playbook_start, 1),
        'runs': reports,
    }
    with open(base + '.json', 'w') as handle:
        write_json(handle, document)
        handle.write('\n')
    with open(base + '.html', 'w') as handle:
        write_html(handle, document)
    return [base + '.json', base + '.html']


class _StreamedArray(list):
    """A JSON array whose items come from an iterable one at a time, for ``JSONEncoder.iterencode``.

    The pure-Python encoder (``iterencode`` always uses it) takes any list and walks it with
    ``for``: this empty list hands it the iterable's items instead, and is true while there is one.
    """

    _NOTHING = object()

    def __init__(self, iterable):
        list.__init__(self)
        self._items = iter(iterable)
        self._first = next(self._items, self._NOTHING)

    def __bool__(self):
        return self._first is not self._NOTHING

    def __iter__(self):
        if self:
            yield self._first
            yield from self._items


def _streamed(value):
    if not hasattr(value, '__iter__'):
        raise TypeError('Object of type %s is not JSON serializable' % type(value).__name__)
    return _StreamedArray(value)


def write_json(handle, document):
    """``json.dump(document, handle, indent=1, sort_keys=True)``, except that an iterable that is
    neither list nor dict (the spooled packages, a Reiterable) is streamed item by item instead of
    being built in memory first."""
    for chunk in json.JSONEncoder(indent=1, sort_keys=True, default=_streamed).iterencode(document):
        handle.write(chunk)


class Timeline(object):
    """The geometry of a run's inline SVG Gantt chart: one bar per timed package, in install order.

    Two passes over the packages (the scale needs the longest end first), none kept in memory.
    """

    LABEL_W, PLOT_W, ROW_H, TOP = 200, 680, 16, 24

    def __init__(self, report):
        self.packages = report['packages']
        self.rows, self.span = 0, max(report.get('seconds') or 0, 0.001)
        for item in self.packages:
            if item.get('start') is not None:
                self.rows += 1
                self.span = max(self.span, item['start'] + (item.get('seconds') or 0))
        self.height = self.TOP + self.ROW_H * self.rows + 10
        self.width = self.LABEL_W + self.PLOT_W + 70

    def ticks(self):
        for tick in range(6):
            yield {'x': '%.1f' % (self.LABEL_W + self.PLOT_W * tick / 5.0), 'y1': self.TOP - 4,
                   'y2': self.height - 6, 'text_y': self.TOP - 8, 'label': fmt_seconds(self.span * tick / 5.0)}

    def bars(self):
        row = 0
        for item in self.packages:
            if item.get('start') is None:
                continue
            y = self.TOP + row * self.ROW_H
            row += 1
            label = package_label(item['package'], item.get('version'))
            if item.get('state') in ('failed', 'skipped'):
                color = ORIGIN_COLORS[item['state']]
            else:
                color = ORIGIN_COLORS.get(item.get('origin'), ORIGIN_COLORS[None])
            yield {
                'label': label[:32], 'label_x': self.LABEL_W - 6, 'text_y': y + 11, 'y': y + 2,
                'h': self.ROW_H - 4, 'color': color,
                'x': '%.1f' % (self.LABEL_W + self.PLOT_W * item['start'] / self.span),
                'w': '%.1f' % max(2.0, self.PLOT_W * (item.get('seconds') or 0) / self.span),
                'tip': '%s: %s %s, starts at %s, %s' % (
                    label, item.get('state'), item.get('origin') or '', fmt_seconds(item['start']),
                    fmt_seconds(item.get('seconds'))),
            }


def html_environment():
    """Jinja2 with autoescape: names, logs and messages come from the build and may hold markup."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True,
                              finalize=lambda value: '' if value is None else value)
    environment.filters['seconds'] = fmt_seconds
    environment.filters['label'] = package_label
    return environment


@functools.lru_cache(maxsize=None)
def html_template():
    """The report's template, compiled on first use (~40 ms, a ~0.9 MiB peak in CPython's compiler):
    a playbook that writes no HTML report, or fails before the end, never pays for it."""
    return html_environment().get_template(HTML_TEMPLATE)


def write_html(handle, document):
    """The self-contained HTML report (inline CSS and SVG, no script, no external resource)."""
    for chunk in html_template().generate(document=document, count_keys=COUNT_KEYS, legend=LEGEND,
                                          colors=ORIGIN_COLORS, timeline=Timeline):
        handle.write(chunk)
