# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""spack_buildcache_push / _index / _keys and the deprecated spack_buildcache front: the cases of
test_spack_buildcache.yaml (key publishing from recorded real output of both Spacks, the index compared
before and after, the `aws` CLI kept away from S3-compatible stores on Spack 1.x)."""
import importlib
import json
import os

import pytest

from ansible_collections.research.wizard.plugins.module_utils._spack import SpackError
from ansible_collections.research.wizard.plugins.module_utils._spack_buildcache import (
    fetched_fingerprints, selected_hashes)
from helpers.module_runner import FIXTURES, load_cases, run_case

CASES = load_cases(__file__)


def _fixture(name):
    with open(os.path.join(FIXTURES, 'spack-keys', name)) as f:
        return f.read()


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_buildcache_per_spack_version(case, capsys, tmp_path):
    module = importlib.import_module('ansible_collections.research.wizard.plugins.modules.' + case['module'])
    run_case(module.main, case, tmp_path, capsys, fixtures='spack-keys')


def test_fingerprints_from_both_layouts():
    assert fetched_fingerprints(_fixture('spack-0.23-debug-keys-force.stderr')) == \
        ['86A8E96742BB1903B586906D978FD438752B0EF7']
    assert fetched_fingerprints(_fixture('spack-1.1.1-debug-keys-force.stderr')) == \
        ['73AFC43CAF543266259DCB681E72E2ABA6DA5D07']
    for name in ('spack-0.23-debug-keys-before-publish.stderr', 'spack-1.1.1-debug-keys-before-publish.stderr'):
        assert fetched_fingerprints(_fixture(name)) == []


# The recorded 0.23 lock of `tinyapp tinycmake+fancy`: tinyapp pto5yzt -> libtiny funjglg -> gcc-runtime 5ac4ses,
# glibc x6jyccn (external), gmake srfykal (external, build).
with open(os.path.join(FIXTURES, 'spack', 'env-spack.lock.json')) as f:
    LOCK = json.load(f)['concrete_specs']


@pytest.mark.parametrize('specs,only,expected', [
    (['/pto5yzt'], 'package', ['pto5yzt']),
    (['/pto5yzt', '/funjglgk6qabth3nip7mhofotizg65zf'], 'package', ['funjglg', 'pto5yzt']),
    (['/funjglg'], None, ['5ac4ses', 'funjglg', 'srfykal', 'x6jyccn']),
    (['/funjglg'], 'dependencies', ['5ac4ses', 'srfykal', 'x6jyccn']),
])
def test_check_mode_selects_what_spack_would_push(specs, only, expected):
    """A push of given /HASH specs of an environment selects them and, unless only=package, every dependency."""
    assert sorted(h[:7] for h in selected_hashes(LOCK, specs, only)) == expected


@pytest.mark.parametrize('spec', ['tinyapp', '/zzzzzzz', '/'])
def test_check_mode_of_specs_not_named_by_hash_says_so(spec):
    with pytest.raises(SpackError, match='needs each spec as /HASH'):
        selected_hashes(LOCK, [spec], 'package')
