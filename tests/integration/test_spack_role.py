# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spack role itself, run as an air-gapped site runs it: into an empty spack_root, from local sources.

Sources (environment variables, defaults as ../shared/spack/setup-offline-spack*.sh prepare them):

| variable | default | what |
| --- | --- | --- |
| WIZARD_SPACK_SOURCE | /opt/spack1 | Spack 1.1.1: a git dir (checkout or bare) |
| WIZARD_SPACK_LOCAL_VERSION | HEAD | its branch or tag (backports/1.1.1 for the bare snapshot) |
| WIZARD_SPACK_PACKAGES | /opt/spack1-packages/repos/spack_repo/builtin | spack-packages' builtin repository |
| WIZARD_SPACK_SOURCE_MIRRORS | /opt/spack1-sources | source mirrors, `:`-separated |
| WIZARD_SPACK_COMPAT_SOURCE | /opt/spack | Spack 0.23 (a git dir) |

Spack 1.1.1 concretizes in ~25 s here: the whole module solves once (compiler-wrapper).
"""
import os
import subprocess

import pytest
import yaml

from helpers.ansible import ROOT, explain, recap, run_playbook
from helpers.spacks import is_git, local_sources

PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'spack_role.yml')

# The same sources the test harness installs its Spacks from (tests/helpers/spacks.py).
SOURCE, PACKAGES, MIRRORS = (local_sources('primary')[k] for k in ('source', 'packages', 'mirrors'))
LOCAL_VERSION = os.environ.get('WIZARD_SPACK_LOCAL_VERSION', 'HEAD')
COMPAT_SOURCE = local_sources('compat')['source']


def _missing(*paths):
    return [p for p in paths if not os.path.exists(p)]


def _site(base, source, version='HEAD', **more):
    """Role variables for a Spack of its own under `base`, with a user scope there too."""
    user = os.path.join(base, 'user')
    os.makedirs(user, exist_ok=True)
    return dict({
        'spack_root': os.path.join(base, 'spack'),
        'spack_venv': os.path.join(base, 'venv'),
        'spack_source': 'local',
        'spack_local_source': source,
        'spack_local_version': version,
        'spack_install_prereqs': False,
        'spack_profile_script': '',
        'spack_extra_env_vars': {'SPACK_USER_CONFIG_PATH': user,
                                 'SPACK_USER_CACHE_PATH': os.path.join(base, 'user-cache')},
    }, **more)


def _role(site, **more):
    # The user scope given in spack_extra_env_vars must be the one in effect.
    return run_playbook(PLAYBOOK, dict(site, **more), env={'SPACK_DISABLE_LOCAL_CONFIG': None}, timeout=1800)


def _spack(site, *args, check=True):
    env = dict(os.environ, SPACK_PYTHON=os.path.join(site['spack_venv'], 'bin', 'python'),
               **site['spack_extra_env_vars'])
    env.pop('SPACK_DISABLE_LOCAL_CONFIG', None)
    env.pop('SPACK_ROOT', None)
    proc = subprocess.run(['nice', os.path.join(site['spack_root'], 'bin', 'spack'), '--color', 'never'] + list(args),
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    if check:
        assert proc.returncode == 0, '%s: rc=%s\n%s\n%s' % (args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def _config(site, section):
    return yaml.safe_load(_spack(site, 'config', 'get', section).stdout)[section]


@pytest.fixture(scope='module')
def spack1(tmp_path_factory):
    missing = _missing(SOURCE, PACKAGES, *MIRRORS)
    if missing or not is_git(SOURCE):
        pytest.skip('no local Spack 1.x sources (%s); see ../shared/spack/README.md' % ', '.join(missing or [SOURCE]))
    base = str(tmp_path_factory.mktemp('spack1-role'))
    site = _site(base, SOURCE, LOCAL_VERSION, spack_packages_path=PACKAGES, spack_source_mirrors=MIRRORS)
    first = _role(site)
    assert first.returncode == 0, explain(first)
    return dict(site=site, first=first)


def test_spack_1_installs_offline_into_an_empty_root(spack1):
    site = spack1['site']
    version = _spack(site, '--version').stdout.split()[0]
    assert version.startswith('1.'), version
    if 'spack1' in SOURCE or LOCAL_VERSION == 'backports/1.1.1':
        assert version == '1.1.1'
    assert subprocess.run(['git', '-C', site['spack_root'], 'rev-parse', '--is-shallow-repository'],
                          capture_output=True, text=True, check=True).stdout.strip() == 'true', 'a depth-1 clone'


def test_spack_1_settings_are_in_the_site_scope_and_in_effect(spack1):
    site = spack1['site']
    etc = os.path.join(site['spack_root'], 'etc', 'spack')
    assert not [f for f in os.listdir(etc) if f.endswith('.yaml') and f != 'include.yaml'], \
        'nothing written to etc/spack, the "spack" scope above the user scope'
    assert {'config.yaml', 'bootstrap.yaml', 'repos.yaml', 'mirrors.yaml', 'packages.yaml'} <= set(
        os.listdir(os.path.join(etc, 'site')))
    config = _config(site, 'config')
    assert config['binary_index_ttl'] == 600 and config['install_tree']['padded_length'] == 128
    assert _config(site, 'repos')['builtin'] == PACKAGES
    mirrors = _config(site, 'mirrors')
    for path in MIRRORS:
        name = os.path.basename(path.rstrip('/'))
        assert mirrors[name]['url'] == 'file://' + path and mirrors[name]['binary'] is False, mirrors
    externals = _config(site, 'packages')
    assert all(externals[name].get('buildable', True) for name in externals if 'externals' in externals[name]), \
        'externals stay buildable (py-torch needs a newer cmake than Debian has)'


def test_spack_1_user_scope_overrides_what_the_role_sets(spack1):
    site = spack1['site']
    user_config = os.path.join(site['spack_extra_env_vars']['SPACK_USER_CONFIG_PATH'], 'config.yaml')
    with open(user_config, 'w') as f:
        yaml.safe_dump({'config': {'binary_index_ttl': 7}}, f)
    try:
        assert _config(site, 'config')['binary_index_ttl'] == 7
    finally:
        os.remove(user_config)


def test_spack_1_second_run_changes_nothing(spack1):
    again = _role(spack1['site'])
    assert again.returncode == 0, explain(again)
    assert recap(again.stdout)['localhost']['changed'] == 0, explain(again)


def test_spack_1_installs_a_package(spack1, tmp_path):
    """One concretization: compiler-wrapper, which every compiled package of 1.x needs (its 1.0 script
    ships inside spack-packages v2025.11.0)."""
    site = spack1['site']
    user = site['spack_extra_env_vars']['SPACK_USER_CONFIG_PATH']
    with open(os.path.join(user, 'config.yaml'), 'w') as f:
        yaml.safe_dump({'config': {'install_tree': {'root': str(tmp_path / 'store')},
                                   'build_stage': [str(tmp_path / 'stage')],
                                   'source_cache': str(tmp_path / 'source-cache'),
                                   'misc_cache': str(tmp_path / 'misc-cache')}}, f)
    try:
        _spack(site, 'install', 'compiler-wrapper')
        prefix = _spack(site, 'location', '-i', 'compiler-wrapper').stdout.strip()
        assert prefix.startswith(str(tmp_path / 'store')) and os.path.isdir(os.path.join(prefix, '.spack'))
    finally:
        os.remove(os.path.join(user, 'config.yaml'))


def test_spack_1_checkout_root_as_packages_path_fails_with_the_right_directory(spack1):
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(PACKAGES.rstrip('/'))))
    wrong = _role(spack1['site'], spack_packages_path=checkout)
    assert wrong.returncode != 0
    assert 'spack_packages_path=%s/repos/spack_repo/builtin' % checkout in wrong.stdout, explain(wrong)


def test_unreachable_git_source_names_the_offline_way(tmp_path):
    url = 'file://%s/no-such-spack.git' % tmp_path
    site = _site(str(tmp_path), '', spack_source='git', spack_git_url=url)
    proc = _role(site)
    assert proc.returncode != 0
    assert 'Could not clone Spack' in proc.stdout and url in proc.stdout and 'spack_source=local' in proc.stdout, \
        explain(proc)


@pytest.fixture(scope='module')
def spack023(tmp_path_factory):
    if not is_git(COMPAT_SOURCE):
        pytest.skip('no local Spack 0.23 git dir at WIZARD_SPACK_COMPAT_SOURCE=%s' % COMPAT_SOURCE)
    base = str(tmp_path_factory.mktemp('spack023-role'))
    # Spack 0.23's own bootstrap pinned clingo 5.6; 5.8 changed the API it uses.
    site = _site(base, COMPAT_SOURCE, spack_clingo_requirement='clingo==5.6.2')
    first = _role(site)
    assert first.returncode == 0, explain(first)
    return site


def test_spack_0_23_settings_are_in_its_site_scope(spack023):
    assert _spack(spack023, '--version').stdout.startswith('0.2')
    etc = os.path.join(spack023['spack_root'], 'etc', 'spack')
    assert os.path.isfile(os.path.join(etc, 'config.yaml')) and not os.path.exists(os.path.join(etc, 'site'))
    assert _config(spack023, 'config')['binary_index_ttl'] == 600
    again = _role(spack023)
    assert again.returncode == 0 and recap(again.stdout)['localhost']['changed'] == 0, explain(again)
