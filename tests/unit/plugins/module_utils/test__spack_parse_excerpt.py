# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_spack_parse.build_log_excerpt on real build logs of both Spacks and on what other tools print (the
cases of test__spack_parse_excerpt.yaml), and the excerpt of a failed build in install()'s events and results
and spack_install's failure message."""
import gzip
import json
import os
import shutil
import stat
import sys

import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._spack_install import install
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import EXCERPT_LINE, build_log_excerpt
from ansible_collections.research.wizard.plugins.modules.spack_install import _failure_message
from helpers.spack_fixtures import DIRS, GENERATIONS

with open(os.path.splitext(os.path.abspath(__file__))[0] + '.yaml') as f:
    CASES = yaml.safe_load(f)


def log_path(case, tmp_path):
    if 'fixture' in case:
        return os.path.join(DIRS[case['gen']], case['fixture'])
    if 'path' in case:
        return case['path']
    path = tmp_path / 'spack-build-out.txt'
    if 'log_repeat' in case:
        r = case['log_repeat']
        text = ''.join('%s %s\n' % (r['line'], 'x' * r['long']) for dummy in range(r['times']))
    else:
        text = case['log']
    path.write_bytes(text.encode('utf-8'))
    return str(path)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_build_log_excerpt(case, tmp_path):
    excerpt = build_log_excerpt(log_path(case, tmp_path), **(case.get('args') or {}))
    if 'excerpt' in case:
        assert excerpt == case['excerpt']
    else:
        lines = excerpt.splitlines()
        assert len(lines) == case['excerpt_lines']
        assert max(len(line) for line in lines) == case['excerpt_width'] == EXCERPT_LINE
        assert all(line.endswith('...') for line in lines)


@pytest.mark.parametrize('gen', GENERATIONS)
def test_a_compressed_log_reads_the_same(gen, tmp_path):
    """A log kept as .gz (Spack archives build logs compressed) gives the same excerpt."""
    src = os.path.join(DIRS[gen], 'buildlog-tinybroken.spack-build-out.txt')
    dest = str(tmp_path / 'spack-build-out.txt.gz')
    with open(src, 'rb') as fin, gzip.open(dest, 'wb') as fout:
        shutil.copyfileobj(fin, fout)
    excerpt = build_log_excerpt(dest)
    assert excerpt == build_log_excerpt(src)
    assert excerpt.splitlines()[0].startswith("broken.c:2:25: error: 'this_symbol_does_not_exist' undeclared")


def test_a_log_that_is_not_text(tmp_path):
    """Bytes that are not UTF-8 (a binary dumped into the log) are replaced, not an error."""
    path = tmp_path / 'spack-build-out.txt'
    path.write_bytes(b'\xff\xfe\x00garbage\nbroken.c:1:1: error: bad \xe9\n')
    assert build_log_excerpt(str(path)) == u'broken.c:1:1: error: bad \ufffd'


def test_both_generations_have_recorded_logs():
    """Both generations' recorded logs are cases, so a change of Spack's log layout shows."""
    assert {c['gen'] for c in CASES if 'fixture' in c} == set(GENERATIONS)


@pytest.mark.parametrize('gen', GENERATIONS)
def test_a_failed_build_carries_its_excerpt(gen, tmp_path):
    """install() on a Spack replaying the recorded best-effort failure (tinybroken fails, tinyapp builds), its
    "See build log" path pointing at a copy of the recorded build log: the `failed` event and the failed
    package's result carry the excerpt, and spack_install's failure message shows its first line."""
    log = tmp_path / 'stage' / 'spack-build-out.txt'
    log.parent.mkdir()
    shutil.copy(os.path.join(DIRS[gen], 'buildlog-tinybroken.spack-build-out.txt'), str(log))
    texts = {}
    for ext in ('stdout', 'stderr'):
        with open(os.path.join(DIRS[gen], 'err-build-best-effort.' + ext)) as f:
            texts[ext] = '\n'.join(str(log) if line.strip().endswith('/spack-build-out.txt') else line
                                   for line in f.read().splitlines()) + '\n'
    spack = tmp_path / 'spack'
    spack.write_text('#!%s\nimport sys\nsys.stdout.write(%r); sys.stdout.flush()\nsys.stderr.write(%r)\nsys.exit(1)\n'
                     % (sys.executable, texts['stdout'], texts['stderr']))
    spack.chmod(spack.stat().st_mode | stat.S_IEXEC)
    progress = tmp_path / 'events.jsonl'
    result = install([str(spack)], dict(os.environ), progress_file=str(progress))
    assert result['rc'] == 1
    expected = build_log_excerpt(str(log))
    assert expected.startswith("broken.c:2:25: error: 'this_symbol_does_not_exist' undeclared")
    with open(str(progress)) as f:
        [failed] = [e for e in map(json.loads, f) if e['event'] == 'failed']
    assert failed['package'] == 'tinybroken' and failed['log'] == str(log) and failed['excerpt'] == expected
    [package] = [p for p in result['packages'] if p['status'] == 'failed']
    assert package['excerpt'] == expected
    assert [p['excerpt'] for p in result['packages'] if p['status'] == 'installed'] == \
        [None] * len([p for p in result['packages'] if p['status'] == 'installed'])
    message = _failure_message(result)
    assert message.startswith("1 package(s) failed: tinybroken@0.1/")
    assert ": broken.c:2:25: error: 'this_symbol_does_not_exist' undeclared (first use in this function) " \
        "(build log: %s)" % log in message
    assert 'ProcessError' not in message
