# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_gc from the cases in test_spack_gc.yaml: a small DAG written as environment locks and as
`spack find --json`, then the exact commands and what is removed or kept."""
import json

import pytest

from ansible_collections.research.wizard.plugins.modules import spack_gc
from helpers.module_runner import load_cases, run_case

CASES = load_cases(__file__)


def node(nodes, dag_hash):
    """One spec as Spack writes it in spack.lock and find --json (dependencies with their deptypes)."""
    name, deps = nodes[dag_hash]
    record = {'name': name if name != 'external' else dag_hash.rstrip('0'), 'version': '1.0', 'hash': dag_hash,
              'dependencies': [{'name': nodes[d][0], 'hash': d, 'parameters': {'deptypes': types, 'virtuals': []}}
                               for d, types in sorted(deps.items())]}
    if name == 'external':
        record['external'] = {'path': '/usr', 'module': None, 'extra_attributes': {}}
    return record


def write_env(directory, nodes, hashes):
    directory.mkdir(parents=True)
    (directory / 'spack.yaml').write_text('spack: {specs: []}\n')
    lock = {'_meta': {'lockfile-version': 6}, 'roots': [],
            'concrete_specs': dict((h, node(nodes, h)) for h in hashes)}
    (directory / 'spack.lock').write_text(json.dumps(lock))


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_case(case, tmp_path, capsys):
    nodes = case['nodes']
    for where in ('envs', 'envs_elsewhere'):
        for name, hashes in (case.get(where) or {}).items():
            write_env(tmp_path / ('envs' if where == 'envs' else 'elsewhere') / name, nodes, hashes)
    for name in case.get('manifest_only') or ():
        (tmp_path / 'envs' / name).mkdir(parents=True)
        (tmp_path / 'envs' / name / 'spack.yaml').write_text('spack: {specs: [tinyapp]}\n')
    for name in case.get('broken_lock') or ():
        (tmp_path / 'envs' / name).mkdir(parents=True)
        (tmp_path / 'envs' / name / 'spack.yaml').write_text('spack: {specs: [tinyapp]}\n')
        (tmp_path / 'envs' / name / 'spack.lock').write_text('{"concrete_specs": {')
    installed = json.dumps([node(nodes, h) for h in case['installed']])
    for step in case['commands']:
        if step.get('out') == '{installed}':
            step['out'] = installed
    rc, result, calls = run_case(spack_gc.main, case, tmp_path, capsys)
    # Never an external, never what another environment or a user install needs.
    gone = set(s['hash'] for s in result.get('removed') or ())
    assert not [h for h in gone if nodes[h][0] == 'external']
    for name, hashes in (case.get('envs') or {}).items():
        if name != case['input']['env']:
            assert not gone & set(hashes), 'removed what %s needs' % name
