# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy's check-mode plan as text: Spack, the missing packages, and time estimates from the
build-time history of the progress callback (controller side)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: deploy_plan
short_description: What a deploy would install, as lines to print (check mode)
version_added: 1.0.0
description:
  - Turns the plan of M(research.wizard.spack_install) in check mode and what the C(spack) role found
    about Spack into the lines C(playbooks/deploy.yml --check) prints for a host.
  - Each package missing in the target install tree is listed with where it would come from (binary
    cache or source) and an estimate from the build-time history the C(research.wizard.progress)
    callback keeps (O(history_file)); a package the history does not know is shown as C(unknown).
options:
  _input:
    description: The C(plan) returned by M(research.wizard.spack_install) in check mode.
    type: dict
    required: true
  spack:
    description:
      - What the C(spack) role found in check mode (C(spack_plan_spack)) - C(present), C(source),
        C(location), C(version), C(kind), C(plannable), C(reason).
    type: dict
    required: true
  install_tree:
    description: The install tree the plan was made against.
    type: str
    default: ""
  history_file:
    description: The callback's build-time history (JSON). Empty for none (every estimate unknown).
    type: str
    default: ""
'''

EXAMPLES = r'''
- name: The plan
  ansible.builtin.debug:
    msg: "{{ domain_pack_plan.plan | research.wizard.deploy_plan(spack_plan_spack, install_tree='/opt/store').lines }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    lines:
      description: The lines to print.
      type: list
      elements: str
    packages:
      description: The missing packages (name, version, hash, from_cache) with C(seconds), the estimate or null.
      type: list
      elements: dict
    seconds:
      description: Sum of the known estimates of the source builds.
      type: float
    unknown:
      description: How many source builds have no estimate.
      type: int
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.research.wizard.plugins.plugin_utils.progress_history import BuildHistory


def _duration(seconds):
    if seconds is None:
        return 'unknown'
    seconds = int(round(seconds))
    if seconds < 60:
        return '%d s' % seconds
    if seconds < 3600:
        return '%d min %02d s' % divmod(seconds, 60)
    hours, rest = divmod(seconds, 3600)
    return '%d h %02d min' % (hours, rest // 60)


def _spack_line(spack):
    version = spack.get('version') or '?'
    if spack.get('present'):
        return 'Spack %s is present at %s' % (version, spack.get('location'))
    source = spack.get('source')
    if source == 'local':
        what = {'tarball': 'the local tarball', 'git': 'the local git repository',
                'directory': 'the local directory'}.get(spack.get('kind'), 'the local source')
        return 'Spack %s would be installed from %s %s' % (version, what, spack.get('location'))
    if source == 'git':
        return 'Spack %s would be cloned from %s' % (version, spack.get('location'))
    return 'No Spack at %s (spack_source=%s)' % (spack.get('location'), source)


def deploy_plan(install_plan, spack, install_tree='', history_file=''):
    if not isinstance(spack, dict):
        raise AnsibleFilterError('deploy_plan: spack must be a dict (spack_plan_spack), got %r' % (spack,))
    install_plan = install_plan if isinstance(install_plan, dict) else {}
    history = BuildHistory(history_file) if history_file else None
    lines = [_spack_line(spack)]
    packages = []
    known = 0.0
    unknown = 0
    if not install_plan.get('concretized'):
        reason = install_plan.get('reason') or spack.get('reason') or 'no plan could be made'
        lines.append('Packages: cannot be planned here: %s' % reason)
        return dict(lines=lines, packages=packages, seconds=known, unknown=unknown)
    for item in install_plan.get('missing') or []:
        entry = dict(item)
        from_cache = entry.get('from_cache')
        # The history holds source build times only: a cache install has no estimate of its own.
        seconds = history.lookup(entry['name'], entry.get('version')) if history and from_cache is False else None
        entry['seconds'] = seconds
        if from_cache is False:
            if seconds is None:
                unknown += 1
            else:
                known += seconds
        packages.append(entry)
    tree = (' in %s' % install_tree) if install_tree else ''
    if not packages:
        lines.append('Packages: nothing missing%s' % tree)
        return dict(lines=lines, packages=packages, seconds=known, unknown=unknown)
    from_cache = install_plan.get('from_cache')
    from_source = install_plan.get('from_source')
    estimate = _duration(known) if not unknown else (
        '%s + %d unknown' % (_duration(known), unknown) if known else 'unknown')
    lines.append('Packages: %d missing%s, %s from cache, %s from source; builds estimated %s' % (
        len(packages), tree, 'unknown' if from_cache is None else from_cache,
        'unknown' if from_source is None else from_source, estimate))
    for entry in packages:
        where = {True: 'cache', False: 'source'}.get(entry.get('from_cache'), 'cache or source (unknown)')
        lines.append('  %s@%s /%s  %s  %s' % (entry['name'], entry.get('version') or '?', (entry.get('hash') or '')[:7],
                                              where, _duration(entry['seconds']) if where == 'source' else '-'))
    return dict(lines=lines, packages=packages, seconds=round(known, 1), unknown=unknown)


class FilterModule(object):

    def filters(self):
        return {'deploy_plan': deploy_plan}
