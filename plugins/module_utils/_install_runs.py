# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The install runs of one environment on a host: one lock, one progress file per run, who owns what.

Layout of a run directory (``<data_dir>/runs/<env>/``, docs/progress-events.md "Runs"):

``lock``                 held (fcntl.flock, exclusive) by the spack_install process for its whole install
``<run_id>.json``        the run's meta: run_id, env, pid, pgid, user, host, started, state, rc, ...
``<run_id>.jsonl``       the run's progress events; only that run's spack_install writes it
``<run_id>.heartbeat``   touched by the playbook polling the run (its owner); holds the controller's name
``<run_id>.claimed``     created once (O_CREAT|O_EXCL) by whoever takes the run's results
``<run_id>.cancel``      asks the run to stop (written before its Spack gets SIGTERM)

A run is *active* while its process lives (state ``waiting`` for the lock, ``running`` with it). An
ended run whose results nobody claimed and whose heartbeat is older than the bound has lost its
playbook (Ctrl-C, a lost connection, a cancelled AWX job): the next deploy adopts it, so what it
built is counted, pushed and recorded once. Standard library only (sent to the hosts).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import fcntl
import glob
import json
import os
import pwd
import re
import signal
import socket
import time

from ansible_collections.research.wizard.plugins.module_utils._progress import pid_alive, status
from ansible_collections.research.wizard.plugins.module_utils._progress_state import COUNT_KEYS

RUN_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
ACTIVE = ('waiting', 'running')
ENDED = ('finished', 'cancelled', 'died')


def check_run_id(run_id):
    if not isinstance(run_id, str) or not RUN_ID.match(run_id) or run_id.endswith(('.json', '.jsonl')):
        raise ValueError('run_id %r: use letters, digits, ".", "_" and "-" (for example 20260101T120000Z-a1b2c3)'
                         % (run_id,))
    return run_id


class RunFiles(object):
    """The file names of one run of a run directory."""

    def __init__(self, run_dir, run_id):
        self.run_dir = run_dir
        self.run_id = check_run_id(run_id)
        base = os.path.join(run_dir, run_id)
        self.meta = base + '.json'
        self.progress = base + '.jsonl'
        self.heartbeat = base + '.heartbeat'
        self.claim = base + '.claimed'
        self.cancel = base + '.cancel'

    @classmethod
    def of_progress(cls, progress_file):
        """The run whose progress file this is (``<run_dir>/<run_id>.jsonl``), else None."""
        directory, name = os.path.split(progress_file)
        if not name.endswith('.jsonl'):
            return None
        try:
            return cls(directory, name[:-len('.jsonl')])
        except ValueError:
            return None


def lock_path(run_dir):
    return os.path.join(run_dir, 'lock')


def ensure_dir(path):
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def write_json(path, data):
    """Replace ``path`` with ``data`` atomically (readers never see half a file)."""
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as handle:
        json.dump(data, handle, sort_keys=True)
        handle.write('\n')
    os.rename(tmp, path)


