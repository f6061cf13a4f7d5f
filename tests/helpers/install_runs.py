# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The install runs of a test site's environment (<data_dir>/runs/<env>/, docs/progress-events.md), and
the case both Spack generations must pass: two deploys of one env at once install each package once."""
import glob
import json
import os

from helpers.ansible import start_playbook
from helpers.spack_dag import counts

ENV = {'SPACK_DISABLE_LOCAL_CONFIG': None, 'WIZARD_PROGRESS_REPORTS': 'false'}


def runs_dir(site, env='selftest'):
    return os.path.join(site['base'], 'data', 'runs', env)


def events_of(path):
    """The complete, valid lines of a progress file (a corrupted line fails the test)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith('\n')]


def run_files(site, env='selftest'):
    """The progress files of the env's install runs, oldest first (one per run)."""
    return sorted(glob.glob(os.path.join(runs_dir(site, env), '*.jsonl')))


def meta_of(progress):
    with open(progress[:-len('.jsonl')] + '.json') as f:
        return json.load(f)


def summary(site, env='selftest'):
    with open(os.path.join(site['base'], 'data', 'deployments', env + '.json')) as f:
        return json.load(f)


def dag(site, env='selftest'):
    return counts(os.path.join(site['vars']['spack_root'], 'var', 'spack', 'environments', env))


def start_deploy(site, log, **extra):
    """deploy.yml in the background, in a process group of its own."""
    return start_playbook('playbooks/deploy.yml', dict(site['vars'], **extra), log, env=ENV)


def assert_two_deploys_install_once(site, tmp_path, install_tree):
    """Two deploys at once from the site's filled cache into the fresh INSTALL_TREE: both succeed, each
    package is installed by one Spack process, once, and both summaries are right (between them every
    package once from the cache, the rest already there)."""
    extra = dict(spack_install_tree=install_tree, domain_pack_use_buildcache='only')
    before = run_files(site)
    plays = [start_deploy(site, str(tmp_path / ('%d.log' % i)), **extra) for i in (1, 2)]
    for play in plays:
        play.wait(timeout=900)
    logs = [open(str(tmp_path / ('%d.log' % i))).read() for i in (1, 2)]
    assert [p.returncode for p in plays] == [0, 0], [log[-4000:] for log in logs]
    new = sorted(set(run_files(site)) - set(before))
    assert len(new) == 2, new
    installed = [e for path in new for e in events_of(path)
                 if e['event'] == 'installed' and e.get('origin') in ('cache', 'source')]
    names = [e['package'] for e in installed]
    runtime = dag(site)['runtime']
    assert len(names) == len(set(names)) == runtime, names
    shown = [log.split('PLAY RECAP')[0].rsplit('selftest: ', 1)[1].split(' s;')[0] for log in logs]
    got = sorted((int(s.split(' from cache')[0]), int(s.split('built, ')[1].split(' already')[0])) for s in shown)
    assert sum(c for c, _a in got) == runtime and all(c + a == runtime for c, a in got), shown
