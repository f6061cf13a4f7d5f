# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A build failure alongside good packages (issue 13, part 1), on the real Spack 1.1.1: deploy.yml of a pack
with tinyapp (and its libtiny) and tinybroken (never compiles) fails, naming tinybroken with the compiler's
error line from its build log, yet pushes every package it built from source; a deploy of the same pack
into a fresh install tree then takes all of those from the cache and builds none of them."""
import json
import os
import re

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._spack_buildcache import stored_hashes
from helpers.ansible import ROOT, explain, run_playbook
from helpers.spack_sandbox import deploy_vars

PACK = 'partial'
COMPILER_ERROR = "broken.c:2:25: error: 'this_symbol_does_not_exist' undeclared (first use in this function)"
ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}


@pytest.fixture(scope='module')
def site(tmp_path_factory, spack):
    """One site (Spack installed by the role from the tests' Spack, a local cache) and a domains folder with
    the pack: selftest's settings, specs tinyapp and tinybroken."""
    base = str(tmp_path_factory.mktemp('partial'))
    domains = os.path.join(base, 'domains')
    os.makedirs(domains)
    with open(os.path.join(ROOT, 'domains', 'selftest.yml')) as f:
        pack = yaml.safe_load(f)
    pack.update(name=PACK, title='Partial failure (tinybroken never compiles)', specs={'apps': ['tinyapp', 'tinybroken']})
    pack.pop('externals', None)
    with open(os.path.join(domains, PACK + '.yml'), 'w') as f:
        yaml.safe_dump(pack, f)
    # repos/source_mirrors are relative to the parent of domains/: the checkout's tests/testrepo.
    os.symlink(os.path.join(ROOT, 'tests'), os.path.join(base, 'tests'))
    site_vars = dict(deploy_vars(base, spack, domain=PACK), domain_pack_domains_dir=domains)
    return {'base': base, 'vars': site_vars, 'cache': site_vars['binary_cache_local_path']}


def deploy(site, **extra):
    """deploy.yml, expected to fail on tinybroken: (process, summary JSON)."""
    proc = run_playbook('playbooks/deploy.yml', dict(site['vars'], **extra), env=ENV, timeout=900)
    assert proc.returncode != 0, explain(proc)
    path = os.path.join(site['base'], 'data', 'deployments', PACK + '.json')
    assert os.path.exists(path), explain(proc)
    with open(path) as f:
        return proc, json.load(f)


@pytest.fixture(scope='module')
def first(site):
    return deploy(site)


def built(summary):
    return sorted((p['package'], p['hash']) for p in summary['packages']
                  if p['state'] == 'installed' and p['origin'] == 'source')


def test_failure_names_the_compiler_error(first):
    proc, summary = first
    # The play's failure message: the package, the build log's first error line, the log.
    failed = [line for line in proc.stdout.splitlines() if 'package(s) of %s failed' % PACK in line]
    assert failed and 'tinybroken@0.1: ' + COMPILER_ERROR in failed[0], explain(proc)
    assert 'spack-build-out.txt' in failed[0]
    assert summary['rc'] != 0 and summary['counts']['failed'] == 1
    [failure] = summary['failures']
    assert failure['package'] == 'tinybroken' and failure['log'].endswith('spack-build-out.txt')
    lines = failure['excerpt'].splitlines()
    # make's own error line follows; under another make (`make test`) it is make[1]'s, with its directory lines.
    assert lines[0] == COMPILER_ERROR, failure
    assert any(re.match(r'make(\[\d+\])?: \*\*\* \[Makefile:4: broken\] Error 1$', line) for line in lines), failure


def test_what_was_built_is_pushed(site, first):
    proc, summary = first
    good = built(summary)
    names = [name for name, dummy in good]
    assert {'tinyapp', 'libtiny', 'gcc-runtime'} <= set(names) and 'tinybroken' not in names, summary['packages']
    assert summary['counts']['source'] == len(good) and summary['pushed'] == len(good), summary
    in_cache = set(stored_hashes(site['cache']))
    assert {h[:7] for dummy, h in good} <= in_cache, (good, sorted(in_cache))


def test_a_fresh_tree_takes_the_good_ones_from_the_cache(site, first):
    good = built(first[1])
    proc, again = deploy(site, spack_install_tree=os.path.join(site['base'], 'store2'))
    assert again['counts']['source'] == 0 and again['counts']['cache'] == len(good), (again['counts'], good)
    from_cache = sorted((p['package'], p['hash']) for p in again['packages'] if p['origin'] == 'cache')
    assert [n for n, h in from_cache] == [n for n, h in good], (from_cache, good)
    assert [f['package'] for f in again['failures']] == ['tinybroken']
    assert again['failures'][0]['excerpt'].splitlines()[0] == COMPILER_ERROR
    assert again['pushed'] == 0, 'nothing new was built'
