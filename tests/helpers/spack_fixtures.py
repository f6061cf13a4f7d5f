# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recorded real Spack output: tests/fixtures/spack (0.23.0.dev0) and tests/fixtures/spack-1.1.1.

Parser tests run on both generations: they take the generation as a parameter (GENERATIONS) and
read its files with out/err/rc(name, gen).
"""
import json
import os

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
DIRS = {
    '0.23': os.path.join(FIXTURES, 'spack'),
    '1.1.1': os.path.join(FIXTURES, 'spack-1.1.1'),
}
GENERATIONS = sorted(DIRS)
DIR = DIRS['0.23']


def _read(name, gen, ext):
    with open(os.path.join(DIRS[gen], name + ext)) as f:
        return f.read()


def out(name, gen='0.23'):
    return _read(name, gen, '.stdout')


def err(name, gen='0.23'):
    return _read(name, gen, '.stderr')


def rc(name, gen='0.23'):
    return command(name, gen)['rc']


def command(name, gen='0.23'):
    """The commands.jsonl record of a fixture: name, command, rc, seconds."""
    with open(os.path.join(DIRS[gen], 'commands.jsonl')) as f:
        for line in f:
            rec = json.loads(line)
            if rec['name'] == name:
                return rec
    return {'name': name, 'command': None, 'rc': 0, 'seconds': None}


def names(gen):
    """Every fixture recorded for a generation (each NAME.stdout)."""
    return sorted(f[:-len('.stdout')] for f in os.listdir(DIRS[gen]) if f.endswith('.stdout'))
