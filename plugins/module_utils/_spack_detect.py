# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compiler and external detection (spack compiler find / external find / compiler list), both Spacks.

Check mode runs the same finds with a scratch user scope in which Spack writes: the real user scope is
given to Spack as a read-only `-C` scope above it, so Spack compares what it detects with the same
merged configuration, and what it "adds" is exactly what a real run would add.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os

from ansible_collections.research.wizard.plugins.module_utils._spack import redact
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    parse_compiler_list, parse_compilers_added, parse_externals_added)
from ansible_collections.research.wizard.plugins.module_utils._spack_scratch import env_override, scratch_dir


def local_config_disabled(spack):
    return bool(spack.environ.get('SPACK_DISABLE_LOCAL_CONFIG') or os.environ.get('SPACK_DISABLE_LOCAL_CONFIG'))


@contextlib.contextmanager
def dry_run(spack):
    """(run options, scope to write) for finds whose writes go to a scratch user scope."""
    real = spack.stdout('config_print_file', scope='user', section='packages', what='the user scope')
    with scratch_dir('wizard-detect-') as scratch:
        with env_override(spack, SPACK_USER_CONFIG_PATH=scratch):
            yield dict(scope_dirs=[os.path.dirname(real.strip().splitlines()[-1])]), 'user'


@contextlib.contextmanager
def real_run(scope):
    yield {}, scope


def detect(sm):
    """Run the finds the params ask for; the module's result."""
    p, spack = sm.params, sm.spack
    if sm.check_mode and local_config_disabled(spack):
        return dict(changed=False, compilers_added=[], externals_added=[], cmd=[], stdout='', stderr='',
                    msg='Check mode detects nothing with SPACK_DISABLE_LOCAL_CONFIG set: it needs a scratch user scope.')
    cmds, outs, errs = [], [], []
    result = dict(compilers_added=[], externals_added=[])

    def find(command, opts, scope, **values):
        # cmd shows the command of a real run (in check mode, the scratch scope is written instead).
        cmds.append(redact(spack.argv(command, scope=p['scope'], **values)))
        rc, out, err = spack.run(command, what='scope %s' % p['scope'], scope=scope, **dict(opts, **values))
        outs.append(out)
        errs.append(err)
        return out + '\n' + err

    with dry_run(spack) if sm.check_mode else real_run(p['scope']) as (opts, scope):
        if p['compilers']:
            result['compilers_added'] = parse_compilers_added(find('compiler_find', opts, scope))
        if p['packages']:
            result['externals_added'] = parse_externals_added(find(
                'external_find', opts, scope, not_buildable=not p['buildable'], packages=p['packages']))
        if p['compilers']:
            result['compilers'] = parse_compiler_list(spack.stdout('compiler_list', **opts))
    result.update(changed=bool(result['compilers_added'] or result['externals_added']), cmd=cmds,
                  stdout='\n'.join(outs), stderr='\n'.join(errs))
    return result
