# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency from Spack printing a package's line to the research.wizard.progress callback showing it.

  .venv/bin/python benchmarks/progress_latency.py [--rounds 3] [--compare]

A stand-in `spack` replays the recorded output of a real install (tests/fixtures/spack/install-source,
4 packages built from source) with a seeded random pause of 0.3-2.5 s before each package, so the
"Successfully installed" lines fall at every phase of the polling, and notes when it printed each of
them. A real ansible-playbook runs the domain_pack role's pattern (async spack_install, the status
module polled with until, the callback in plain mode; benchmarks/progress_latency.yml) and this
script notes when each "built from source" line reaches its stdout. Default settings are the role's:
long poll `wait` 5 s, `delay` 0. `--compare` also runs the old pattern (no wait, delay 1 s) in the
same run, for the side-by-side figure.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, 'tests', 'fixtures', 'spack', 'install-source.stdout')
TARGET = 1.0


def fake_spack_root(base, seed):
    """A Spack root whose bin/spack replays a real install, noting when each package line is printed."""
    os.makedirs(os.path.join(base, 'bin'))
    os.makedirs(os.path.join(base, 'lib', 'spack', 'spack'))
    with open(os.path.join(base, 'lib', 'spack', 'spack', '__init__.py'), 'w') as f:
        f.write('__version__ = "0.23.0.dev0"\n')
    script = os.path.join(base, 'bin', 'spack')
    with open(script, 'w') as f:
        f.write('''#!%s
import json, random, sys, time
rng = random.Random(%d)
marks = open(%r, 'w')
for line in open(%r):
    if line.startswith('==> Installing'):
        time.sleep(rng.uniform(0.3, 2.5))
    sys.stdout.write(line)
    sys.stdout.flush()
    if 'Successfully installed' in line:
        marks.write(json.dumps({'line': line.split()[1].rstrip(':'), 'ts': time.time()}) + '\\n')
        marks.flush()
''' % (sys.executable, seed, os.path.join(base, 'printed.jsonl'), FIXTURE))
    os.chmod(script, 0o755)
    return base


def one_round(work, seed, wait, delay):
    """Delays (seconds) of the 4 packages of one playbook run."""
    root = fake_spack_root(os.path.join(work, 'spack'), seed)
    env_dir = os.path.join(work, 'env')
    os.makedirs(env_dir)
    with open(os.path.join(env_dir, 'spack.yaml'), 'w') as f:
        f.write('spack:\n  specs: [tinyapp]\n')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), WIZARD_PROGRESS_MODE='plain',
               WIZARD_PROGRESS_REPORTS='false', WIZARD_PROGRESS_SUMMARY='false',
               ANSIBLE_ASYNC_DIR=os.path.join(work, 'async'))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
           os.path.join(ROOT, 'benchmarks', 'progress_latency.yml'),
           '-e', json.dumps({'bench_env': env_dir, 'bench_progress': os.path.join(work, 'p.jsonl'),
                             'bench_spack_root': root, 'bench_wait': wait, 'bench_delay': delay})]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, universal_newlines=True, bufsize=1)
    shown = {}
    polls = 0
    for line in proc.stdout:
        if 'built from source' in line:
            shown[line.split('] ', 1)[1].split('@')[0]] = time.time()
        elif line.startswith('FAILED - RETRYING'):
            polls += 1
    if proc.wait() != 0:
        raise SystemExit('ansible-playbook failed (rc %d)' % proc.returncode)
    with open(os.path.join(root, 'printed.jsonl')) as f:
        printed = dict((r['line'], r['ts']) for r in map(json.loads, f))
    missing = sorted(set(printed) - set(shown))
    if missing or len(printed) != 4:
        raise SystemExit('lines not shown by the callback: %s' % missing)
    return [shown[name] - printed[name] for name in sorted(printed)], polls


def measure(label, rounds, wait, delay):
    delays, polls = [], 0
    for index in range(rounds):
        work = tempfile.mkdtemp(prefix='wizard-latency-')
        got, count = one_round(work, seed=index, wait=wait, delay=delay)
        delays.extend(got)
        polls += count
    median, worst = statistics.median(delays), max(delays)
    print('%-28s n=%-3d median=%.2fs  max=%.2fs  retries=%-4d  target <= %.0f s: %s' % (
        label, len(delays), median, worst, polls, TARGET, 'met' if worst <= TARGET else 'NOT met'))
    print('%-28s delays: %s' % ('', ' '.join('%.2f' % d for d in sorted(delays))))
    return median, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--rounds', type=int, default=3, help='playbook runs per setting (4 packages each)')
    parser.add_argument('--compare', action='store_true', help='also measure the old pattern: no wait, delay 1')
    args = parser.parse_args()
    print('latency from Spack printing "Successfully installed" to the callback printing the package line')
    measure('defaults (wait 5, delay 0)', args.rounds, wait=5, delay=0)
    if args.compare:
        measure('old (wait 0, delay 1)', args.rounds, wait=0, delay=1)


if __name__ == '__main__':
    main()
