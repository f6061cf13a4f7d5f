#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_install_run
short_description: Claim the results of Spack install runs of an environment (adopting orphaned ones), or cancel the running one
version_added: 0.2.0
description:
  - Works on a run directory written by M(research.wizard.spack_install) with
    O(research.wizard.spack_install#module:run_dir) (layout in the collection's
    C(docs/progress-events.md), "Runs").
  - O(state=claimed) takes the results of the caller's own run O(run_id) and, with O(adopt), of every
    ended run whose results nobody took and whose playbook is gone (its heartbeat is older than
    O(heartbeat_timeout)) - an install that outlived a Ctrl-C, a lost connection or a cancelled AWX
    job. Each run is claimed once (an C(O_CREAT|O_EXCL) file), so what it built is counted, pushed and
    recorded by exactly one deploy. An ended, unclaimed run whose playbook still polls it is left to
    that playbook, after waiting up to O(claim_wait) seconds for it to claim it (or to go).
    RV(install) is the merge of the claimed runs, in the keys of
    M(research.wizard.spack_install_status)'s final result.
  - O(state=cancelled) stops the active run (O(run_id), else the one holding the lock) cleanly - a
    cancel request next to it, SIGTERM to Spack's process group (or to the install process while it
    waits for the lock), then waits up to O(cancel_timeout) seconds for the lock to be let go, and
    sends SIGKILL after that. What the run installed stays installed; claim it afterwards.
  - Keeps the files of the newest O(keep) runs; older claimed runs are removed.
author:
  - research.wizard developers (@research-wizard)
extends_documentation_fragment:
  - research.wizard.spack.attributes
attributes:
  check_mode:
    details: Returns what would be claimed (and the merged results) or which run would be stopped, and changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: A run is claimed once; a second claim of the same runs claims nothing and returns changed=false.
options:
  run_dir:
    description: The environment's run directory.
    type: path
    required: true
  state:
    description: V(claimed) takes runs' results; V(cancelled) stops the active run.
    type: str
    choices: [claimed, cancelled]
    required: true
  run_id:
    description:
      - With O(state=claimed), the caller's own run (ended); its results are in RV(install) even if
        another deploy claimed it first (RV(own_claimed) is then false).
      - With O(state=cancelled), the run to stop; by default the one holding the lock.
    type: str
  adopt:
    description: With O(state=claimed), also claim the adoptable runs (ended, unclaimed, playbook gone).
    type: bool
    default: true
  heartbeat_timeout:
    description: Seconds after which a run's heartbeat counts as gone (as in M(research.wizard.spack_install_run_info)).
    type: float
    default: 30
  claim_wait:
    description:
      - Longest wait, in seconds, for the playbook of an ended, unclaimed run that still polls it to
        claim it. A run whose heartbeat goes stale meanwhile is adopted. Default O(heartbeat_timeout) + 5.
    type: float
  cancel_timeout:
    description: With O(state=cancelled), seconds to wait after SIGTERM before SIGKILL.
    type: float
    default: 60
  keep:
    description: Files of at most this many runs stay; the oldest claimed, ended runs beyond it are removed.
    type: int
    default: 20
seealso:
  - module: research.wizard.spack_install_run_info
  - module: research.wizard.spack_install
  - module: research.wizard.spack_install_status
'''

EXAMPLES = r'''
- name: Take this run's results and those of runs whose playbook is gone
  research.wizard.spack_install_run:
    run_dir: /var/lib/research-wizard/runs/chemistry
    state: claimed
    run_id: "{{ run_id }}"
  register: claim

- name: Built from source by this deploy (own run and adopted ones)
  ansible.builtin.debug:
    msg: "{{ claim.install.counts.source }} built, adopted {{ claim.adopted }}"

- name: Stop the install of chemistry that is running
  research.wizard.spack_install_run:
    run_dir: /var/lib/research-wizard/runs/chemistry
    state: cancelled
'''

RETURN = r'''
claimed:
  description: The runs claimed by this call (own and adopted), oldest first.
  returned: always
  type: list
  elements: str
adopted:
  description: The runs of other playbooks claimed by this call.
  returned: always
  type: list
  elements: str
own_claimed:
  description: Whether O(run_id) was claimed by this call (false when another deploy had adopted it).
  returned: with O(state=claimed) and O(run_id)
  type: bool
left_to_owner:
  description: Ended, unclaimed runs whose playbook still polled them after O(claim_wait).
  returned: with O(state=claimed)
  type: list
  elements: str
