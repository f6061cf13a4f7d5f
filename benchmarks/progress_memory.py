# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory of the research.wizard.progress callback over replayed installs of 1,000 to 5,000 packages.

  .venv/bin/python benchmarks/progress_memory.py [--sizes 1000,2000,5000] [--baseline REV]

For each size, a synthetic install stream in the format of docs/progress-events.md (the whole plan
queued at the start, then 4 packages at a time: 80 % from the binary cache, 15 % built from source,
2 % external, 1 % already installed, 1 % failed, 1 % skipped) is written to a
progress file and read back the way a polling loop does: spack_install_status's reader
(module_utils/_progress.py) after every 10 packages, continuing from the previous poll's
`next_since`, at most 200 events per poll, and the complete package list in the final result.

The results are prepared first and kept as JSON text; inside the measurement each one is decoded
and handed to the callback as `v2_runner_retry` (the last as `v2_runner_on_ok`), as Ansible hands
the callback a fresh result per poll. tracemalloc counts what the callback keeps:
  - during the stream, after every 1,000 packages;
  - after the final result (the complete package list goes to the callback's spool file);
  - the peak while it prints the summary and writes the JSON and HTML reports (streamed from the spool),
    without and with the build-time history (the history keeps one entry per package ever built from
    source, at most 5,000: it grows with the distinct source builds, up to that cap).
Apart from these, the HTML report's Jinja2 template is compiled once per process, on the first report
(a fixed cost, whatever the packages): its peak and what it keeps are printed on a line of their own,
and each replay compiles it before measuring, so the figures above leave it out.
`--baseline REV` also replays the stream through the callback of that git revision, for comparison.
"""
import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
sys.path.append(os.path.join(ROOT, 'tests'))

POLL_EVERY = 10       # packages between two polls
PARALLEL = 4          # packages worked on at once
MAX_EVENTS = 200      # the status module's default


def plan(count):
    """(name, version, origin, fate) per package; fate is installed, failed or skipped."""
    out = []
    for i in range(count):
        roll = i % 100
        origin = 'cache' if roll < 80 else 'source' if roll < 95 else 'already' if roll < 98 else 'external'
        fate = 'failed' if roll == 96 else 'skipped' if roll == 97 else 'installed'
        out.append(('pkg-%05d' % i, '1.%d' % (i % 7), origin, fate))
    return out


def stream(count, t0):
    """Yield (events, packages_done) in chunks of POLL_EVERY packages."""
    packages = plan(count)
    ts = [t0]

    def event(kind, **fields):
        ts[0] += 0.05
        return dict(fields, event=kind, ts=round(ts[0], 3))

    yield [event('start', total=count, pid=4242, cmd=['spack', 'install'], env='/envs/bench')] + [
        event('queued', package=n, version=v) for n, v, _o, _f in packages], 0
    totals = dict(cache=0, source=0, already=0, external=0, failed=0, skipped=0)
    for first in range(0, count, POLL_EVERY):
        chunk = []
        for group in range(first, min(first + POLL_EVERY, count), PARALLEL):
            batch = packages[group:group + PARALLEL]
            for name, version, origin, fate in batch:
                if fate == 'skipped':
                    continue
                if origin == 'cache':
                    chunk.append(event('extracting', package=name, version=version, origin='cache', hash='h' * 32))
                elif origin == 'source':
                    chunk.append(event('fetching', package=name, version=version))
                    chunk.append(event('building', package=name, version=version, origin='source'))
            for name, version, origin, fate in batch:
                if fate == 'skipped':
                    chunk.append(event('skipped', package=name, version=version,
                                       message='Skipping build of %s since a dependency failed' % name))
                    totals['skipped'] += 1
                elif fate == 'failed':
                    chunk.append(event('failed', package=name, version=version, origin=origin, seconds=3.0,
                                       log='/tmp/stage/%s/spack-build-out.txt' % name,
                                       message='Error: ProcessError: Command exited with status 2'))
                    totals['failed'] += 1
                else:
                    chunk.append(event('installed', package=name, version=version, origin=origin, hash='h' * 32,
                                       seconds=0.0 if origin in ('already', 'external') else 2.5))
                    totals[origin] += 1
        done = min(first + POLL_EVERY, count)
        if done == count:
            chunk.append(event('finished', rc=1, seconds=round(ts[0] - t0, 3), totals=totals))
        yield chunk, done


def prepare(count, work, progress):
    """The poll results of one replayed install, as JSON text, with the package count after each."""
    path = os.path.join(work, 'progress-%d.jsonl' % count)
    reader = progress.ProgressReader(path)
    since, results = None, []
    seq = 0
    t0 = time.time() - 3600
    with open(path, 'w') as handle:
        for events, done in stream(count, t0):
            for event in events:
                event['seq'] = seq
                seq += 1
                handle.write(json.dumps(event, sort_keys=True) + '\n')
            handle.flush()
            reader.refresh()
            data = progress.status(path, since=since, max_events=MAX_EVENTS, now=events[-1]['ts'] + 0.1,
                                   reader=reader)
            since = data['next_since']
            data.update(changed=False, failed=False)
            results.append((json.dumps(data), done))
    os.unlink(path)
    return results


def make_callback(module, work, history):
    from helpers.progress_replay import FakeDisplay, new_callback

    return new_callback(display=FakeDisplay(keep=False), module=module, mode='plain', reports=True,
                        summary=True, report_dir=os.path.join(work, 'reports'), history_file=history)


def load_baseline(revision):
    """The callback module as it was at a git revision, for the side-by-side figures."""
    source = subprocess.check_output(['git', '-C', ROOT, 'show', '%s:plugins/callback/progress.py' % revision])
    module = types.ModuleType('wizard_progress_baseline')
    exec(compile(source, 'progress.py@%s' % revision, 'exec'), module.__dict__)
    return module


def replay(results, callback):
    """Feed the results; returns (memory after every 1,000 packages of the stream, after the final
    result, peak while writing the summary and reports)."""
    from helpers.progress_replay import FakeResult

    marks = {}
    tracemalloc.start()
    for index, (text, done) in enumerate(results):
        data = json.loads(text)
        if index < len(results) - 1:
            callback.v2_runner_retry(FakeResult('bench-host', data))
        else:
            callback.v2_runner_on_ok(FakeResult('bench-host', data))
        # The result itself is Ansible's (and holds every failure so far): only what the callback
        # keeps of it counts.
        del data
        if index < len(results) - 1 and done and done % 1000 == 0 and done not in marks:
            # Count what is kept, not garbage a collection has not reached yet.
            gc.collect()
            marks[done] = tracemalloc.get_traced_memory()[0]
    gc.collect()
    after_final = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    before_reports = tracemalloc.get_traced_memory()[0]
    callback.v2_playbook_on_stats(None)
    reports_peak = tracemalloc.get_traced_memory()[1] - before_reports
    tracemalloc.stop()
    return marks, after_final, reports_peak


def measure_template():
    """The compilation of the HTML report's template (done once per process, on the first report)."""
    from ansible_collections.research.wizard.plugins.plugin_utils import progress_report

    environment = progress_report.html_environment()
    tracemalloc.start()
    template = environment.get_template(progress_report.HTML_TEMPLATE)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del template
    return {'kept': kept, 'peak': peak}


def measure_one(count, variant):
    """One replay in this process: `variant` is `history`, `no-history`, `baseline:REV` or `template`
    (then no replay, see measure_template)."""
    if variant == 'template':
        return measure_template()
    from ansible_collections.research.wizard.plugins.callback import progress as callback_module
    from ansible_collections.research.wizard.plugins.module_utils import _progress as progress
    from ansible_collections.research.wizard.plugins.plugin_utils import progress_report

    progress_report.html_template()  # a fixed cost per process, measured on its own (measure_template)
    work = tempfile.mkdtemp(prefix='wizard-memory-')
    try:
        results = prepare(count, work, progress)
        if variant.startswith('baseline:'):
            callback = make_callback(load_baseline(variant.split(':', 1)[1]), work, '')
        else:
            history = os.path.join(work, 'history.json') if variant == 'history' else ''
            callback = make_callback(callback_module, work, history)
        marks, after_final, reports_peak = replay(results, callback)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {'marks': marks, 'final': after_final, 'reports': reports_peak}


def measure(count, variant):
    """measure_one in a fresh interpreter: allocator free lists and caches filled by an earlier
    replay would otherwise blur the figures by tens of KiB."""
    out = subprocess.check_output([sys.executable, os.path.abspath(__file__), '--one', str(count), variant],
                                  universal_newlines=True)
    data = json.loads(out)
    if 'marks' in data:
        data['marks'] = dict((int(k), v) for k, v in data['marks'].items())
    return data


def kib(value):
    return '%.1f KiB' % (value / 1024.0)


def stream_line(label, marks):
    first, last = min(marks), max(marks)
    return '%s: %s (ratio %d/%d: %.2f)' % (label, ', '.join(
        '%d: %s' % (done, kib(value)) for done, value in sorted(marks.items())),
        last, first, marks[last] / float(marks[first]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--sizes', default='1000,2000,5000', help='package counts, comma-separated')
    parser.add_argument('--baseline', metavar='REV',
                        help='also replay the largest stream through the callback of this git revision')
    parser.add_argument('--one', nargs=2, metavar=('COUNT', 'VARIANT'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(int(args.one[0]), args.one[1])))
        return

    rows = []
    for count in sorted(int(s) for s in args.sizes.split(',')):
        row = measure(count, 'no-history')
        row.update(count=count, reports_history=measure(count, 'history')['reports'])
        rows.append(row)
    largest, smallest = rows[-1], rows[0]
    print('research.wizard.progress callback memory (tracemalloc: bytes allocated since the replay began and still held);')
    print('a poll every %d packages, at most %d events per poll' % (POLL_EVERY, MAX_EVENTS))
    print(stream_line('during the %d-package stream, after n packages' % largest['count'], largest['marks']))
    if args.baseline:
        baseline = measure(largest['count'], 'baseline:' + args.baseline)
        print(stream_line('  the same through the callback of %s' % args.baseline, baseline['marks']))
    print('%8s  %14s  %18s  %24s' % ('packages', 'after final', 'reports peak', 'reports peak + history'))
    for row in rows:
        cells = (row['count'], kib(row['final']), kib(row['reports']), kib(row['reports_history']))
        print('%8d  %14s  %18s  %24s' % cells)
    print('ratio %d / %d packages: after final %.2f, reports peak %.2f, reports peak with history %.2f' % (
        largest['count'], smallest['count'], largest['final'] / float(smallest['final']),
        largest['reports'] / float(smallest['reports']),
        largest['reports_history'] / float(smallest['reports_history'])))
    template = measure(0, 'template')
    print('HTML template, compiled once per process on the first report (not in the figures above): peak %s, kept %s'
          % (kib(template['peak']), kib(template['kept'])))


if __name__ == '__main__':
    main()
