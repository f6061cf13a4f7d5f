"""Figures of the live progress (issue 5, section 4), measured side by side in one run.

  .venv/bin/python benchmarks/progress_overhead.py

1. Latency from Spack printing a package's line to the research.wizard.progress callback showing it,
   at default settings (status polled every second): a stand-in `spack` replays the recorded output of
   a real install (tests/fixtures/spack/install-source) with pauses between packages and notes when
   it printed each "Successfully installed" line; a real ansible-playbook runs the role's pattern
   (async spack_install + spack_install_status polls + the callback, plain mode) and this script notes
   when each "built from source" line reaches it.
2. Callback memory over a replayed stream of 2,000 packages (tracemalloc after 200 and after 2,000).
Progress on vs off for a real install is in deploy_cache_vs_source.py (it needs the real Spack).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.collections'))
FIXTURE = os.path.join(ROOT, 'tests', 'fixtures', 'spack', 'install-source.stdout')
PAUSE = 1.5  # seconds between packages, like a quick real build


def fake_spack_root(base):
    """A Spack root whose bin/spack replays a real install, noting when each package line is printed."""
    os.makedirs(os.path.join(base, 'bin'))
    os.makedirs(os.path.join(base, 'lib', 'spack', 'spack'))
    with open(os.path.join(base, 'lib', 'spack', 'spack', '__init__.py'), 'w') as f:
        f.write('__version__ = "0.23.0.dev0"\n')
    script = os.path.join(base, 'bin', 'spack')
    with open(script, 'w') as f:
        f.write('''#!%s
import json, sys, time
marks = open(%r, 'w')
for line in open(%r):
    if line.startswith('==> Installing'):
        time.sleep(%s)
    sys.stdout.write(line)
    sys.stdout.flush()
    if 'Successfully installed' in line:
        marks.write(json.dumps({'line': line.split()[1].rstrip(':'), 'ts': time.time()}) + '\\n')
        marks.flush()
''' % (sys.executable, os.path.join(base, 'printed.jsonl'), FIXTURE, PAUSE))
    os.chmod(script, 0o755)
    return base


def latency(work):
    root = fake_spack_root(os.path.join(work, 'spack'))
    env_dir = os.path.join(work, 'env')
    os.makedirs(env_dir)
    with open(os.path.join(env_dir, 'spack.yaml'), 'w') as f:
        f.write('spack:\n  specs: [tinyapp]\n')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), WIZARD_PROGRESS_MODE='plain',
               WIZARD_PROGRESS_REPORTS='false', WIZARD_PROGRESS_SUMMARY='false')
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
           os.path.join(ROOT, 'benchmarks', 'progress_latency.yml'),
           '-e', json.dumps({'bench_env': env_dir, 'bench_progress': os.path.join(work, 'p.jsonl'),
                             'bench_spack_root': root})]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
    shown = {}
    for line in proc.stdout:
        if 'built from source' in line:
            shown[line.split('] ', 1)[1].split('@')[0]] = time.time()
    proc.wait()
    with open(os.path.join(root, 'printed.jsonl')) as f:
        printed = dict((r['line'], r['ts']) for r in map(json.loads, f))
    delays = [shown[name] - printed[name] for name in printed if name in shown]
    assert len(delays) == len(printed) == 4, (printed, shown)
    return delays


def memory():
    import yaml
    from ansible import constants as C
    from ansible_collections.research.wizard.plugins.callback import progress as cb
    from ansible_collections.research.wizard.plugins.module_utils import _progress as progress

    name = 'research.wizard.progress'
    C.config.initialize_plugin_configuration_definitions('callback', name, yaml.safe_load(cb.DOCUMENTATION)['options'])

    class Display(object):
        def display(self, *a, **k):
            pass
        banner = warning = display

    class Host(object):
        def get_name(self):
            return 'localhost'

    class Task(object):
        action = 'research.wizard.spack_install_status'

        def get_name(self):
            return 'Installing'

    class Result(object):
        def __init__(self, data):
            self.host, self.task, self.result = Host(), Task(), data

    callback = cb.CallbackModule()
    callback._load_name = name
    callback._display = Display()
    work = tempfile.mkdtemp(prefix='wizard-mem-')
    callback.set_options(direct={'mode': 'plain', 'reports': False, 'summary': False,
                                 'history_file': os.path.join(work, 'h.json')})
    path = os.path.join(work, 'p.jsonl')
    total = 2000
    t0 = time.time()
    with open(path, 'w') as f:
        f.write(json.dumps(dict(event='start', total=total, pid=1, cmd=['spack'], env='bench', ts=t0, seq=0)) + '\n')
    seq, marks = 1, {}
    tracemalloc.start()
    for i in range(total):
        with open(path, 'a') as f:
            for event in ('queued', 'building', 'installed'):
                f.write(json.dumps(dict(event=event, package='pkg%04d' % i, version='1.0', origin='source',
                                        seconds=1.0, ts=t0 + i, seq=seq)) + '\n')
                seq += 1
        if i % 10 == 9:  # a poll every ten packages
            callback.v2_runner_retry(Result(dict(progress.status(path, now=t0 + i + 0.5), attempts=i, retries=10**6)))
        if i + 1 in (200, total):
            marks[i + 1] = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return marks


def main():
    work = tempfile.mkdtemp(prefix='wizard-progress-bench-')
    delays = latency(work)
    print('latency (Spack line -> callback line), 4 packages, poll delay 1 s: median=%.2fs max=%.2fs (target <= 1 s: %s)'
          % (statistics.median(delays), max(delays), 'met' if max(delays) <= 1.0 else 'NOT met'))
    marks = memory()
    print('callback memory: after 200 packages %.0f KiB, after 2000 packages %.0f KiB (ratio %.2f)'
          % (marks[200] / 1024.0, marks[2000] / 1024.0, marks[2000] / float(marks[200])))


if __name__ == '__main__':
    main()
