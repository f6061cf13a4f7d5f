# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for research.wizard.spack_install in the progress tests: appends the events of a
small install to a progress file over a few seconds, in the format of docs/progress-events.md.

Each line is written in two pieces with a pause between them, so readers meet partial last lines.

usage: fake_install.py PROGRESS_FILE [--step SECONDS] [--log-dir DIR]
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import json
import os
import sys
import time

# (package, version, origin, steps) with steps as (event, seconds of work before it)
PLAN = [
    ('zlib', '1.3.1', 'external', [('installed', 0)]),
    ('libtiny', '1.0', 'already', [('installed', 0)]),
    ('cmake', '3.27.9', 'cache', [('extracting', 0), ('installed', 1)]),
    ('tinycmake', '0.5', 'source', [('fetching', 0), ('building', 1), ('installed', 2)]),
    ('tinybroken', '0.1', 'source', [('fetching', 0), ('building', 1), ('failed', 1)]),
    ('tinyapp', '1.0', None, [('skipped', 0)]),
]


class Writer(object):
    def __init__(self, path, step):
        self.handle = open(path, 'a')
        self.seq = 0
        self.step = step

    def emit(self, event, **fields):
        record = {'ts': round(time.time(), 3), 'event': event, 'seq': self.seq}
        record.update(fields)
        self.seq += 1
        line = json.dumps(record) + '\n'
        cut = len(line) // 2
        self.handle.write(line[:cut])
        self.handle.flush()
        time.sleep(self.step / 20.0)
        self.handle.write(line[cut:])
        self.handle.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('progress_file')
    parser.add_argument('--step', type=float, default=0.5, help='seconds per unit of work')
    parser.add_argument('--log-dir', default='/tmp')
    args = parser.parse_args()

    writer = Writer(args.progress_file, args.step)
    started = time.time()
    total = len(PLAN)
    writer.emit('start', total=total, pid=os.getpid(),
                cmd=['spack', '-e', 'fake', 'install'], env='fake')
    for name, version, _origin, _steps in PLAN:
        writer.emit('queued', package=name, version=version, hash=None, origin=None, seconds=None,
                    index=None, total=None, log=None, message=None)
    totals = {'cache': 0, 'source': 0, 'already': 0, 'external': 0, 'failed': 0, 'skipped': 0}
    for index, (name, version, origin, steps) in enumerate(PLAN, 1):
        first = time.time()
        digest = ('%07x' % (abs(hash(name)) % 0xfffffff))[:7]
        for event, work in steps:
            time.sleep(work * args.step)
            fields = dict(package=name, version=version, hash=digest, origin=origin, seconds=None,
                          index=index, total=total, log=None, message=None)
            if event in ('installed', 'failed'):
                fields['seconds'] = round(time.time() - first, 3)
            if event == 'failed':
                fields['origin'] = origin
                fields['log'] = os.path.join(args.log_dir, '%s-build-out.txt' % name)
                fields['message'] = 'Error: ProcessError: Command exited with status 2'
                # The first error lines of the build log (markup included, to check the report escapes it)
                fields['excerpt'] = ("tinybroken.c:3:1: error: expected ';' before '}' token <b>\n"
                                     "    3 | }\n      | ^")
            if event == 'skipped':
                fields['message'] = 'Skipping build of %s since tinybroken failed' % name
            writer.emit(event, **fields)
            if event == 'installed':
                totals[origin] += 1
            elif event in ('failed', 'skipped'):
                totals[event] += 1
    rc = 1 if totals['failed'] else 0
    writer.emit('finished', rc=rc, seconds=round(time.time() - started, 3), totals=totals)
    return rc


if __name__ == '__main__':
    sys.exit(main())
