# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Side-by-side timings of deployments, printed as ratios (issue 4, section 7).

  .venv/bin/python benchmarks/deploy_cache_vs_source.py [--workdir DIR] [--realstack]

1. deploy.yml from source into a fresh install root, then from the cache into another fresh root:
   `source_s cache_s ratio` (whole playbook runs, Spack setup excluded: it is done once beforehand).
2. The spack_install step against raw `spack -e ENV install`, same work (cache-only into a fresh root
   each), both as tasks of one playbook timed by the play (the raw one through ansible.builtin.command,
   so both pay the same per-task cost; raw Spack from a shell is printed too):
   `module_s raw_s ratio` (target: module <= 1.1 x raw + 1 s). Progress file on vs off, likewise
   (median of 5).
3. A no-op spack_install step against the raw no-op step, and a no-op re-deploy (whole playbook,
   median of 5) against raw `spack -e ENV install` from a shell on the installed env (median of 5):
   ratios (target 1.5 x); and the no-op re-deploy through every role (deploy_force=true).

--realstack deploys ten real Spack packages (numpy, netlib-lapack, ...) instead of the selftest pack:
it needs gfortran and the offline source mirror of ../shared/spack/realstack (built with its
make-source-mirror.sh against the benchmark's own Spack); from source it takes ~9 minutes on 2 cores.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from helpers.spack_sandbox import deploy_vars, make_spack_tarball, real_spack_root  # noqa: E402

BIN = os.path.dirname(sys.executable)
REALSTACK = os.path.join(ROOT, '..', 'shared', 'spack', 'realstack')
DEBIAN_PYTHON = '3.11.2'  # /usr/bin/python3 of Debian 12, what realstack.yaml's compiler entry belongs to


def env():
    e = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), WIZARD_PROGRESS_REPORTS='false')
    e.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    return e


def timed(cmd, **kw):
    """Wall-clock seconds of a command that must succeed."""
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit('failed (%s): %s\n%s\n%s' % (proc.returncode, ' '.join(cmd[:3]), proc.stdout[-3000:], proc.stderr[-2000:]))
    return seconds


def deploy(dvars, **extra):
    return timed([os.path.join(BIN, 'ansible-playbook'), 'playbooks/deploy.yml', '-e', json.dumps(dict(dvars, **extra))],
                 cwd=ROOT, env=env())


def spack_env(dvars):
    e = dict(os.environ, SPACK_PYTHON=dvars['spack_venv'] + '/bin/python', **dvars['spack_extra_env_vars'])
    e.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    return e


