# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Spack environment manifests (spack.yaml) and lockfiles (spack.lock): merge, compare, summarise."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os


def _norm_spec(spec):
    return ' '.join(str(spec).split())


def deep_merge(base, extra):
    """Merge mapping `extra` into a copy of `base`; mappings merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _union(current, wanted):
    out = list(current or [])
    for item in wanted or []:
        if item not in out:
            out.append(item)
    return out


def set_target(section, target):
    """packages:all:require gets exactly one `target=` requirement, keeping any others."""
    packages = section.setdefault('packages', {})
    all_ = packages.setdefault('all', {}) or {}
    packages['all'] = all_
    require = all_.get('require', [])
    if isinstance(require, str):
        require = [require]
    kept = [r for r in require if not (isinstance(r, str) and r.strip().startswith('target='))]
    all_['require'] = kept + ['target=%s' % target]


def desired_manifest(current, specs=None, exclusive=False, unify=None, view=None, target=None,
                     repos=None, mirrors=None, include=None, config=None):
    """The spack.yaml content wanted: `current` with the requested roots and settings applied.

    Returns (manifest, new_specs): new_specs are roots not in `current`, which the caller validates
    with Spack (`spack add`) before anything is written.
    """
    manifest = copy.deepcopy(current) if current else {'spack': {}}
    section = manifest.setdefault('spack', {}) or {}
    manifest['spack'] = section
    if config:
        section.update(deep_merge(section, config))
    have = [_norm_spec(s) for s in section.get('specs', []) if isinstance(s, str)]
    new_specs = []
    if specs is not None:
        wanted = [_norm_spec(s) for s in specs]
        new_specs = [s for s in wanted if s not in have]
        if exclusive:
            section['specs'] = [s for s in wanted if s in have]
        else:
            section['specs'] = list(section.get('specs', []))
    section.setdefault('specs', [])
    if unify is not None:
        section.setdefault('concretizer', {})['unify'] = unify
    if view is not None:
        section['view'] = view
    if target:
        set_target(section, target)
    if repos:
        section['repos'] = _union(section.get('repos'), [os.path.abspath(os.path.expanduser(r)) for r in repos])
    if mirrors:
        section['mirrors'] = deep_merge(section.get('mirrors') or {}, mirrors)
    if include:
        section['include'] = _union(section.get('include'), include)
    return manifest, new_specs


def lock_summary(lock):
    """Counts and concrete specs of a spack.lock (None when the env was never concretized)."""
    if not lock:
        return None
    specs = lock.get('concrete_specs', {})
    return {
        'roots': [r.get('spec') for r in lock.get('roots', [])],
        'root_count': len(lock.get('roots', [])),
        'spec_count': len(specs),
        'external_count': sum(1 for s in specs.values() if s.get('external')),
    }


def concrete_specs(lock, installed=None):
    """[{name, version, hash, external, installed, root}] for every concrete spec in a lock."""
    if not lock:
        return []
    roots = set(r.get('hash') for r in lock.get('roots', []))
    out = []
    for dag_hash, spec in sorted(lock.get('concrete_specs', {}).items(), key=lambda kv: (kv[1].get('name'), kv[0])):
        external = bool(spec.get('external'))
        out.append({
            'name': spec.get('name'),
            'version': spec.get('version'),
            'hash': dag_hash,
            'external': external,
            'installed': external or (installed is not None and dag_hash in installed),
            'root': dag_hash in roots,
        })
    return out


def lock_covers(lock, manifest):
    """Every root of the manifest is concretized in the lock, and nothing else is.

    Then `spack concretize` (without --force) has nothing to do, as Spack only concretizes user specs
    missing from the lock. Roots compare as text, so a spec Spack writes differently (e.g. variants
    reordered) only costs the concretize run this saves.
    """
    if not lock or not manifest:
        return False
    wanted = set(_norm_spec(s) for s in manifest.get('spack', {}).get('specs', []))
    locked = set(_norm_spec(r.get('spec')) for r in lock.get('roots', []))
    return bool(wanted) and wanted == locked


def settings_changed(current, wanted):
    """Anything but the root specs differs between two manifests."""
    def settings(manifest):
        return dict((k, v) for k, v in ((manifest or {}).get('spack') or {}).items() if k != 'specs')
    return current is not None and settings(current) != settings(wanted)


def same_lock(a, b):
    """Two locks describe the same concretization (ignoring _meta, which Spack may rewrite)."""
    if not a or not b:
        return a == b
    return _without_meta(a) == _without_meta(b)


def _without_meta(lock):
    return dict((k, v) for k, v in lock.items() if k != '_meta')
