#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_install_status
short_description: Report the progress of a running Spack install
version_added: 0.1.0
description:
  - Reads the JSON-lines progress file that M(research.wizard.spack_install) appends to while its
    Spack process runs, and returns compact progress, package counts by origin, the packages in
    flight, the events since a given sequence number, whether the install has finished and an
    estimate of the time left.
  - Meant to be polled with C(until), C(retries) and C(delay) after starting
    M(research.wizard.spack_install) with C(async) and C(poll=0). Every poll reaches callback
    plugins as C(v2_runner_retry); the P(research.wizard.progress#callback) callback turns them into a
    live progress bar or one line per package.
  - With O(wait), a poll is a long poll - it returns as soon as Spack reports something new, or
    after O(wait) seconds - so a loop with C(delay=0) shows every package within a fraction of a
    second while polling only every O(wait) seconds when nothing happens.
  - With O(jid) it also notices an install whose async job ended (killed over its time limit,
    crashed) without writing the C(finished) event, so the polling loop ends instead of running out
    of retries.
author:
  - research.wizard developers (@research-wizard)
extends_documentation_fragment:
  - research.wizard.spack.info_module
options:
  progress_file:
    description:
      - The O(research.wizard.spack_install#module:progress_file) of the install to watch.
      - A file that does not exist yet is not an error (the install has not started writing);
        the result then has RV(exists=false) and RV(finished=false).
    type: path
    required: true
  since:
    description:
      - Return only the events whose C(seq) is at least this number, for example RV(next_since) of a
        previous call. All events of the current run when not set.
      - When it is greater than the last C(seq) in the file plus one, the file was replaced by a new
        run; all its events are returned and RV(rotated) is true.
      - Applies to the first poll of a task; the retries of an C(until) loop continue from the poll
        before (its action plugin keeps the position), or from the start of a different run.
    type: int
  wait:
    description:
      - Seconds to wait for news before returning - a long poll. The poll returns as soon as the
        current run has events from O(since) on (any event on the first poll), the install has
        finished, its async job has ended, its writer is gone (O(stale_after)), or the progress file
        now holds another run; else after O(wait) seconds with no new events.
      - V(0) returns at once.
      - Polls of one C(until) loop start at least 0.5 seconds apart, so with C(delay=0), C(retries) of
        twice the C(async) limit always outlast the install.
      - Keep it below the connection's and the task's timeouts.
    type: float
    default: 0
  max_events:
    description:
      - Return at most this many events, the most recent ones. RV(events_dropped) counts the older
        ones left out. V(0) returns no events (counts and packages in flight only).
    type: int
    default: 200
  jid:
    description:
      - The C(ansible_job_id) of the async task that runs M(research.wizard.spack_install), as
        O(ansible.builtin.async_status#module:jid) takes it.
      - The alias C(job_id) is deprecated and will be removed in version 2.0.0 of research.wizard.
      - When that job has ended but the progress file has no C(finished) event, the result has
        RV(finished=true), RV(died) true when the job failed, and the job's message in RV(msg).
      - While the job runs, a run in the progress file that started before the job (the file is
        appended to, so it may end with an earlier run's C(finished) event) is not reported; the
        result says it is waiting for the install to start.
    type: str
    aliases: [job_id]
  async_dir:
    description:
      - The directory holding the async job status files on the target, for O(jid).
      - Defaults to E(ANSIBLE_ASYNC_DIR) in the module's environment, else C(~/.ansible_async)
        (the default of the C(async_dir) shell option).
    type: path
  stale_after:
    description:
      - When the process id of the C(start) event no longer runs on the target and the progress file
        has not been written for this many seconds, the install counts as died (RV(finished=true),
        RV(died=true)). Catches a writer killed outright when O(jid) is not given.
      - V(0) turns the check off. Turn it off when the progress file is on a shared file system and
        the install runs on another host.
    type: int
    default: 60
  heartbeat:
    description:
      - The poller owns the run (a run of a run directory, C(<run_dir>/<run_id>.jsonl)), and touches the
        run's C(<run_id>.heartbeat) at every poll and every second of a long poll, so that
        M(research.wizard.spack_install_run_info) knows its playbook lives. A run whose heartbeat is
        older than the bound has lost its playbook, and the next deploy of the environment adopts it.
      - The action plugin writes the controller's name, the playbook's pid, the user and O(jid) into it.
    type: bool
    default: false
  owner:
    description: Set by the action plugin with O(heartbeat) (controller, playbook_pid, user, jid); not for playbooks.
    type: dict
  fail_on_error:
    description:
      - Fail the task once the install has finished with a non-zero C(rc), or died.
      - Set to V(false) to decide yourself, for example with C(failed_when).
    type: bool
    default: true
notes:
  - The event format is documented in C(docs/progress-events.md) of the collection.
  - The package failure and skip counts are returned as RV(failed_count) and RV(skipped_count),
    because C(failed) and C(skipped) are reserved result keys in Ansible.
seealso:
  - module: research.wizard.spack_install
  - plugin: research.wizard.progress
    plugin_type: callback
  - module: ansible.builtin.async_status
'''

EXAMPLES = r'''
# Start the install in the background, then poll until it has finished. Each poll is one
# v2_runner_retry callback event: enable the research.wizard.progress callback to see a live bar
# (terminal) or one line per package (AWX, pipes). With wait, a poll returns as soon as Spack reports
# something, so delay 0 shows each package within a fraction of a second.
- name: Install the environment (one Spack process, in the background)
  research.wizard.spack_install:
    env: /opt/envs/selftest
    progress_file: /var/tmp/selftest-progress.jsonl
  async: 14400          # the longest the install may take, in seconds
  poll: 0
  register: install_job

- name: Wait for the install, reporting progress
  research.wizard.spack_install_status:
    progress_file: /var/tmp/selftest-progress.jsonl
    jid: "{{ install_job.ansible_job_id }}"
    wait: 5             # long poll: return on news, else after 5 s
  register: install_status
  until: install_status.finished
  retries: 28800        # polls start >= 0.5 s apart: 2 x the async limit outlasts the install
  delay: 0

- name: Show what happened
  ansible.builtin.debug:
    msg: >-
      {{ install_status.done }}/{{ install_status.total }} packages,
      {{ install_status.cache }} from the cache, {{ install_status.source }} built,
      {{ install_status.failed_count }} failed

# Decide about failures yourself, and clean up the async job status file
- name: Wait for the install, never failing here
  research.wizard.spack_install_status:
    progress_file: /var/tmp/selftest-progress.jsonl
    jid: "{{ install_job.ansible_job_id }}"
    wait: 5
    fail_on_error: false
  register: install_status
  until: install_status.finished
  retries: 28800
  delay: 0

- name: Report failed packages with their build logs
  ansible.builtin.debug:
    msg: "{{ item.package }} failed, log: {{ item.log }}"
  loop: "{{ install_status.failures }}"

- name: Remove the async job status file
  ansible.builtin.async_status:
    jid: "{{ install_job.ansible_job_id }}"
    mode: cleanup

# One look, for example from another playbook while an install runs
- name: Where is the install now?
  research.wizard.spack_install_status:
    progress_file: /var/tmp/selftest-progress.jsonl
    max_events: 0
    fail_on_error: false
  register: snapshot
'''

RETURN = r'''
progress_file:
  description: The progress file read.
  returned: always
  type: str
  sample: /var/tmp/selftest-progress.jsonl
exists:
  description: Whether the progress file exists yet.
  returned: always
  type: bool
  sample: true
started:
  description: Unix time of the C(start) event of the current run, null before it.
  returned: always
  type: float
  sample: 1764330000.12
pid:
  description: Process id of the install, from the C(start) event.
  returned: always
  type: int
  sample: 41233
run_id:
  description: The run's id, from the C(start) event of a run of a run directory; else null.
  returned: always
  type: str
  sample: 20260101T120000Z-a1b2c3
waiting_for:
  description:
    - While the run waits for the environment's lock, the run that holds it (C(run_id), C(pid),
      C(user), C(controller), C(started), C(progress_file)), from its C(waiting) event; RV(msg) says
      it in words. Null otherwise.
  returned: always
  type: dict
env:
  description: The Spack environment being installed, from the C(start) event.
  returned: always
  type: str
  sample: /opt/envs/selftest
elapsed:
  description: Seconds since the install started; the whole run's time once finished.
  returned: always
  type: float
  sample: 73.4
total:
  description: Packages in the install plan (the C(start) event's total, else Spack's C([n/m]) counter,
    else the packages seen so far); null before anything is known.
  returned: always
  type: int
  sample: 12
done:
  description: Packages that reached an end state (installed, failed or skipped).
  returned: always
  type: int
  sample: 7
queued:
  description: Packages queued and not yet being fetched, built or extracted.
  returned: always
  type: int
  sample: 3
cache:
  description: Packages installed from a binary cache.
  returned: always
  type: int
  sample: 5
source:
  description: Packages built from source.
  returned: always
  type: int
  sample: 1
already:
  description: Packages that were already installed.
  returned: always
  type: int
  sample: 1
external:
  description: Packages provided by the system (externals).
  returned: always
  type: int
  sample: 0
failed_count:
  description: Packages whose install failed.
  returned: always
  type: int
  sample: 0
skipped_count:
  description: Packages not installed because a dependency failed.
  returned: always
  type: int
  sample: 0
counts:
  description:
    - The package counts in one dictionary, keys C(cache), C(source), C(already), C(external),
      C(failed), C(skipped).
    - Once the install has finished these are the C(totals) of its C(finished) event.
  returned: always
  type: dict
  sample: {"cache": 5, "source": 1, "already": 1, "external": 0, "failed": 0, "skipped": 0}
failures:
  description: The packages that failed so far.
  returned: always
  type: list
  elements: dict
  contains:
    package:
      description: Package name.
      type: str
    version:
      description: Package version.
      type: str
    hash:
      description: DAG hash (full, or the 7-character prefix Spack printed).
      type: str
    log:
      description: Path of the build log on the target.
      type: str
    message:
      description: Spack's error line.
      type: str
    excerpt:
      description:
        - The first error lines of the build log (the compiler's, make's, CMake's words), up to 8 lines, or null
          when the log could not be read (see C(excerpt) in docs/progress-events.md).
      type: str
  sample: [{"package": "tinybroken", "version": "0.1", "hash": "abcdefg",
            "log": "/tmp/spack-stage/spack-build-out.txt", "message": "ProcessError: Command exited with status 2:",
            "excerpt": "broken.c:2:25: error: 'this_symbol_does_not_exist' undeclared\nmake: *** [Makefile:4: broken] Error 1"}]
in_flight:
  description: The packages being fetched, built or extracted right now.
  returned: always
  type: list
  elements: dict
  contains:
    package:
      description: Package name.
      type: str
    version:
      description: Package version.
      type: str
    state:
      description: C(fetching), C(building) or C(extracting).
      type: str
    origin:
      description: C(cache) or C(source) when known, else null.
      type: str
    elapsed:
      description: Seconds since the package's first fetch, build or extract event.
      type: float
  sample: [{"package": "tinyapp", "version": "1.0", "state": "building", "origin": "source", "elapsed": 12.5}]
events:
  description:
    - The events of the current run with C(seq) at least O(since) (all when O(since) is not set),
      the most recent O(max_events) of them, as written to the progress file (see
      C(docs/progress-events.md)).
    - In the retries of an C(until) loop, the events written since the previous poll.
  returned: always
  type: list
  elements: dict
  sample: [{"ts": 1764330012.5, "event": "installed", "seq": 14, "package": "libtiny", "version": "1.0",
            "hash": "abcdefg", "origin": "cache", "seconds": 0.8, "index": 3, "total": 12}]
events_dropped:
  description: How many matching events were left out because of O(max_events).
  returned: always
  type: int
  sample: 0
next_since:
  description: The O(since) that returns only the events written after this call.
  returned: always
  type: int
  sample: 15
rotated:
  description: Whether O(since) was past the end of the file, which means the file now holds a newer run.
  returned: always
  type: bool
  sample: false
invalid_lines:
  description: Complete lines of the file that were not JSON objects and were skipped.
  returned: always
  type: int
  sample: 0
finished:
  description:
    - Whether the install has ended - its C(finished) event is in the file, or (with O(jid)) its
      async job has ended, or (with O(stale_after)) its process is gone.
    - The value to use in C(until).
  returned: always
  type: bool
  sample: false
rc:
  description:
    - Exit code of the install once finished (from the C(finished) event, else from the async job).
    - Null while running, and when the install died without an exit code.
  returned: always
  type: int
  sample: 0
died:
  description: Whether the install ended without writing its C(finished) event, and failed.
  returned: always
  type: bool
  sample: false
msg:
  description: Why the install counts as finished without a C(finished) event, or why nothing is known yet.
  returned: when there is something to say
  type: str
  sample: "The install job ended without a finished event in the progress file: Timeout exceeded"
eta_seconds:
  description:
    - Estimated seconds left, from the times of the packages installed so far and the parallelism
      seen; 0 once finished; null until one package has been timed.
  returned: always
  type: float
  sample: 41.0
packages:
  description: Every package of the run, in the order first seen, once the install has finished.
  returned: when RV(finished) is true
  type: list
  elements: dict
  contains:
    package:
      description: Package name.
      type: str
    version:
      description: Package version.
      type: str
    hash:
      description: DAG hash.
      type: str
    origin:
      description: C(cache), C(source), C(already), C(external), or null.
      type: str
    state:
      description: Last state, C(installed), C(failed), C(skipped) (or an earlier one if the run died).
      type: str
    seconds:
      description: Seconds the package took.
      type: float
    start:
      description: Seconds from the start of the run to the start of the package's work.
      type: float
    log:
      description: Build log path, for a failed package.
      type: str
    message:
      description: Spack's error line, for a failed or skipped package.
      type: str
    prefix:
      description:
        - The install prefix as Spack printed it, for a package already installed or external (a padded install
          tree shows as C([padded-to-N-chars])); absent otherwise.
      type: str
  sample: [{"package": "libtiny", "version": "1.0", "hash": "abcdefg", "origin": "cache", "state": "installed",
            "seconds": 0.8, "start": 1.2, "log": null, "message": null}]
job:
  description: The state of the async job from its status file.
  returned: when O(jid) is set
  type: dict
  contains:
    state:
      description: C(running), C(finished), or C(missing) (no status file).
      type: str
    failed:
      description: Whether the job's result is a failure, once finished.
      type: bool
    rc:
      description: The job result's C(rc), if any.
      type: int
    msg:
      description: The job result's C(msg), if any.
      type: str
    results_file:
      description: Path of the job status file.
      type: str
    since:
      description: Modification time of the job status file (while running, when the job started).
      type: float
  sample: {"state": "running", "failed": null, "rc": null, "msg": null, "results_file": "/root/.ansible_async/j1.42",
           "since": 1764330000.0}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.research.wizard.plugins.module_utils._install_runs import RunFiles, heartbeat
from ansible_collections.research.wizard.plugins.module_utils._progress import (
    package_label,
    read_async_job,
    wait_status,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            progress_file=dict(type='path', required=True),
            since=dict(type='int'),
            wait=dict(type='float', default=0),
            max_events=dict(type='int', default=200),
            jid=dict(type='str', aliases=['job_id'], deprecated_aliases=[
                dict(name='job_id', version='2.0.0', collection_name='research.wizard')]),
            async_dir=dict(type='path'),
            stale_after=dict(type='int', default=60),
            fail_on_error=dict(type='bool', default=True),
            heartbeat=dict(type='bool', default=False),
            owner=dict(type='dict'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['max_events'] < 0:
        module.fail_json(msg='max_events must be 0 or more, got %d' % params['max_events'])
    if params['wait'] < 0:
        module.fail_json(msg='wait must be 0 or more seconds, got %s' % params['wait'])

    async_dir = params['async_dir'] or os.environ.get('ANSIBLE_ASYNC_DIR') or '~/.ansible_async'
    job_source = (lambda: read_async_job(async_dir, params['jid'])) if params['jid'] else None
    beat = None
    if params['heartbeat'] and not module.check_mode:
        run = RunFiles.of_progress(params['progress_file'])
        if run is None:
            module.fail_json(msg='heartbeat needs the progress file of a run, <run_dir>/<run_id>.jsonl; got %s'
                             % params['progress_file'])
        owner = dict(params['owner'] or {}, jid=params['jid'])

        def beat():
            try:
                heartbeat(run, owner)
            except (IOError, OSError):
                pass  # the run directory is not there yet, or not writable: the poll goes on

    try:
        result, job = wait_status(
            params['progress_file'],
            since=params['since'],
            max_events=params['max_events'],
            wait=params['wait'],
            job_source=job_source,
            stale_after=max(0, params['stale_after']),
            beat=beat,
        )
    except (IOError, OSError) as exc:
        module.fail_json(msg='Cannot read the progress file %s: %s' % (params['progress_file'], exc),
                         progress_file=params['progress_file'], finished=False)

    if job is not None:
        result['job'] = job
    # 'failed' is set explicitly: a non-zero 'rc' without it would fail every poll's task result.
    result['changed'] = False
    if params['fail_on_error'] and result['finished'] and (result['rc'] != 0 or result['died']):
        reasons = []
        if result['failures']:
            reasons.append('failed: %s' % ', '.join(
                '%s (log: %s)' % (package_label(f['package'], f['version']), f['log'] or 'none')
                for f in result['failures']))
        if result.get('msg'):
            reasons.append(result['msg'])
        message = 'The Spack install finished with rc=%s' % result['rc']
        if reasons:
            message += '; ' + '; '.join(reasons)
        result.pop('msg', None)
        module.fail_json(msg=message, **result)
    result['failed'] = False
    module.exit_json(**result)


if __name__ == '__main__':
    main()