install:
  description:
    - The merged results of the claimed runs (and of O(run_id)). A package an adopted run installed and
      a later run found already installed counts once, with the adopted run's origin. So does one an adopted
      run that died installed without recording it (its prefix was written while that run held the lock;
      such a package has C(recorded=false)).
    - Keys as in the final result of M(research.wizard.spack_install_status) - C(rc) (of the newest run),
      C(died), C(elapsed) (the runs' total), C(counts), C(cache), C(source), C(already), C(external),
      C(failed_count), C(skipped_count), C(packages) (each with its C(run_id)), C(failures), C(msg) (what
      was adopted) - and C(run_id), C(progress_file), C(cancelled) (a claimed run was cancelled),
      C(adopted) (C(run_id), C(state), C(rc), C(progress_file), C(elapsed) of each adopted run).
  returned: with O(state=claimed)
  type: dict
cancelled:
  description: The run stopped (its meta, as M(research.wizard.spack_install_run_info) lists it), or null when none was active.
  returned: with O(state=cancelled)
  type: dict
stopped:
  description: How it stopped - C(term) (SIGTERM was enough), C(kill) (SIGKILL after O(cancel_timeout)), C(failed) (still running), or null.
  returned: with O(state=cancelled)
  type: str
pruned:
  description: The runs whose files were removed (O(keep)).
  returned: always
  type: list
  elements: str
msg:
  description: What was done, in words.
  returned: always
  type: str
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.research.wizard.plugins.module_utils._install_runs import (
    RunFiles,
    cancel,
    claim,
    holder_text,
    list_runs,
    merge,
    prune,
    run_result,
)


def _claim(module, p):
    own = RunFiles(p['run_dir'], p['run_id']) if p['run_id'] else None
    timeout = p['heartbeat_timeout']
    deadline = time.time() + (p['claim_wait'] if p['claim_wait'] is not None else timeout + 5)
    while True:
        runs, _holder = list_runs(p['run_dir'], heartbeat_timeout=timeout)
        by_id = dict((r['run_id'], r) for r in runs)
        if own and by_id.get(own.run_id, {}).get('active'):
            module.fail_json(msg='Run %s of %s is still active (state %s): claim it once it has ended.'
                             % (own.run_id, p['run_dir'], by_id[own.run_id]['state']))
        others = [r for r in runs if not own or r['run_id'] != own.run_id]
        waiting = [r['run_id'] for r in others if not r['active'] and not r['claimed'] and not r['owner_gone']]
        if not p['adopt'] or not waiting or time.time() >= deadline or module.check_mode:
            break
        time.sleep(0.5)
    candidates = [r for r in others if r['adoptable']] if p['adopt'] else []
    claimed, adopted = [], []
    if own and own.run_id in by_id:
        candidates.append(by_id[own.run_id])
    own_claimed = None
    for run in sorted(candidates, key=lambda r: (r.get('started') or 0, r['run_id'])):
        files = RunFiles(p['run_dir'], run['run_id'])
        took = not run['claimed'] if module.check_mode else claim(files, {'by_run': p['run_id']})
        if own and run['run_id'] == own.run_id:
            own_claimed = took
        if took:
            claimed.append(run['run_id'])
            if not own or run['run_id'] != own.run_id:
                adopted.append(run['run_id'])
    own_result = run_result(own, by_id.get(own.run_id)) if own else None
    adopted_results = [run_result(RunFiles(p['run_dir'], r), by_id.get(r)) for r in adopted]
    install = merge(own_result, adopted_results)
    if own and own.run_id in by_id and not own_claimed:
        notes = ['run %s was claimed by another deploy first' % own.run_id, install['msg']]
        install['msg'] = '; '.join(x for x in notes if x)
    pruned = [] if module.check_mode else prune(p['run_dir'], p['keep'], active_ids=claimed)
    result = dict(changed=bool(claimed), claimed=claimed, adopted=adopted, install=install, pruned=pruned,
                  left_to_owner=waiting if p['adopt'] else [],
                  msg='claimed %s' % (', '.join(claimed) or 'nothing') + ('; adopted %s' % ', '.join(adopted) if adopted else ''))
    if own:
        result['own_claimed'] = own_claimed
    return result


def _cancel(module, p):
    runs, holder = list_runs(p['run_dir'], heartbeat_timeout=p['heartbeat_timeout'])
    if p['run_id']:
        target = next((r for r in runs if r['run_id'] == p['run_id']), None)
        if target is None:
            module.fail_json(msg='No run %s in %s.' % (p['run_id'], p['run_dir']))
    else:
        target = holder
    if not target or not target.get('active'):
        return dict(changed=False, cancelled=None, stopped=None, pruned=[],
                    msg='No install run is active in %s: nothing to cancel.' % p['run_dir'])
    if not target.get('run_id'):
        module.fail_json(msg='The lock of %s is held by a process with no run file: stop it by hand '
                             '(fuser -v %s/lock shows it).' % (p['run_dir'], p['run_dir']))
    if module.check_mode:
        return dict(changed=True, cancelled=target, stopped=None, pruned=[], msg='Would stop %s.' % holder_text(target))
    stopped, how = cancel(p['run_dir'], target, by={'by': 'spack_install_run'}, timeout=p['cancel_timeout'])
    if not stopped:
        module.fail_json(msg='%s did not stop after SIGTERM and SIGKILL.' % holder_text(target), cancelled=target,
                         stopped='failed', changed=True)
    return dict(changed=True, cancelled=target, stopped=how, pruned=[],
                msg='Stopped %s (%s).' % (holder_text(target), 'SIGTERM' if how == 'term' else 'SIGKILL'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type='path', required=True),
            state=dict(type='str', required=True, choices=['claimed', 'cancelled']),
            run_id=dict(type='str'),
            adopt=dict(type='bool', default=True),
            heartbeat_timeout=dict(type='float', default=30),
            claim_wait=dict(type='float'),
            cancel_timeout=dict(type='float', default=60),
            keep=dict(type='int', default=20),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['run_id']:
        try:
            RunFiles(p['run_dir'], p['run_id'])
        except ValueError as exc:
            module.fail_json(msg='spack_install_run: %s' % exc)
    try:
        result = _claim(module, p) if p['state'] == 'claimed' else _cancel(module, p)
    except (IOError, OSError) as exc:
        module.fail_json(msg='Cannot use the run directory %s: %s' % (p['run_dir'], exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
