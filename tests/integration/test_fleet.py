# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fleet that shares one cache builds each package once (issue 14, part 1), on the real Spack 1.1.1:
deploy.yml against the research.wizard.fleet_sim inventory (three hosts on this machine, each with its
own Spack root, install tree, data dir and GnuPG home, one shared cache folder). The builder builds and
pushes, the other hosts install everything from the cache after it; with a package that never compiles,
the builder pushes the rest and the other hosts install what the cache has and name the builder's
failure for the rest."""
import json
import os

import pytest
import yaml

from helpers.ansible import ROOT, explain, run_playbook
from helpers.spack_dag import counts
from helpers.spack_sandbox import make_spack_tarball, seed_user_cache

ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}
HOSTS = ['sim1', 'sim2', 'sim3']


@pytest.fixture(scope='module')
def fleet(tmp_path_factory, spack):
    base = str(tmp_path_factory.mktemp('fleet'))
    tarball = make_spack_tarball(spack['vars'].get('spack_local_source') or spack['root'],
                                 os.path.join(base, 'spack-src.tar'))
    host_vars = dict((k, v) for k, v in spack['vars'].items() if k != 'spack_root')
    host_vars.update(spack_source='local', spack_local_source=tarball)
    for name in HOSTS:
        os.makedirs(os.path.join(base, name, 'user'))
        seed_user_cache(spack, os.path.join(base, name, 'user-cache'))
    inventory = os.path.join(base, 'fleet.fleet_sim.yml')
    with open(inventory, 'w') as f:
        yaml.safe_dump({'plugin': 'research.wizard.fleet_sim', 'hosts': len(HOSTS), 'base_dir': base,
                        'host_vars': host_vars}, f)
    # A pack with a package that never compiles, next to selftest's tinyapp.
    domains = os.path.join(base, 'domains')
    os.makedirs(domains)
    with open(os.path.join(ROOT, 'domains', 'selftest.yml')) as f:
        pack = yaml.safe_load(f)
    pack.update(name='partial', title='Partial failure', specs={'apps': ['tinyapp', 'tinybroken']})
    pack.pop('externals', None)
    with open(os.path.join(domains, 'partial.yml'), 'w') as f:
        yaml.safe_dump(pack, f)
    os.symlink(os.path.join(ROOT, 'tests'), os.path.join(base, 'tests'))  # the pack's repos, relative to domains/..
    return {'base': base, 'inventory': inventory, 'domains': domains}


def deploy(fleet, **extra):
    return run_playbook('playbooks/deploy.yml', dict({'domain': 'selftest'}, **extra), env=ENV,
                        args=['-i', fleet['inventory']], timeout=1800)


def summaries(fleet, env):
    out = {}
    for name in HOSTS:
        with open(os.path.join(fleet['base'], name, 'data', 'deployments', env + '.json')) as f:
            out[name] = json.load(f)
    return out


def test_each_package_is_built_once_in_the_fleet(fleet):
    proc = deploy(fleet)
    assert proc.returncode == 0, explain(proc)
    got = summaries(fleet, 'selftest')
    dag = counts(os.path.join(fleet['base'], 'sim1', 'spack', 'var', 'spack', 'environments', 'selftest'))
    assert got['sim1']['fleet'] == {'role': 'builder', 'builder': 'sim1'}
    assert got['sim1']['counts']['source'] == dag['built'] and got['sim1']['pushed'] == dag['built'], got['sim1']
    for name in HOSTS[1:]:
        assert got[name]['fleet'] == {'role': 'consumer', 'builder': 'sim1'}, got[name]
        assert got[name]['counts']['source'] == 0 and got[name]['counts']['cache'] == dag['runtime'], got[name]['counts']
        assert got[name]['pushed'] == 0
    assert sum(s['counts']['source'] for s in got.values()) == dag['built'], 'one build per package'


def test_the_others_name_the_builders_failure(fleet):
    proc = deploy(fleet, domain='partial', domain_pack_domains_dir=fleet['domains'],
                  spack_install_tree='{{ wizard_sim_dir }}/store-partial',
                  binary_cache_local_path=os.path.join(fleet['base'], 'cache-partial'))
    assert proc.returncode != 0, explain(proc)
    got = summaries(fleet, 'partial')
    builder = got['sim1']
    assert [f['package'] for f in builder['failures']] == ['tinybroken'], builder
    good = sorted(p['package'] for p in builder['packages'] if p['state'] == 'installed' and p['origin'] == 'source')
    assert {'tinyapp', 'libtiny'} <= set(good) and builder['pushed'] == len(good), builder
    for name in HOSTS[1:]:
        summary = got[name]
        assert summary['counts']['source'] == 0, summary['counts']
        cached = sorted(p['package'] for p in summary['packages'] if p['origin'] == 'cache' and p['state'] == 'installed')
        assert {'tinyapp', 'libtiny'} <= set(cached), summary['packages']
        assert [f['package'] for f in summary['failures']] == ['tinybroken'], summary['failures']
        assert 'missing from the cache of builder sim1 (it failed to build tinybroken)' in summary['msg'], summary['msg']
    assert 'missing from the cache of builder sim1' in proc.stdout, explain(proc)
