#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_install_run_info
short_description: The install runs of a Spack environment on a host - which one holds the lock, which lost their playbook
version_added: 0.2.0
description:
  - Reads a run directory written by M(research.wizard.spack_install) with O(research.wizard.spack_install#module:run_dir)
    (layout in the collection's C(docs/progress-events.md), "Runs") and tells, for each run, whether
    it is still active, who started it, whether its playbook still polls it (its heartbeat), and
    whether its results have been claimed.
  - RV(holder) is the run that holds the environment's lock now (the one Spack install of the
    environment), RV(adoptable) the ended runs whose results nobody claimed and whose playbook is
    gone (Ctrl-C, a lost connection, a cancelled AWX job), which the next deploy takes over with
    M(research.wizard.spack_install_run).
  - Never changes anything; the lock is only probed (a shared, non-blocking C(flock) let go at once).
author:
  - research.wizard developers (@research-wizard)
extends_documentation_fragment:
  - research.wizard.spack.info_module
options:
  run_dir:
    description: The environment's run directory (the domain_pack role's C(<data_dir>/runs/<env>)). A missing one has no runs.
    type: path
    required: true
  heartbeat_timeout:
    description:
      - Seconds after which a run's heartbeat (touched by the playbook polling it) counts as gone.
        Keep it above twice the poll's C(wait), plus a margin for slow connections.
    type: float
    default: 30
seealso:
  - module: research.wizard.spack_install
  - module: research.wizard.spack_install_run
  - module: research.wizard.spack_install_status
'''

EXAMPLES = r'''
- name: Is an install of chemistry running?
  research.wizard.spack_install_run_info:
    run_dir: /var/lib/research-wizard/runs/chemistry
  register: runs

- name: Say who holds it
  ansible.builtin.debug:
    msg: "{{ runs.holder_text }}"
  when: runs.holder
'''

RETURN = r'''
runs:
  description: Every run of the directory, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    run_id:
      description: The run's id.
      type: str
    state:
      description:
        - C(waiting) (for the lock), C(running), C(finished), C(cancelled), or C(died) (its process
          is gone without writing its end, killed outright).
      type: str
    active:
      description: Whether the run's install process lives (state C(waiting) or C(running)).
      type: bool
    pid:
      description: The install module's process id.
      type: int
    pgid:
      description: Spack's process group (what a cancel signals), once Spack started.
      type: int
    user:
      description: The user the install runs as.
      type: str
    host:
      description: The host's name, as the install saw it.
      type: str
    started:
      description: Unix time the run started.
      type: float
    rc:
      description: Spack's exit code, once ended.
      type: int
    progress_file:
      description: The run's progress file.
      type: str
    controller:
      description: The controller whose playbook polls (or polled) the run, from its heartbeat.
      type: str
    playbook_pid:
      description: That playbook's process id on the controller.
      type: int
    jid:
      description: The async job id of the install, from the heartbeat.
      type: str
    heartbeat_age:
      description: Seconds since the playbook's last poll (since the start when it never polled).
      type: float
    owner_gone:
      description: Whether the heartbeat is older than O(heartbeat_timeout).
      type: bool
    claimed:
      description: Whether the run's results were taken (by its playbook or by a later deploy).
      type: bool
    adoptable:
      description: Ended, unclaimed, and its playbook gone.
      type: bool
holder:
  description: The run holding the environment's lock, or null. C(run_id) is null when the lock is held by a process with no run file.
  returned: always
  type: dict
holder_text:
  description: The holder in words, "install run R (pid P, started T by U@H, ...)"; empty without one.
  returned: always
  type: str
adoptable:
  description: The run ids of RV(runs) that are adoptable, oldest first.
  returned: always
  type: list
  elements: str
pending:
  description: Ended, unclaimed runs whose playbook still polls (it claims them itself).
  returned: always
  type: list
  elements: str
lock_held:
  description: Whether a process holds the lock.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.research.wizard.plugins.module_utils._install_runs import holder_text, list_runs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type='path', required=True),
            heartbeat_timeout=dict(type='float', default=30),
        ),
        supports_check_mode=True,
    )
    try:
        runs, holder = list_runs(module.params['run_dir'], heartbeat_timeout=module.params['heartbeat_timeout'])
    except (IOError, OSError) as exc:
        module.fail_json(msg='Cannot read the run directory %s: %s' % (module.params['run_dir'], exc))
    module.exit_json(
        changed=False, runs=runs, holder=holder, holder_text=holder_text(holder) if holder else '',
        lock_held=holder is not None,
        adoptable=[r['run_id'] for r in runs if r['adoptable']],
        pending=[r['run_id'] for r in runs if not r['active'] and not r['claimed'] and not r['owner_gone']],
    )


if __name__ == '__main__':
    main()
