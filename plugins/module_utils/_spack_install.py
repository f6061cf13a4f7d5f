# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One `spack install` process, watched line by line: progress events, per-package results, retries.

AnsibleModule.run_command only returns when the command ends; progress has to be reported while
Spack runs, so this reads Spack's output as it comes (subprocess with two reader threads). The command
line itself comes from the command table, through Spack.argv('install', ...).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import signal
import subprocess
import threading
import time

from ansible_collections.research.wizard.plugins.module_utils._install_runs import Cancelled, LockBusy
from ansible_collections.research.wizard.plugins.module_utils._spack_install_output import InstallOutputParser
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import build_log_excerpt, error_summary

ORIGINS = ('cache', 'source', 'already', 'external')


class ProgressWriter(object):
    """Writes events (docs/progress-events.md) to a JSON-lines file, one flushed line each; the file
    holds one install run, so it is emptied when the run starts. ``exclusive``: the file must not
    exist yet (a run's own file: never written by two processes)."""

    def __init__(self, path, exclusive=False):
        self.path = path
        self.seq = 0
        self._fh = None
        if path:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                os.makedirs(directory)
            self._fh = open(path, 'x' if exclusive else 'w')
        self._lock = threading.Lock()

    def write(self, event):
        event = dict(event, ts=round(time.time(), 3), seq=self.seq)
        self.seq += 1
        if self._fh:
            with self._lock:
                self._fh.write(json.dumps(event, sort_keys=True) + '\n')
                self._fh.flush()
        return event

    def close(self):
        if self._fh:
            self._fh.close()


class InstallRun(object):
    """Runs `cmd` once, feeding every output line to the parser and the progress file."""

    def __init__(self, cmd, environ, writer, record=None):
        self.cmd = cmd
        self.environ = environ
        self.writer = writer
        self.record = record  # _install_runs.RunRecord of a run with a lock, or None
        self.proc = None
        self.parser = InstallOutputParser()
        self.started = {}     # nvh -> first event time
        self.packages = {}    # hash -> result
        self.stdout = []
        self.stderr = []
        self._lock = threading.Lock()

    def _on_line(self, line, sink):
        with self._lock:
            sink.append(line.rstrip('\n'))
            for ev in self.parser.feed(line):
                self._emit(ev)

    def _emit(self, ev):
        key = '%s-%s-%s' % (ev['package'], ev['version'], ev['hash'])
        now = time.time()
        first = self.started.setdefault(key, now)
        if ev['event'] in ('installed', 'failed'):
            ev['seconds'] = round(now - first, 3) if ev.get('origin') not in ('already', 'external') else 0.0
        if ev['event'] == 'failed' and ev.get('log'):
            # The compiler's (make's, CMake's...) own words, not only Spack's ProcessError.
            ev['excerpt'] = build_log_excerpt(ev['log'])
        self.writer.write(ev)
        self._record(ev)

    def _record(self, ev):
        if ev['event'] not in ('installed', 'failed', 'skipped'):
            return
        self.packages[ev['hash']] = {
            'name': ev['package'], 'version': ev['version'], 'hash': ev['hash'],
            'status': ev['event'], 'origin': ev.get('origin'), 'seconds': ev.get('seconds'),
            'log': ev.get('log'), 'message': ev.get('message'), 'prefix': ev.get('prefix'),
            'excerpt': ev.get('excerpt'),
        }

    def run(self):
        # stdin: a pipe nothing writes to, held open until Spack exits. Spack 1.x's new installer
        # (config:installer:new, the default from 1.2) polls stdin with epoll, which refuses
        # /dev/null ("[Errno 1] Operation not permitted"); a closed pipe would read as EOF forever.
        # A run with a lock: Spack gets a session (and process group) of its own, which a cancel
        # signals as a whole, and the lock's descriptor, so the lock lasts as long as Spack does.
        extra = dict(start_new_session=True, pass_fds=self.record.fds) if self.record else {}
        proc = subprocess.Popen(self.cmd, env=self.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.PIPE, universal_newlines=True, bufsize=1, **extra)
        self.proc = proc
        if self.record:
            self.record.spack_started(proc)
        readers = [threading.Thread(target=self._pump, args=(proc.stdout, self.stdout)),
                   threading.Thread(target=self._pump, args=(proc.stderr, self.stderr))]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        rc = proc.wait()
        proc.stdin.close()
        with self._lock:
            for ev in self.parser.close():
                self._emit(ev)
        return rc

    def _pump(self, stream, sink):
        for line in iter(stream.readline, ''):
            self._on_line(line, sink)
        stream.close()

    def finish_origins(self):
        """Trust the install metadata over the log text: Spack marks binary-cache installs on disk."""
        for nvh, prefix in self.parser.prefix.items():
            result = self.packages.get(nvh.rsplit('-', 1)[-1])
            if result and result['status'] == 'installed' and result['origin'] in (None, 'source'):
                if os.path.exists(os.path.join(prefix, '.spack', 'binary_distribution')):
                    result['origin'] = 'cache'
                result['prefix'] = prefix


