"""Recorded real Spack output (tests/fixtures/spack)."""
import json
import os

DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'spack')


def out(name):
    with open(os.path.join(DIR, name + '.stdout')) as f:
        return f.read()


def err(name):
    with open(os.path.join(DIR, name + '.stderr')) as f:
        return f.read()


def rc(name):
    with open(os.path.join(DIR, 'commands.jsonl')) as f:
        for line in f:
            rec = json.loads(line)
            if rec['name'] == name:
                return rec['rc']
    return 0
