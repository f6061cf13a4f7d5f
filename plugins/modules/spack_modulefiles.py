#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: spack_modulefiles
short_description: Generate the module files (Tcl, Lmod) of a Spack environment's packages
version_added: 0.1.0
description:
  - Runs C(spack module TYPE refresh -y) in an environment for each of O(types), so every installed
    package of the environment has an up-to-date module file under the module root Spack is configured
    with (C(modules:default:roots), by default C($spack/share/spack/modules) and C($spack/share/spack/lmod)).
  - Reports C(changed) only when a module file was added, changed or removed. Spack stamps every file
    it writes with the time; that line does not count.
  - In check mode the module files are generated into a scratch root instead and compared with the
    real ones, so the prediction is exactly what a refresh would write. The refresh then runs in a copy
    of the environment (its C(spack.yaml) and C(spack.lock)) whose module roots point at the scratch
    root (on Spack 0.2x an environment's settings win over C(spack -c)); relative paths in that
    C(spack.yaml) would resolve from the copy.
extends_documentation_fragment:
  - research.wizard.spack
  - research.wizard.spack.attributes
  - research.wizard.spack.actiongroup_spack
attributes:
  diff_mode:
    details: The module files added, changed or removed, one path a line.
options:
  env:
    description: Name of a managed environment. One of O(env) or O(env_path) is required.
    type: str
  env_path:
    description: Directory of an environment.
    type: path
  types:
    description: Kinds of module files to generate.
    type: list
    elements: str
    choices: [tcl, lmod]
    required: true
notes:
  - An Lmod hierarchy needs C(modules:default:lmod:core_compilers) in the Spack configuration; without it
    Spack fails and so does the module, with Spack's message.
seealso:
  - module: research.wizard.spack_install
  - module: research.wizard.spack_env
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Tcl and Lmod module files for the chemistry environment
  research.wizard.spack_modulefiles:
    env: chemistry
    types: [tcl, lmod]

- name: Would the module files change?
  research.wizard.spack_modulefiles:
    env_path: /srv/envs/selftest
    types: [tcl]
  check_mode: true
  diff: true
  register: modules
'''

RETURN = r'''
roots:
  description: The module root of each type, as configured for the environment.
  returned: always
  type: dict
  sample: {tcl: /opt/spack/share/spack/modules}
added:
  description: Module files (relative to their type's root, prefixed with the type) that were, or in check mode would be, added.
  returned: always
  type: list
  elements: str
  sample: [tcl/linux-ubuntu24.04-x86_64_v3/tinyapp/1.0-pto5yzt]
changed_files:
  description: Module files whose content changed, or in check mode would change (the time stamp aside).
  returned: always
  type: list
  elements: str
removed:
  description: Module files that the refresh removed (never in check mode).
  returned: always
  type: list
  elements: str
cmd:
  description: The Spack commands that were (or in check mode would be) run.
  returned: always
  type: list
  elements: list
spack_version:
  description: Version of the Spack that was driven.
  returned: always
  type: str
'''

import hashlib
import os
import re
import shutil
import tempfile

from ansible_collections.research.wizard.plugins.module_utils._deployment_stamp import expand_path
from ansible_collections.research.wizard.plugins.module_utils._digest import tree_files
from ansible_collections.research.wizard.plugins.module_utils._spack import (
    SpackError, dump_yaml, load_yaml, read_yaml, redact)
from ansible_collections.research.wizard.plugins.module_utils._spack_module import SpackModule

DEFAULT_ROOTS = {'tcl': '$spack/share/spack/modules', 'lmod': '$spack/share/spack/lmod'}
# The first lines of Spack's templates: "## Module file created by spack (...) on <time>" (Tcl),
# "-- Module file created by spack (...) on <time>" (Lua).
STAMP_LINE = re.compile(br'^\S+ Module file created by spack .* on .*$', re.MULTILINE)


def module_roots(spack, where, types):
    """{type: absolute module root} from the environment's merged `modules` configuration."""
    config = load_yaml(spack.stdout('config_get', section='modules', **where)).get('modules') or {}
    roots = ((config.get('default') or {}).get('roots') or {})
    base = where.get('env_dir') or spack.root
    return dict((t, expand_path(str(roots.get(t) or DEFAULT_ROOTS[t]), spack.root, base)) for t in types)


def module_files(root, prefix):
    """{PREFIX/relative path: digest} of the module files under ROOT, without Spack's time stamp and
    with ROOT itself left out of the content (an Lmod hierarchy names its own root)."""
    found = {}
    if not os.path.isdir(root):
        return found
    for path in tree_files(root):
        with open(path, 'rb') as f:
            content = STAMP_LINE.sub(b'', f.read()).replace(root.encode('utf-8'), b'$root')
        found['%s/%s' % (prefix, os.path.relpath(path, root))] = hashlib.sha256(content).hexdigest()
    return found


def scratch_env(spack, p, scratch, types):
    """A copy of the environment in SCRATCH/env whose module root of each type is SCRATCH/TYPE."""
    env_dir = p['env_path'] or spack.env_path(p['env'])
    if not env_dir or not os.path.isfile(os.path.join(env_dir, 'spack.yaml')):
        raise SpackError('No Spack environment %s: create it first (research.wizard.spack_env).' % (p['env'] or p['env_path']))
    copy = os.path.join(scratch, 'env')
    os.mkdir(copy)
    manifest = read_yaml(os.path.join(env_dir, 'spack.yaml'))
    section = manifest.setdefault('spack', {}) or {}
    roots = section.setdefault('modules', {}).setdefault('default', {}).setdefault('roots', {})
    roots.update((t, os.path.join(scratch, t)) for t in types)
    with open(os.path.join(copy, 'spack.yaml'), 'w') as f:
        f.write(dump_yaml(manifest))
    if os.path.isfile(os.path.join(env_dir, 'spack.lock')):
        shutil.copy(os.path.join(env_dir, 'spack.lock'), os.path.join(copy, 'spack.lock'))
    return copy


def _compare(before, after, check_mode):
    return dict(
        added=sorted(set(after) - set(before)),
        changed_files=sorted(f for f in after if f in before and after[f] != before[f]),
        # A refresh without --delete-tree leaves files of other packages; a scratch root holds only this
        # environment's, so in check mode nothing counts as removed.
        removed=[] if check_mode else sorted(set(before) - set(after)))


def _main(sm):
    p, spack = sm.params, sm.spack
    where = dict(env=p['env'], env_dir=p['env_path'])
    roots = module_roots(spack, where, p['types'])
    before, after, cmds = {}, {}, []
    scratch = tempfile.mkdtemp(prefix='wizard-modules-') if sm.check_mode else None
    try:
        # Check mode: the same refresh, in a copy of the environment writing to a scratch root.
        run_in = dict(env_dir=scratch_env(spack, p, scratch, p['types'])) if scratch else where
        for kind in p['types']:
            before.update(module_files(roots[kind], kind))
            cmds.append(redact(spack.argv('module_refresh', module_type=kind, assume_yes=True, **where)))
            spack.run('module_refresh', module_type=kind, assume_yes=True, what='%s module files' % kind, **run_in)
            after.update(module_files(os.path.join(scratch, kind) if scratch else roots[kind], kind))
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    result = dict(roots=roots, cmd=cmds, **_compare(before, after, sm.check_mode))
    result['changed'] = bool(result['added'] or result['changed_files'] or result['removed'])
    if sm.module._diff:
        touched = result['added'] + result['changed_files'] + result['removed']
        result['diff'] = dict(
            before=''.join('%s\n' % f for f in sorted(set(touched) & set(before))),
            after=''.join('%s\n' % f for f in sorted(set(touched) - set(result['removed']))))
    return result


def main():
    SpackModule(
        dict(env=dict(type='str'), env_path=dict(type='path'),
             types=dict(type='list', elements='str', choices=['tcl', 'lmod'], required=True)),
        required_one_of=[('env', 'env_path')], mutually_exclusive=[('env', 'env_path')],
    ).run(_main)


if __name__ == '__main__':
    main()
