# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an environment's concretized DAG holds, read from its spack.lock: the counts the tests expect.

Spack 1.x adds nodes 0.23 did not have (compiler-wrapper, a build-only dependency, and gcc-runtime),
so tests count from the lock instead of constants:
- `built`: every non-external node, what a from-source install builds;
- `runtime`: the non-external nodes reachable from the roots through link/run edges, what an install
  from a cache (`--use-buildcache only` skips build-only dependencies) or a re-run reports.
"""
import json
import os


def read_lock(path):
    if os.path.isdir(path):
        path = os.path.join(path, 'spack.lock')
    with open(path) as f:
        return json.load(f)


def _edges(spec):
    for dep in spec.get('dependencies') or []:
        params = dep.get('parameters') or {}
        types = params.get('deptypes') or dep.get('type') or []
        yield dep['hash'], set(types)


def counts(lock):
    """{'built': n, 'runtime': m, 'external': k, 'names': {name: ...}} of a spack.lock (dict or path)."""
    if not isinstance(lock, dict):
        lock = read_lock(lock)
    specs = lock['concrete_specs']
    runtime, todo = set(), [r['hash'] for r in lock['roots']]
    while todo:
        h = todo.pop()
        if h in runtime:
            continue
        runtime.add(h)
        todo += [d for d, types in _edges(specs[h]) if types & {'link', 'run'}]
    external = set(h for h, s in specs.items() if s.get('external'))
    return {
        'built': len(set(specs) - external),
        'runtime': len(runtime - external),
        'external': len(external),
        'names': sorted(s['name'] for h, s in specs.items() if h not in external),
        'runtime_names': sorted(specs[h]['name'] for h in runtime - external),
    }
