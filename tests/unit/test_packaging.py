# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as Galaxy gets it: the built tarball holds what a user needs and no development
files, every collection the content uses is declared, and the changelog fragments are in
antsibull-changelog's format."""
import glob
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml
from ansible.parsing.yaml.loader import AnsibleLoader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# Development only (galaxy.yml build_ignore): the virtualenv setup, test suite, linters, benchmarks.
ABSENT = [
    '.ci', '.gitignore', '.ansible-lint', 'Makefile', 'ansible.cfg', 'pytest.ini', 'requirements.txt',
    'scripts', 'benchmarks', 'tests/conftest.py', 'tests/helpers', 'tests/unit', 'tests/integration',
    'tests/fixtures', 'tests/output', 'tests/testrepo/src', 'tests/testrepo/make-mirror.sh',
    'wizard-reports', '.navigator',
]
# What a user of the installed collection runs or reads.
PRESENT = [
    'LICENSE', 'README.md', 'meta/runtime.yml', 'meta/execution-environment.yml', 'execution-environment.yml',
    'requirements-ee.txt', 'requirements.yml', 'bindep.txt', 'ansible-navigator.yml', 'awx/configure.yml',
    'changelogs/changelog.yaml', 'changelogs/config.yaml', 'docs', 'domains/schema.json',
    'domains/selftest.yml', 'inventories/aws/wizard.ec2.yml', 'playbooks/deploy.yml',
    'extensions/molecule/localhost/molecule.yml', 'extensions/molecule/podman/molecule.yml',
    'extensions/molecule/aws/molecule.yml', 'plugins/modules', 'roles/spack/tasks/main.yml',
]
# Collections that come with ansible-core, and this one.
BUNDLED = {'ansible.builtin', 'ansible.legacy', 'research.wizard'}
# Where content that needs a collection to work at all lives; the rest (awx/, extensions/) is
# optional tooling whose collections requirements.yml lists.
REQUIRED_BY = ('roles/', 'playbooks/', 'plugins/', 'inventories/')

FQCN = re.compile(r'^(?:group/)?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+$')
VALUE_KEYS = ('plugin', 'connection', 'ansible_connection')
# "new module", "new inventory plugin", "new aggregate callback", not "new name of", "new `wait` option".
NEW_PLUGIN = re.compile(r'new (?:[\w-]+ ){0,2}(?:module|plugin|callback|action)s?\b')