def totals(packages):
    out = dict((k, 0) for k in ORIGINS + ('failed', 'skipped'))
    for p in packages:
        if p['status'] == 'installed':
            out[p['origin'] or 'source'] += 1
        else:
            out[p['status']] += 1
    return out


def _unlink(path):
    try:
        os.unlink(path)
    except (OSError, TypeError):
        pass


class _Terminator(object):
    """SIGTERM while the run waits for the lock ends it (Cancelled); while Spack runs it is passed on
    to Spack's process group, and the run ends when Spack does."""

    def __init__(self):
        self.run = None
        self.requested = False
        self._previous = None

    def __enter__(self):
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)

    def _handle(self, signum, frame):
        self.requested = True
        proc = self.run.proc if self.run else None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
            return
        raise Cancelled()


def install(cmd, environ, progress_file=None, retries=0, backoff=2.0, total=None, env=None, sleep=time.sleep,
            record=None):
    """Run the install, retrying transient failures only. Returns a result dict.

    Transient is _spack_parse.is_transient: a connection to a server that exists failed. A source
    that no mirror has (and whose upstream URL is unreachable, as offline) is not retried, nor is
    a build failure: the same command would fail the same way.

    ``record``: an ``_install_runs.RunRecord``: the run takes the environment's lock first (and
    writes its meta); a cancelled run (``<run_id>.cancel``, SIGTERM) is not retried and ends with
    ``cancelled`` in its ``finished`` event. ``LockBusy`` is raised when the lock is held and the
    record does not wait.
    """
    writer = ProgressWriter(progress_file, exclusive=record is not None)
    t0 = time.time()
    packages = {}
    attempts = 0
    run = None
    rc = None
    summary = None
    terminator = _Terminator()
    try:
        start = {'event': 'start', 'total': total, 'pid': os.getpid(), 'cmd': cmd, 'env': env}
        if record:
            start['run_id'] = record.files.run_id
        writer.write(start)
        with terminator:
            try:
                if record:
                    try:
                        record.begin(writer.write)
                    except LockBusy:
                        # This run never started: no file of it stays behind.
                        writer.close()
                        _unlink(progress_file)
                        raise
                while True:
                    attempts += 1
                    run = InstallRun(cmd, environ, writer, record)
                    terminator.run = run
                    rc = run.run()
                    run.finish_origins()
                    for h, p in run.packages.items():
                        # A retry reports what the first attempt installed as "already": keep the first.
                        if h not in packages or packages[h]['status'] != 'installed':
                            packages[h] = p
                    summary = error_summary('\n'.join(run.stderr), '\n'.join(run.stdout)) if rc else None
                    build_failed = any(p['status'] == 'failed' and p['log'] for p in run.packages.values())
                    stop = terminator.requested or (record is not None and record.cancel_requested())
                    if rc == 0 or attempts > retries or not summary['transient'] or build_failed or stop:
                        break
                    sleep(backoff * 2 ** (attempts - 1))
            except Cancelled:
                attempts = max(attempts, 1)
                rc = -signal.SIGTERM
        cancelled = terminator.requested or (record is not None and record.cancel_requested())
        if run is None:
            summary = {'kind': 'cancelled', 'error': 'cancelled while waiting for the lock', 'transient': False}
        elif cancelled and rc:
            summary = {'kind': 'cancelled', 'error': 'cancelled (SIGTERM)', 'transient': False}
        results = sorted(packages.values(), key=lambda p: (p['name'], p['hash']))
        result = {
            'rc': rc, 'attempts': attempts, 'seconds': round(time.time() - t0, 3),
            'packages': results, 'totals': totals(results), 'cancelled': cancelled,
            'stdout': '\n'.join(run.stdout) if run else '', 'stderr': '\n'.join(run.stderr) if run else '',
            'summary': summary,
        }
        finished = {'event': 'finished', 'rc': rc, 'seconds': result['seconds'], 'totals': result['totals']}
        if cancelled:
            finished['cancelled'] = True
        writer.write(finished)
        if record:
            record.end(rc, cancelled=cancelled, totals=result['totals'])
        return result
    finally:
        writer.close()
        if record:
            record.release()