def realstack_pack(work):
    """A pack file for the realstack environment, in a domains folder of its own."""
    import yaml
    with open(os.path.join(REALSTACK, 'realstack.yaml')) as f:
        manifest = yaml.safe_load(f)['spack']
    domains = os.path.join(work, 'domains')
    os.makedirs(domains, exist_ok=True)
    shutil.copy(os.path.join(ROOT, 'domains', 'schema.json'), domains)
    with open(os.path.join(ROOT, 'domains', 'selftest.yml')) as f:
        pack = yaml.safe_load(f)
    specs = list(manifest['specs'])
    pack.update(name='realstack', title='Realstack benchmark', description='Ten real Spack packages that build offline.',
                specs={'stack': specs}, target='x86_64_v3', repos=[], source_mirrors=[],
                pins=dict((s, 'the version whose source archive the offline realstack mirror holds') for s in specs))
    pack['concretizer'] = {'unify': True}
    with open(os.path.join(domains, 'realstack.yml'), 'w') as f:
        yaml.safe_dump(pack, f)
    env_config = dict((k, v) for k, v in manifest.items() if k not in ('specs', 'view', 'concretizer'))
    env_config['concretizer'] = {'reuse': False}
    # `spack external find` also records pyenv shims on PATH as a python; builds must use Debian's.
    env_config['packages']['python'] = {'require': '@' + DEBIAN_PYTHON}
    return domains, env_config


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--realstack', action='store_true')
    args = ap.parse_args()
    src = real_spack_root()
    if src is None:
        sys.exit('no Spack at $SPACK_ROOT (default /opt/spack)')
    work = args.workdir or tempfile.mkdtemp(prefix='wizard-bench-')
    os.makedirs(work, exist_ok=True)
    tarball = make_spack_tarball(src, os.path.join(work, 'spack-src.tar'))
    dvars = deploy_vars(work, tarball)
    env_name = 'selftest'
    if args.realstack:
        env_name = 'realstack'
        domains, env_config = realstack_pack(work)
        dvars.update(domain='realstack', domain_pack_domains_dir=domains, domain_pack_env_config=env_config)
    spack = os.path.join(dvars['spack_root'], 'bin', 'spack')

    # Spack itself, once, outside the timings (realstack's pack cannot concretize before its source
    # mirror exists, so only the spack role runs here).
    setup = os.path.join(work, 'setup.yml')
    with open(setup, 'w') as f:
        json.dump([{'name': 'Spack', 'hosts': 'localhost', 'gather_facts': True, 'vars': dvars,
                    'roles': [{'role': 'research.wizard.spack'}]}], f)
    deploy_setup = timed([os.path.join(BIN, 'ansible-playbook'), setup], cwd=ROOT, env=env())
    if args.realstack:
        e = spack_env(dvars)
        e['PATH'] = os.path.dirname(spack) + os.pathsep + e['PATH']
        # The script registers the mirror anew: a re-run in the same --workdir drops the old entry first.
        subprocess.run([spack, 'mirror', 'remove', '--scope', 'site', 'realstack-src'], env=e, capture_output=True, check=False)
        timed(['bash', os.path.join(REALSTACK, 'make-source-mirror.sh'), os.path.join(work, 'realstack')], env=e)

    def store(name):
        return os.path.join(work, 'store-' + name)

    # A re-run in the same --workdir starts from empty install roots and a new environment again.
    for name in os.listdir(work):
        if name.startswith('store-'):
            shutil.rmtree(os.path.join(work, name))
    shutil.rmtree(os.path.join(dvars['spack_root'], 'var', 'spack', 'environments', env_name), ignore_errors=True)

    source_s = deploy(dvars, spack_install_tree=store('source'), domain_pack_use_buildcache='never')
    cache_s = deploy(dvars, spack_install_tree=store('cache'), domain_pack_use_buildcache='only')
    with open(os.path.join(dvars['domain_pack_data_dir'], 'deployments', env_name + '.json')) as f:
        summary = json.load(f)
    assert summary['counts']['source'] == 0 and summary['counts']['cache'] > 0, summary['counts']

    # The install step alone, and the no-op, each as a task of one playbook: the module against the
    # same `spack install` run by ansible.builtin.command, so both pay the same per-task cost.
    steps = install_steps(dvars, work, env_name, spack, store)
    # The same raw Spack from a shell, no Ansible at all.
    raw_cli_s = timed([spack, '-c', 'config:install_tree:root:' + store('raw-cli'), '-e', env_name, 'install',
                       '--use-buildcache', 'only'], env=spack_env(dvars))
    # No-op runs take seconds: median of 5, alternating, so load changes hit both alike.
    noop_raw, noop_deploy = [], []
    for _round in range(5):
        noop_raw.append(timed([spack, '-c', 'config:install_tree:root:' + store('cache'), '-e', env_name, 'install'],
                              env=spack_env(dvars)))
        noop_deploy.append(deploy(dvars, spack_install_tree=store('cache'), domain_pack_use_buildcache='only'))
    noop_raw_cli_s, noop_deploy_s = sorted(noop_raw)[2], sorted(noop_deploy)[2]
    # The same no-op through every role (what the stamp check saves).
    noop_forced_s = deploy(dvars, spack_install_tree=store('cache'), domain_pack_use_buildcache='only', deploy_force=True)

    print('pack=%s packages=%d spack_setup_s=%.1f' % (env_name, len(summary['packages']), deploy_setup))
    print('deploy: source_s=%.1f cache_s=%.1f ratio=%.1f (target >= 100)' % (source_s, cache_s, source_s / cache_s))
    module_s, raw_s = steps['module'], steps['raw']
    print('install step (cache-only, fresh root; tasks of one playbook): module_s=%.2f raw_s=%.2f ratio=%.2f '
          '(target module <= 1.1 x raw + 1 s: %s); raw spack from a shell: %.2f s' % (
              module_s, raw_s, module_s / raw_s, 'met' if module_s <= 1.1 * raw_s + 1 else 'NOT met', raw_cli_s))
    on, off = sorted(steps['on']), sorted(steps['off'])
    print('progress on/off (cache-only install, median of 5, alternating): on_s=%.2f off_s=%.2f diff=%+.1f%% '
          '(target within 5%%)' % (on[2], off[2], 100.0 * (on[2] - off[2]) / off[2]))
    print('no-op install step: module_s=%.2f raw_s=%.2f ratio=%.2f (target 1.5: %s)' % (
        steps['noop_module'], steps['noop_raw'], steps['noop_module'] / steps['noop_raw'],
        'met' if steps['noop_module'] <= 1.5 * steps['noop_raw'] else 'NOT met'))
    print('no-op re-deploy: deploy_s=%.2f raw_spack_s=%.2f ratio=%.1f (target 1.5: %s)' % (
        noop_deploy_s, noop_raw_cli_s, noop_deploy_s / noop_raw_cli_s,
        'met' if noop_deploy_s <= 1.5 * noop_raw_cli_s else 'NOT met'))
    print('no-op re-deploy through every role (-e deploy_force=true): deploy_s=%.2f ratio=%.1f' % (
        noop_forced_s, noop_forced_s / noop_raw_cli_s))