def read_json(path):
    """The JSON object in ``path``, or None when it is missing or not (yet) an object."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def user_name():
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


class EnvLock(object):
    """The environment's install lock: an exclusive flock on ``<run_dir>/lock``, held by one process.

    The kernel drops it when the process ends, however it ends, so a killed install never leaves
    a stale lock behind.
    """

    def __init__(self, run_dir):
        self.path = lock_path(run_dir)
        self._fd = None

    def acquire(self, blocking=True):
        """True once held; False when another process holds it and ``blocking`` is false."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_held(run_dir):
    """Whether a process holds the environment's lock now (probed with a shared, non-blocking flock
    that is let go at once; a missing lock file is a free lock)."""
    try:
        fd = os.open(lock_path(run_dir), os.O_RDONLY)
    except (IOError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    finally:
        os.close(fd)
    return False


def heartbeat(files, owner=None):
    """Touch the run's heartbeat, writing who polls it (controller, playbook pid, user, jid)."""
    data = dict(owner or {}, ts=round(time.time(), 3))
    write_json(files.heartbeat, data)


def _mtime(path):
    try:
        return os.stat(path).st_mtime
    except (IOError, OSError):
        return None


def describe(run_dir, run_id, meta, now, heartbeat_timeout, held):
    """One run as run_info reports it: its meta plus what is true now."""
    files = RunFiles(run_dir, run_id)
    meta = dict(meta or {})
    state = meta.get('state') or 'died'
    alive = pid_alive(meta.get('pid')) or pid_alive(meta.get('spack_pid'))
    if state in ACTIVE and not (alive and (state == 'waiting' or held)):
        state = 'died'   # killed outright: it could not write its end
    beat = _mtime(files.heartbeat)
    owner = read_json(files.heartbeat) or {}
    started = meta.get('started')
    since = beat if beat is not None else started
    age = round(now - since, 1) if isinstance(since, (int, float)) else None
    claim = read_json(files.claim)
    claimed = claim is not None or os.path.exists(files.claim)
    info = dict(meta, run_id=run_id, state=state, alive=alive, progress_file=files.progress, meta_file=files.meta,
                heartbeat_age=age, owner_gone=age is None or age > heartbeat_timeout,
                controller=owner.get('controller'), playbook_pid=owner.get('playbook_pid'),
                controller_user=owner.get('user'), jid=owner.get('jid', meta.get('jid')),
                claimed=claimed, claimed_by=claim, cancel_requested=os.path.exists(files.cancel))
    info['active'] = state in ACTIVE
    info['adoptable'] = (not info['active']) and not claimed and info['owner_gone']
    return info


def list_runs(run_dir, now=None, heartbeat_timeout=30):
    """Every run of ``run_dir`` (oldest first) and the one holding the lock (or None)."""
    now = time.time() if now is None else now
    held = lock_held(run_dir)
    runs = []
    try:
        names = sorted(os.listdir(run_dir))
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        names = []
    for name in names:
        if not name.endswith('.json') or name.startswith('.'):
            continue
        run_id = name[:-len('.json')]
        try:
            check_run_id(run_id)
        except ValueError:
            continue
        runs.append(describe(run_dir, run_id, read_json(os.path.join(run_dir, name)), now, heartbeat_timeout, held))
    runs.sort(key=lambda r: (r.get('started') or 0, r['run_id']))
    holder = None
    if held:
        running = [r for r in runs if r['state'] == 'running']
        holder = running[-1] if running else {'run_id': None, 'state': 'running', 'pid': None,
                                              'progress_file': None, 'active': True}
    return runs, holder


def holder_text(run):
    """``run R (pid P, started T by U@H)``: who holds an environment's lock, for messages."""
    if not run or not run.get('run_id'):
        return 'an install run this host has no record of (lock held, no run file)'
    started = run.get('started')
    when = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(started)) if started else 'at an unknown time'
    where = run.get('controller') or 'an unknown controller'
    text = 'install run %s (pid %s, started %s by %s@%s' % (run['run_id'], run.get('pid'), when,
                                                            run.get('user') or '?', where)
    if run.get('playbook_pid'):
        text += ', playbook pid %s' % run['playbook_pid']
    if run.get('jid'):
        text += ', job %s' % run['jid']
    return text + ')'


# -- the results of runs -----------------------------------------------------------------------

def run_result(files, meta=None):
    """What one run did, from its progress file: rc, counts, packages, failures, elapsed, state."""
    meta = meta if meta is not None else (read_json(files.meta) or {})
    got = status(files.progress, max_events=0, stale_after=0)
    state = meta.get('state')
    if not got['finished']:
        state = 'died'
    cancelled = state == 'cancelled' or os.path.exists(files.cancel)
    return {
        'run_id': files.run_id, 'progress_file': files.progress, 'state': state, 'cancelled': cancelled,
        'rc': got['rc'] if got['finished'] else meta.get('rc'), 'died': not got['finished'],
        'elapsed': got['elapsed'], 'started': got['started'], 'packages': got.get('packages') or [],
    }


def _key(package):
    return (package.get('package'), (package.get('hash') or '')[:7])


PADDED = re.compile(r'\[padded-to-\d+-chars\]')


def real_prefix(shown):
    """The directory of a prefix as Spack prints it: with path padding (config:install_tree:padded_length)
    it shows the placeholder directories as one "[padded-to-N-chars]" component."""
    parts = PADDED.split(shown, 1)
    if len(parts) == 1:
        return shown
    head, tail = parts[0].rstrip('/'), parts[1].strip('/')
    if not head or not tail:
        return None
    found = [p for p in glob.glob(glob.escape(head) + '/**/' + glob.escape(tail), recursive=True) if os.path.isdir(p)]
    return found[0] if len(found) == 1 else None


def install_record(prefix):
    """(seconds since the epoch, from a binary cache?) of the install at PREFIX (as Spack prints it),
    from the metadata Spack writes there, or None."""
    prefix = real_prefix(prefix)
    if not prefix:
        return None
    meta = os.path.join(prefix, '.spack')
    try:
        when = os.stat(meta).st_mtime
    except OSError:
        return None
    return when, os.path.exists(os.path.join(meta, 'binary_distribution'))


