#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_install
short_description: Install a Spack environment (or specs) in one Spack process, cache-first, with live progress
version_added: 0.1.0
description:
  - Runs ONE C(spack install) for a whole environment (or the given specs), so Spack's own parallelism
    and locking apply, and follows its output line by line.
  - With O(progress_file), writes one JSON line per package state change (queued, fetching, building,
    extracting, installed, failed, skipped) while Spack runs. Start it with C(async) and C(poll=0) and
    poll M(research.wizard.spack_install_status) to see progress live (see EXAMPLES).
  - Returns per-package results with their origin (binary cache, built from source, already installed,
    external) and totals. Reports C(changed=false) when nothing was installed.
  - Retries the whole install (Spack skips what is already installed) after transient failures only —
    fetch and connection errors — with exponential backoff; never after a build error.
  - In check mode, returns the plan instead - the concrete specs that are missing and, where the binary
    caches can tell, which of them a cache has.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  check_mode:
    details: Returns the plan (missing specs, and which a binary cache has) without installing.
  diff_mode:
    support: none
options:
  env:
    description: Name of a managed environment to install. One of O(env), O(env_path) or O(specs) is required.
    type: str
  env_path:
    description: Directory of an environment to install.
    type: path
  specs:
    description: Specs to install outside any environment.
    type: list
    elements: str
  use_buildcache:
    description:
      - V(auto) takes a package from a binary cache when one has it and builds it otherwise;
        V(only) installs from binary caches only (build-only dependencies are skipped);
        V(never) always builds from source.
    type: str
    choices: [auto, only, never]
    default: auto
  jobs:
    description: Parallel build jobs per package (C(spack install -j)).
    type: int
  fail_fast:
    description: Stop at the first failed package. By default Spack installs everything that does not depend on a failure.
    type: bool
    default: false
  check_signature:
    description: Verify binary-cache signatures. V(false) passes C(--no-check-signature).
    type: bool
    default: true
  retries:
    description: How many times to retry after a transient (fetch or connection) failure.
    type: int
    default: 0
  retry_delay:
    description: Seconds before the first retry; doubled for each further one.
    type: float
    default: 5
  progress_file:
    description:
      - JSON-lines file to write progress events to (format in the collection's C(docs/progress-events.md)).
      - It is emptied when the install starts; its directory is created when missing.
      - With O(run_dir), the run's own file C(<run_dir>/<run_id>.jsonl); another path is an error.
    type: path
  run_dir:
    description:
      - The run directory of the environment (the domain_pack role uses C(<data_dir>/runs/<env>)), for
        one install per environment at a time (see C(docs/progress-events.md), "Runs").
      - The install takes the lock C(<run_dir>/lock) (an exclusive C(flock)) before Spack starts and holds
        it until Spack and all its processes have ended; Spack also keeps it when this module is
        killed. When another run holds it, the install waits (O(lock_wait)), writing a C(waiting)
        progress event that names the holder, then a C(locked) event.
      - Writes the run's meta C(<run_dir>/<run_id>.json) (pid, Spack's process group, user, host,
        start, state C(waiting), C(running), C(finished) or C(cancelled), rc), read by
        M(research.wizard.spack_install_run_info), and its progress to C(<run_dir>/<run_id>.jsonl),
        which must not exist yet.
      - Spack runs in a session of its own. SIGTERM to it (M(research.wizard.spack_install_run)
        O(research.wizard.spack_install_run#module:state=cancelled)) ends the run as C(cancelled),
        never retried.
    type: path
  run_id:
    description:
      - The run's name in O(run_dir), made by the caller before the install starts (so a poller knows
        the progress file at once); letters, digits, C(.), C(_) and C(-). Required with O(run_dir).
    type: str
  lock_wait:
    description:
      - With O(run_dir), whether to wait for another run that holds the environment's lock. V(false)
        fails at once, naming the run that holds it.
    type: bool
    default: true
notes:
  - Spack prints its progress as text; the lines this module understands are listed in the collection's
    C(plugins/module_utils/_spack_parse.py) and tested against recorded output of real Spack. Whether a
    package came from a binary cache is confirmed from Spack's install metadata on disk.
seealso:
  - module: research.wizard.spack_install_status
  - module: research.wizard.spack_env
  - module: research.wizard.spack_buildcache
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Install the chemistry environment, cache first
  research.wizard.spack_install:
    env: chemistry
    jobs: 8
    retries: 2
  register: install

- name: Show what came from the cache
  ansible.builtin.debug:
    msg: "{{ install.totals.cache }} from cache, {{ install.totals.source }} built"

- name: Install in the background and follow its progress
  research.wizard.spack_install:
    env: chemistry
    progress_file: /var/tmp/wizard/chemistry.progress.jsonl
  async: 86400
  poll: 0
  register: job

- name: Wait, reporting every package as it is installed
  research.wizard.spack_install_status:
    progress_file: /var/tmp/wizard/chemistry.progress.jsonl
    jid: "{{ job.ansible_job_id }}"
  register: progress
  until: progress.finished
  retries: 8640
  delay: 10

- name: One install of the environment at a time, in its own run
  research.wizard.spack_install:
    env: chemistry
    run_dir: /var/lib/research-wizard/runs/chemistry
    run_id: 20260101T120000Z-a1b2c3
  async: 86400
  poll: 0
  register: job

- name: Cache only, into another install root
  research.wizard.spack_install:
    env_path: /srv/envs/selftest
    use_buildcache: only
    spack_config:
      - config:install_tree:root:/scratch/spack-store

- name: What would be installed?
  research.wizard.spack_install:
    env: chemistry
  check_mode: true
  register: plan
'''

RETURN = r'''
packages:
  description: One entry per package Spack reported, sorted by name.
  returned: always, except in check mode
  type: list
  elements: dict
  contains:
    name:
      description: Package name.
      type: str
    version:
      description: Package version.
      type: str
    hash:
      description: DAG hash.
      type: str
    status:
      description: C(installed), C(failed) or C(skipped) (a dependency failed).
      type: str
    origin:
      description: C(cache), C(source), C(already) or C(external) for installed packages.
      type: str
    seconds:
      description: Wall-clock seconds from the first to the last event of this package.
      type: float
    log:
      description: Build log of a package that failed to build.
      type: str
    message:
      description: Spack's error for a failed or skipped package.
      type: str
    excerpt:
      description: The first error lines of a failed package's build log (the compiler's, make's, CMake's words), or null.
      type: str
  sample:
    - {name: libtiny, version: '1.0', hash: funjglgk6qabth3nip7mhofotizg65zf, status: installed, origin: cache, seconds: 0.4}