def _read_yaml(path):
    with open(path) as f:
        return yaml.load(f, Loader=AnsibleLoader)  # noqa: S506 - Ansible's loader, for !unsafe and !vault


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(members by name, MANIFEST.json) of `ansible-galaxy collection build` of the checkout."""
    out = tmp_path_factory.mktemp('build')
    proc = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out),
                           ROOT], cwd=str(out), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = glob.glob(os.path.join(str(out), 'research-wizard-*.tar.gz'))
    with tarfile.open(path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        manifest = json.load(tar.extractfile('MANIFEST.json'))
    return members, manifest


def _shipped(members, path):
    return path in members or any(name.startswith(path + '/') for name in members)


@pytest.mark.parametrize('path', ABSENT)
def test_development_files_are_not_shipped(built, path):
    assert not _shipped(built[0], path)


def test_no_byte_code_is_shipped(built):
    assert [n for n in built[0] if n.endswith('.pyc') or '__pycache__' in n.split('/')] == []


@pytest.mark.parametrize('path', PRESENT)
def test_user_files_are_shipped(built, path):
    assert _shipped(built[0], path)


def test_sanity_ignore_files_are_shipped(built):
    # The tarball ships testrepo's Spack recipes; its sanity test needs the ignores that cover them.
    names = sorted(os.listdir(os.path.join(ROOT, 'tests', 'sanity')))
    assert names and [n for n in names if 'tests/sanity/' + n not in built[0]] == []


def test_what_the_packs_read_from_the_collection_is_shipped(built):
    members = built[0]
    wanted = []
    for pack in glob.glob(os.path.join(ROOT, 'domains', '*.yml')):
        data = _read_yaml(pack) or {}
        for rel in list(data.get('repos') or []) + list(data.get('source_mirrors') or []):
            if os.path.isabs(rel) or '://' in rel:
                continue
            for top, _dirs, files in os.walk(os.path.join(ROOT, rel)):
                wanted += [os.path.relpath(os.path.join(top, f), ROOT) for f in files]
    assert wanted, 'domains/selftest.yml reads tests/testrepo: expected files to check'
    assert [w for w in wanted if w not in members] == []


def test_license(built):
    with open(os.path.join(ROOT, 'LICENSE')) as f:
        text = f.read()
    assert 'GNU GENERAL PUBLIC LICENSE' in text and 'Version 3, 29 June 2007' in text
    assert 'END OF TERMS AND CONDITIONS' in text  # the full text, not a pointer to it
    assert built[1]['collection_info']['license'] == ['GPL-3.0-or-later']


def _collections_in(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            m = FQCN.match(str(key))
            if m:
                found.add(m.group(1))
            if key in VALUE_KEYS and isinstance(value, str) and FQCN.match(value):
                found.add(FQCN.match(value).group(1))
            _collections_in(value, found)
    elif isinstance(node, list):
        for item in node:
            _collections_in(item, found)


def _collections_used(members):
    """{collection: [shipped files that use it]}, from task/module_defaults keys, plugin and
    connection names in YAML, and imports in Python."""
    used = {}
    for name, member in members.items():
        if not member.isfile() or name.startswith(('domains/', 'changelogs/', 'tests/')):
            continue
        found = set()
        if name.endswith(('.yml', '.yaml')):
            _collections_in(_read_yaml(os.path.join(ROOT, name)), found)
        elif name.endswith('.py'):
            with open(os.path.join(ROOT, name)) as f:
                found.update('.'.join(m) for m in re.findall(r'ansible_collections\.(\w+)\.(\w+)', f.read()))
        for collection in found - BUNDLED:
            used.setdefault(collection, []).append(name)
    return used


def test_every_collection_used_is_declared(built):
    members, manifest = built
    declared = set(manifest['collection_info']['dependencies'])
    optional = {c['name'] for c in _read_yaml(os.path.join(ROOT, 'requirements.yml'))['collections']}
    used = _collections_used(members)
    required = {c for c, files in used.items() if any(f.startswith(REQUIRED_BY) for f in files)}
    assert {c: used[c] for c in required - declared} == {}
    assert {c: used[c] for c in set(used) - declared - optional} == {}
    # Neither list names what nothing uses, and an optional collection is not also a dependency.
    assert (declared | optional) - set(used) == set()
    assert declared & optional == set()


def test_the_execution_environment_has_every_dependency(built):
    ee = _read_yaml(os.path.join(ROOT, 'execution-environment.yml'))
    names = {c['name'] for c in ee['dependencies']['galaxy']['collections']}
    assert set(built[1]['collection_info']['dependencies']) - names == set()


def test_changelog_fragments_lint_clean():
    proc = subprocess.run([os.path.join(BIN, 'antsibull-changelog'), 'lint'], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, '')


def _plugin_names():
    names = set()
    for path in glob.glob(os.path.join(ROOT, 'plugins', '*', '*.py')):
        kind, stem = path.split(os.sep)[-2:]
        if kind not in ('module_utils', 'plugin_utils', 'doc_fragments') and not stem.startswith('_'):
            names.update({stem[:-3], 'research.wizard.' + stem[:-3]})
    return names


def test_fragments_do_not_announce_new_plugins():
    # antsibull-changelog lists new modules and plugins itself (their version_added); a fragment that
    # says so too makes the changelog name them twice.
    plugins = _plugin_names()
    repeated = []
    for path in glob.glob(os.path.join(ROOT, 'changelogs', 'fragments', '*.yml')):
        for section, entries in (_read_yaml(path) or {}).items():
            for entry in entries if isinstance(entries, list) else []:
                names, _sep, rest = entry.partition(' - ')
                if set(names.split(', ')) & plugins and NEW_PLUGIN.match(rest):
                    repeated.append('%s: %s: %s' % (os.path.basename(path), section, entry[:60]))
    assert repeated == []