def _installed_by_adopted(package, adopted, until, record):
    """The adopted run that installed PACKAGE, which a later run found ``already`` installed although
    that run recorded no end for it (killed between Spack's install and the progress line): its
    prefix was written while that run held the environment's lock. (run, origin) or (None, None)."""
    found = record(package['prefix']) if package.get('prefix') else None
    if not found:
        return None, None
    when, from_cache = found
    for run in reversed(adopted):
        if run.get('started') and run['started'] <= when <= (until or when):
            return run, 'cache' if from_cache else 'source'
    return None, None


def merge(own, adopted, record=install_record):
    """One deploy's results from its own run and the runs it adopted (oldest first).

    A package keeps its latest state, except that a package an adopted run installed (from the
    cache or built) and a later run found ``already`` installed counts as the adopted run's: it was
    installed for this deploy, and is counted (and pushed) once. That holds too when the adopted run
    died before it could record the install (RECORD tells when Spack installed a prefix).
    """
    merged = {}
    order = []
    runs = list(adopted) + ([own] if own else [])
    for position, run in enumerate(runs):
        for package in run['packages']:
            key = _key(package)
            previous = merged.get(key)
            if previous is None:
                order.append(key)
            elif (package.get('state') == 'installed' and package.get('origin') == 'already'
                  and previous.get('state') == 'installed' and previous.get('origin') in ('cache', 'source')):
                continue
            elif package.get('state') not in ('installed', 'failed', 'skipped') and previous.get('state') == 'installed':
                continue
            if package.get('state') == 'installed' and package.get('origin') == 'already' and position > 0:
                by, origin = _installed_by_adopted(package, runs[:position], run.get('started'), record)
                if by is not None:
                    merged[key] = dict(package, origin=origin, run_id=by['run_id'], recorded=False)
                    continue
            merged[key] = dict(package, run_id=run['run_id'])
    packages = [merged[k] for k in order]
    counts = dict((k, 0) for k in COUNT_KEYS)
    for p in packages:
        if p.get('state') == 'installed':
            counts[p.get('origin') if p.get('origin') in counts else 'source'] += 1
        elif p.get('state') in ('failed', 'skipped'):
            counts[p['state']] += 1
    failures = [dict((k, p.get(k)) for k in ('package', 'version', 'hash', 'log', 'message', 'excerpt')
                     if k != 'excerpt' or p.get('excerpt') is not None)
                for p in packages if p.get('state') == 'failed']
    last = own or (adopted[-1] if adopted else None)
    notes = ['install run %s was cancelled; what it installed stays installed' % r['run_id']
             for r in runs if r['cancelled']]
    for run in adopted:
        built = sum(1 for p in run['packages'] if p.get('state') == 'installed' and p.get('origin') in ('cache', 'source'))
        notes.append('adopted install run %s (%s%s, %d installed): its packages count as this deploy\'s'
                     % (run['run_id'], run['state'], ', rc=%s' % run['rc'] if run['rc'] is not None else '', built))
    return {
        'finished': True,
        'rc': last['rc'] if last else 0,
        'died': bool(last and last['died']),
        'cancelled': any(r['cancelled'] for r in runs),
        'run_id': own['run_id'] if own else None,
        'progress_file': own['progress_file'] if own else None,
        'adopted': [dict((k, r[k]) for k in ('run_id', 'state', 'rc', 'progress_file', 'elapsed')) for r in adopted],
        'elapsed': round(sum(r['elapsed'] or 0 for r in runs), 1),
        'counts': counts,
        'cache': counts['cache'], 'source': counts['source'], 'already': counts['already'],
        'external': counts['external'], 'failed_count': counts['failed'], 'skipped_count': counts['skipped'],
        'packages': packages,
        'failures': failures,
        'msg': '; '.join(notes),
    }


