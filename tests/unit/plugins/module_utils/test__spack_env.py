# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Manifest merging and lock summaries."""
from ansible_collections.research.wizard.plugins.module_utils._spack_env import (
    concrete_specs, deep_merge, desired_manifest, lock_covers, lock_summary, same_lock, set_target,
    settings_changed)
from helpers.spack_fixtures import DIR

import json
import os


def test_new_manifest():
    m, new = desired_manifest(None, specs=['tinyapp', 'tinycmake  +fancy'], unify=True, view=False,
                              target='x86_64_v3', repos=['/r'])
    assert new == ['tinyapp', 'tinycmake +fancy']
    assert m == {'spack': {'specs': [], 'concretizer': {'unify': True}, 'view': False,
                           'packages': {'all': {'require': ['target=x86_64_v3']}}, 'repos': ['/r']}}


def test_keeps_roots_unless_exclusive():
    current = {'spack': {'specs': ['a', 'b'], 'view': True}}
    m, new = desired_manifest(current, specs=['b', 'c'])
    assert m['spack']['specs'] == ['a', 'b'] and new == ['c']
    m, new = desired_manifest(current, specs=['b', 'c'], exclusive=True)
    assert m['spack']['specs'] == ['b'] and new == ['c']
    assert current == {'spack': {'specs': ['a', 'b'], 'view': True}}, 'input must not be mutated'


def test_target_replaces_only_target_requirements():
    section = {'packages': {'all': {'require': ['%gcc', 'target=icelake']}}}
    set_target(section, 'x86_64_v3')
    assert section['packages']['all']['require'] == ['%gcc', 'target=x86_64_v3']
    section = {'packages': {'all': {'require': '%gcc'}}}
    set_target(section, 'neoverse_v1')
    assert section['packages']['all']['require'] == ['%gcc', 'target=neoverse_v1']


def test_config_and_mirrors_merge():
    current = {'spack': {'specs': [], 'mirrors': {'a': 'file:///a'}, 'config': {'build_jobs': 2}}}
    m = desired_manifest(current, mirrors={'b': 'file:///b'}, config={'config': {'ccache': True}},
                         include=['/etc/site.yaml'])[0]
    assert m['spack']['mirrors'] == {'a': 'file:///a', 'b': 'file:///b'}
    assert m['spack']['config'] == {'build_jobs': 2, 'ccache': True}
    assert m['spack']['include'] == ['/etc/site.yaml']


def test_unchanged_manifest_is_equal():
    current = {'spack': {'specs': ['a'], 'view': False, 'concretizer': {'unify': True}}}
    m, new = desired_manifest(current, specs=['a'], view=False, unify=True)
    assert m == current and new == []


def test_deep_merge():
    assert deep_merge({'a': {'b': 1, 'c': 2}}, {'a': {'c': 3}, 'd': 4}) == {'a': {'b': 1, 'c': 3}, 'd': 4}


def test_lock_summary_and_specs():
    with open(os.path.join(DIR, 'env-spack.lock.json')) as f:
        lock = json.load(f)
    s = lock_summary(lock)
    assert s['root_count'] == 2 and s['spec_count'] == 7 and s['external_count'] == 3
    specs = concrete_specs(lock, installed={'funjglgk6qabth3nip7mhofotizg65zf'})
    by = dict((x['name'], x) for x in specs)
    assert by['libtiny']['installed'] and not by['tinyapp']['installed'] and by['cmake']['installed']
    assert by['tinyapp']['root'] and not by['libtiny']['root']
    assert same_lock(lock, dict(lock, _meta={'x': 1}))
    assert not same_lock(lock, dict(lock, roots=[]))
    assert lock_summary(None) is None


def test_lock_covers_exactly_the_manifest_roots():
    lock = {'roots': [{'hash': 'a', 'spec': 'tinyapp'}, {'hash': 'b', 'spec': 'tinycmake+fancy'}]}
    manifest = {'spack': {'specs': ['tinycmake+fancy', 'tinyapp']}}
    assert lock_covers(lock, manifest)
    assert not lock_covers(lock, {'spack': {'specs': ['tinyapp']}})
    assert not lock_covers(lock, {'spack': {'specs': ['tinyapp', 'tinycmake+fancy', 'zlib']}})
    assert not lock_covers(None, manifest) and not lock_covers(lock, None)
    assert not lock_covers({'roots': []}, {'spack': {'specs': []}})


def test_settings_changed_ignores_roots():
    a = {'spack': {'specs': ['x'], 'view': False}}
    assert not settings_changed(a, {'spack': {'specs': ['x', 'y'], 'view': False}})
    assert settings_changed(a, {'spack': {'specs': ['x'], 'view': False, 'packages': {'python': {'require': '@3.11.2'}}}})
    assert not settings_changed(None, a)