totals:
  description: Number of packages by outcome.
  returned: always, except in check mode
  type: dict
  sample: {cache: 4, source: 0, already: 0, external: 3, failed: 0, skipped: 0}
seconds:
  description: Wall-clock seconds of the whole install (all attempts).
  returned: always, except in check mode
  type: float
attempts:
  description: Number of Spack runs (1 plus retries after transient failures).
  returned: always, except in check mode
  type: int
failed_packages:
  description: The packages that failed, with their build log.
  returned: on failure
  type: list
  elements: dict
plan:
  description: In check mode, what an install would do.
  returned: check mode
  type: dict
  contains:
    concretized:
      description:
        - Whether the environment has a spack.lock (without one, Spack concretizes first and the plan is unknown).
        - False too for a named environment that does not exist yet (check mode of a first deploy).
      type: bool
    reason:
      description: Why there is no plan (C(concretized=false)), else null.
      type: str
    missing:
      description: Concrete specs not installed yet (name, version, hash, from_cache).
      type: list
      elements: dict
    from_cache:
      description: How many missing specs a binary cache has, or null when the caches could not be listed.
      type: int
    from_source:
      description: How many missing specs would be built, or null when unknown.
      type: int
run_id:
  description: The run's O(run_id), with O(run_dir).
  returned: with O(run_dir)
  type: str
  sample: 20260101T120000Z-a1b2c3
progress_file:
  description: The progress file written.
  returned: when one was written
  type: str
cancelled:
  description: Whether the run was cancelled (SIGTERM, or a cancel request in O(run_dir)).
  returned: always, except in check mode
  type: bool
holder:
  description: The run holding the environment's lock, when O(lock_wait=false) made the install fail.
  returned: on that failure
  type: dict
cmd:
  description: The Spack command that was run.
  returned: always
  type: list
  elements: str
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

import os

from ansible_collections.research.wizard.plugins.module_utils._install_runs import LockBusy, RunFiles, RunRecord
from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError, read_json, redact, tail
from ansible_collections.research.wizard.plugins.module_utils._spack_install import install
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import HINTS
from ansible_collections.research.wizard.plugins.module_utils._spack_plan import plan


def _env_dir(spack, p):
    if p['env_path']:
        return p['env_path']
    if p['env']:
        path = spack.env_path(p['env'])
        if path is None:
            raise SpackError('No Spack environment named %s: create it first (research.wizard.spack_env).' % p['env'])
        return path
    return None


def _lock_dir(spack, p):
    """Where the environment's spack.lock is, for the progress total only: a named environment is
    looked for in the default environments root (if it is elsewhere, the total comes from Spack's
    own [n/m] counters instead)."""
    if p['env_path']:
        return p['env_path']
    return os.path.join(spack.root, 'var', 'spack', 'environments', p['env'])


def _failure_message(result):
    failed = [x for x in result['packages'] if x['status'] == 'failed']
    t = result['totals']
    done = '%d installed (%d from cache, %d built)' % (t['cache'] + t['source'], t['cache'], t['source'])
    if failed:
        parts = []
        for x in failed:
            part = '%s@%s/%s' % (x['name'], x['version'], (x['hash'] or '')[:7])
            # The build log's first error line (the compiler's words), else Spack's own line.
            excerpt = (x.get('excerpt') or '').strip()
            if excerpt:
                part += ': %s' % excerpt.splitlines()[0].strip()
            part += ' (build log: %s)' % x['log'] if x['log'] else ('' if excerpt else ': %s' % (x['message'] or 'failed'))
            parts.append(part)
        msg = '%d package(s) failed: %s; %s' % (len(failed), '; '.join(parts), done)
        if t['skipped']:
            msg += ', %d skipped because a dependency failed' % t['skipped']
        return msg
    summary = result['summary']
    hint = HINTS.get(summary['kind'])
    return 'spack install failed (rc=%s): %s%s; %s' % (result['rc'], summary['error'], ' (%s)' % hint if hint else '', done)