def install_steps(dvars, work, env_name, spack, store):
    """Seconds of each install task, timed by the play itself (now() before and after each)."""
    common = {'env': env_name, 'spack_root': dvars['spack_root'], 'spack_env_vars': spack_env_vars(dvars)}

    def module(root, **extra):
        return {'research.wizard.spack_install': dict(common, spack_config=['config:install_tree:root:' + root], **extra)}

    def raw(root, *extra):
        return {'ansible.builtin.command': {'argv': [spack, '-c', 'config:install_tree:root:' + root, '-e', env_name,
                                                     'install'] + list(extra)},
                'environment': spack_env_vars(dvars)}

    tasks = [('module', module(store('module'), use_buildcache='only')),
             ('raw', raw(store('raw'), '--use-buildcache', 'only'))]
    for i in range(5):
        tasks.append(('on', module(store('p%don' % i), use_buildcache='only',
                                   progress_file=os.path.join(work, 'progress-%d.jsonl' % i))))
        tasks.append(('off', module(store('p%doff' % i), use_buildcache='only')))
    tasks += [('noop_module', module(store('cache'))), ('noop_raw', raw(store('cache')))]
    play_tasks = [{'name': 'start', 'ansible.builtin.set_fact': {'bench_marks': [{'at': '{{ now().timestamp() }}'}]}}]
    for label, task in tasks:
        play_tasks.append(dict(task, name=label))
        play_tasks.append({'name': 'mark', 'ansible.builtin.set_fact': {
            'bench_marks': "{{ bench_marks + [{'label': '%s', 'at': now().timestamp()}] }}" % label}})
    marks_file = os.path.join(work, 'install-steps.json')
    play_tasks.append({'name': 'save', 'ansible.builtin.copy': {'content': '{{ bench_marks | to_json }}',
                                                                'dest': marks_file, 'mode': '0644'},
                       'delegate_to': 'localhost'})
    playbook = os.path.join(work, 'install-steps.yml')
    with open(playbook, 'w') as f:
        json.dump([{'name': 'Install steps', 'hosts': 'localhost', 'gather_facts': False, 'tasks': play_tasks}], f)
    timed([os.path.join(BIN, 'ansible-playbook'), playbook], cwd=ROOT, env=env())
    with open(marks_file) as f:
        marks = json.load(f)
    out = {}
    for before, after in zip(marks, marks[1:]):
        seconds = float(after['at']) - float(before['at'])
        if after['label'] in ('on', 'off'):
            out.setdefault(after['label'], []).append(seconds)
        else:
            out[after['label']] = seconds
    return out


def spack_env_vars(dvars):
    return dict(SPACK_PYTHON=dvars['spack_venv'] + '/bin/python', **dvars['spack_extra_env_vars'])


if __name__ == '__main__':
    main()