def claim(files, by):
    """Take the run's results, once: True when this call created its claim file."""
    try:
        fd = os.open(files.claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except (IOError, OSError) as exc:
        if exc.errno == errno.EEXIST:
            return False
        raise
    with os.fdopen(fd, 'w') as handle:
        json.dump(dict(by or {}, ts=round(time.time(), 3), host=socket.gethostname(), pid=os.getpid()), handle,
                  sort_keys=True)
    return True


# -- stopping a run ----------------------------------------------------------------------------

def _signal(pid, sig, group=False):
    if not pid:
        return False
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except OSError:
        return False
    return True


def _wait_stopped(run_dir, files, run, pgids, bound, clock, sleep):
    """Wait up to ``bound`` s for the run to let go of the lock and end; True when it did."""
    deadline = clock() + bound
    while True:
        meta = read_json(files.meta) or {}
        if not lock_held(run_dir) and (meta.get('state') not in ACTIVE or not pid_alive(run.get('pid'))):
            return True
        if clock() >= deadline:
            return False
        if meta.get('pgid') and meta['pgid'] not in pgids:
            # Spack started after the first look (the install was waiting for the lock): stop it too.
            pgids.append(meta['pgid'])
            _signal(meta['pgid'], signal.SIGTERM, group=True)
            _signal(meta['pgid'], signal.SIGCONT, group=True)
        sleep(0.2)


def cancel(run_dir, run, by=None, timeout=60.0, kill_after=10.0, clock=time.time, sleep=time.sleep):
    """Stop an active run cleanly: mark it, SIGTERM (and SIGCONT) its Spack's process group (or the
    install process before Spack started), wait for the lock to be let go; SIGKILL both after
    ``timeout`` s.

    Returns ``(stopped, how)``: how is ``term`` or ``kill``.
    """
    files = RunFiles(run_dir, run['run_id'])
    write_json(files.cancel, dict(by or {}, ts=round(clock(), 3)))
    pgids = [run['pgid']] if run.get('pgid') else []
    if pgids and _signal(pgids[0], signal.SIGTERM, group=True):
        # A stopped Spack (Ctrl-Z, a debugger) only acts on SIGTERM once it runs again.
        _signal(pgids[0], signal.SIGCONT, group=True)
    else:
        _signal(run.get('pid'), signal.SIGTERM)
    if _wait_stopped(run_dir, files, run, pgids, timeout, clock, sleep):
        return True, 'term'
    for pgid in pgids:
        _signal(pgid, signal.SIGKILL, group=True)
    _signal(run.get('pid'), signal.SIGKILL)
    return _wait_stopped(run_dir, files, run, pgids, kill_after, clock, sleep), 'kill'


def prune(run_dir, keep, active_ids=()):
    """Remove the files of the oldest claimed, ended runs, keeping the newest ``keep`` runs."""
    runs, _holder = list_runs(run_dir)
    removable = [r for r in runs if r['claimed'] and not r['active'] and r['run_id'] not in active_ids]
    removed = []
    for run in removable[:max(0, len(runs) - keep)]:
        files = RunFiles(run_dir, run['run_id'])
        for path in (files.progress, files.heartbeat, files.cancel, files.claim, files.meta):
            try:
                os.unlink(path)
            except OSError:
                pass
        removed.append(run['run_id'])
    return removed


class LockBusy(Exception):
    """The environment's lock is held by another run and the caller would not wait."""

    def __init__(self, holder):
        super(LockBusy, self).__init__(holder_text(holder))
        self.holder = holder


class Cancelled(Exception):
    """The run was asked to stop (SIGTERM) before its Spack started."""


class RunRecord(object):
    """The writer's side of one run: its meta file and the environment's lock, for spack_install.

    ``begin`` writes the meta (state ``waiting``), takes the lock - waiting for it, with ``waiting``
    and ``locked`` progress events, unless ``lock_wait`` is false - and marks the run ``running``;
    ``spack_started`` records Spack's pid and process group (what a cancel signals); ``end`` writes
    the final state. The lock's file descriptor is passed to Spack (``fds``), so the lock is held for
    as long as any process of the install lives, even if this one is killed.
    """

    def __init__(self, run_dir, run_id, env=None, lock_wait=True, owner=None):
        ensure_dir(run_dir)
        self.files = RunFiles(run_dir, run_id)
        self.run_dir = run_dir
        self.lock_wait = lock_wait
        self.lock = EnvLock(run_dir)
        self.meta = dict(owner or {}, run_id=run_id, env=env, pid=os.getpid(), pgid=None, spack_pid=None,
                         user=user_name(), host=socket.gethostname(), started=round(time.time(), 3),
                         progress_file=self.files.progress, state='waiting', rc=None, ended=None)

    def _save(self, **changes):
        self.meta.update(changes)
        write_json(self.files.meta, self.meta)

    def begin(self, write_event):
        self._save()
        if not self.lock.acquire(blocking=False):
            _runs, holder = list_runs(self.run_dir)
            if not self.lock_wait:
                os.unlink(self.files.meta)
                raise LockBusy(holder)
            write_event({'event': 'waiting', 'holder': dict((k, (holder or {}).get(k)) for k in (
                'run_id', 'pid', 'user', 'controller', 'started', 'progress_file')),
                'message': 'waiting for the lock of this environment: %s is running' % holder_text(holder)})
            self.lock.acquire(blocking=True)
            write_event({'event': 'locked'})
        self._save(state='running')

    @property
    def fds(self):
        return (self.lock._fd,) if self.lock._fd is not None else ()

    def spack_started(self, proc):
        self._save(spack_pid=proc.pid, pgid=proc.pid)

    def cancel_requested(self):
        return os.path.exists(self.files.cancel)

    def end(self, rc, cancelled=False, totals=None):
        self._save(state='cancelled' if cancelled else 'finished', rc=rc, ended=round(time.time(), 3),
                   totals=totals)

    def release(self):
        self.lock.release()