def _install_values(p):
    """The values of the `install` command (_spack_cmd.COMMANDS) from the module's options."""
    return dict(use_buildcache=p['use_buildcache'], jobs=p['jobs'] or None, fail_fast=p['fail_fast'],
                check_signature=p['check_signature'], specs=p['specs'])


def _run_record(sm, p):
    """The run's record (lock and meta) and progress file, with run_dir; else (None, progress_file)."""
    if not p['run_dir']:
        return None, p['progress_file']
    try:
        files = RunFiles(p['run_dir'], p['run_id'])
    except ValueError as e:
        sm.fail('spack_install: %s' % e)
    if p['progress_file'] and os.path.abspath(p['progress_file']) != os.path.abspath(files.progress):
        sm.fail('spack_install: with run_dir the progress file is the run\'s own, %s; got progress_file %s. '
                'Leave progress_file out.' % (files.progress, p['progress_file']))
    if os.path.exists(files.progress):
        sm.fail('spack_install: run %s exists already in %s: every run needs a new run_id.' % (p['run_id'], p['run_dir']))
    try:
        record = RunRecord(p['run_dir'], p['run_id'], env=p['env'] or p['env_path'], lock_wait=p['lock_wait'])
    except (IOError, OSError) as e:
        sm.fail('Cannot write the run directory %s: %s' % (p['run_dir'], e))
    return record, files.progress


def _main(sm):
    p, spack = sm.params, sm.spack
    if sm.check_mode:
        # A named environment the deploy has not created yet has no plan here (plan() says so).
        env_dir = spack.env_path(p['env']) if p['env'] else _env_dir(spack, p)
        result = plan(p, spack, env_dir)
        result['cmd'] = redact(spack.argv('install', env=None if env_dir else p['env'], env_dir=env_dir,
                                          **_install_values(p)))
        return result
    # A named environment goes to Spack as `-e NAME`: Spack finds it (and says so when it does not
    # exist) without the extra `spack location` process the plan needs. The install streams its
    # output, so it runs the argv itself instead of through Spack.run.
    cmd = spack.argv('install', env=p['env'], env_dir=p['env_path'], **_install_values(p))
    lock = read_json(os.path.join(_lock_dir(spack, p), 'spack.lock')) if (p['env'] or p['env_path']) else None
    total = len(lock['concrete_specs']) if lock else None
    record, progress_file = _run_record(sm, p)
    try:
        result = install(cmd, dict(os.environ, **spack.environ), progress_file=progress_file,
                         retries=p['retries'], backoff=p['retry_delay'], total=total,
                         env=p['env'] or p['env_path'], record=record)
    except LockBusy as e:
        sm.fail('%s is being installed by %s, progress in %s; lock_wait=false does not wait for it. Wait for it '
                '(lock_wait=true; the domain_pack role follows it, then goes on), or stop it (the role: '
                '-e deploy_cancel=true).' % (p['env'] or p['env_path'], e, (e.holder or {}).get('progress_file')),
                holder=e.holder, cmd=redact(cmd))
    except (IOError, OSError) as e:
        sm.fail('Cannot run Spack or write progress: %s' % e)

    out = dict(cmd=redact(cmd), rc=result['rc'], packages=result['packages'], totals=result['totals'],
               seconds=result['seconds'], attempts=result['attempts'], spack_version=spack.version_string,
               changed=result['totals']['cache'] + result['totals']['source'] > 0, cancelled=result['cancelled'])
    if progress_file:
        out['progress_file'] = progress_file
    if record:
        out['run_id'] = p['run_id']
    if result['rc'] != 0:
        out['failed_packages'] = [x for x in result['packages'] if x['status'] == 'failed']
        sm.fail(_failure_message(result), stdout=tail(result['stdout']), stderr=tail(result['stderr']),
                error_kind=result['summary']['kind'], **out)
    return out


def main():
    SpackModule(
        dict(
            env=dict(type='str'),
            env_path=dict(type='path'),
            specs=dict(type='list', elements='str'),
            use_buildcache=dict(type='str', default='auto', choices=['auto', 'only', 'never']),
            jobs=dict(type='int'),
            fail_fast=dict(type='bool', default=False),
            check_signature=dict(type='bool', default=True),
            retries=dict(type='int', default=0),
            retry_delay=dict(type='float', default=5),
            progress_file=dict(type='path'),
            run_dir=dict(type='path'),
            run_id=dict(type='str'),
            lock_wait=dict(type='bool', default=True),
        ),
        needs_yaml=False,
        required_one_of=[('env', 'env_path', 'specs')],
        required_together=[('run_dir', 'run_id')],
        mutually_exclusive=[('env', 'env_path', 'specs')],
    ).run(_main)


if __name__ == '__main__':
    main()
