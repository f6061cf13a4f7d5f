# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an install would do (check mode of spack_install): the concrete specs missing in the
install tree, and which of them a binary cache has."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.research.wizard.plugins.module_utils._spack import read_json
from ansible_collections.research.wizard.plugins.module_utils._spack_env import concrete_specs
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import (
    parse_buildcache_list, parse_spec_install_status)


def _cached_hashes(spack, env_dir):
    """Short hashes the configured binary caches hold, or None when they cannot be listed."""
    rc, out, err = spack.run('buildcache_list', allarch=True, long=True, env_dir=env_dir, check=False)
    if rc != 0:
        return None
    return set(e['hash'][:7] for e in parse_buildcache_list(out))


def _unknown(reason):
    return dict(changed=True, plan=dict(concretized=False, missing=[], from_cache=None, from_source=None, reason=reason))


def plan(p, spack, env_dir):
    """The plan of an install with the module's options P: the concrete specs missing in the install
    tree Spack is configured with (the module's spack_config overrides included, so a plan can be
    made against a new tree), and for each whether a configured binary cache has it (None: unknown).

    A named environment that does not exist yet (env_dir None) or has no spack.lock cannot be
    planned here: the plan says so (concretized false, reason) instead of failing; the deploy
    concretizes the pack in a temporary environment for it."""
    if p.get('env') and not env_dir:
        return _unknown('environment %s does not exist yet' % p['env'])
    if env_dir and read_json(os.path.join(env_dir, 'spack.lock')) is None:
        return _unknown('environment %s is not concretized (no spack.lock)' % (p.get('env') or env_dir))
    cached = _cached_hashes(spack, env_dir) if p['use_buildcache'] != 'never' else set()
    if env_dir:
        lock = read_json(os.path.join(env_dir, 'spack.lock'))
        specs = concrete_specs(lock, set(spack.installed()))
        missing = [dict(name=s['name'], version=s['version'], hash=s['hash']) for s in specs if not s['installed']]
    else:
        out = spack.stdout('spec', install_status=True, long=True, specs=p['specs'], what=' '.join(p['specs']))
        missing = [dict(name=s['name'], version=s['version'], hash=s['hash'])
                   for s in parse_spec_install_status(out) if s['status'] == 'missing']
    for m in missing:
        m['from_cache'] = None if cached is None else m['hash'][:7] in cached
    from_cache = None if cached is None else sum(1 for m in missing if m['from_cache'])
    return dict(changed=bool(missing), plan=dict(
        concretized=True, missing=missing, from_cache=from_cache, reason=None,
        from_source=None if from_cache is None or p['use_buildcache'] == 'only' else len(missing) - from_cache))
