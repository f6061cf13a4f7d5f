# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every package and variant named in a pack is known to the real Spack (skipped without Spack)."""
import json
import os
import subprocess

import pytest

from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import load_all, load_pack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOMAINS = os.path.join(ROOT, "domains")
HERE = os.path.dirname(os.path.abspath(__file__))
TESTREPO_PACKAGES = os.path.join(ROOT, "tests", "testrepo", "spack_repo", "wizardtest", "packages")


def run_spack(spack, *args, timeout=1200):
    env = dict(os.environ, SPACK_ROOT=spack["root"], SPACK_DISABLE_LOCAL_CONFIG="1", SPACK_PYTHON=spack["python"],
               SPACK_USER_CACHE_PATH=spack["user_cache"])
    proc = subprocess.run(["nice", os.path.join(spack["root"], "bin", "spack")] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def all_pack_specs():
    """{spec: [pack, ...]} over specs and optional specs of every pack except selftest."""
    out = {}
    for name, data in load_all(DOMAINS).items():
        if data.get("repos"):
            continue  # packs with their own repository are checked against it below
        specs = [s for group in data["specs"].values() for s in group]
        specs += [o["spec"] for o in data.get("optional_specs") or []]
        for s in specs:
            out.setdefault(s, []).append(name)
    return out


@pytest.fixture(scope="module")
def spack_packages(spack):
    return set(run_spack(spack, "list").split())


def test_every_package_name_is_known_to_spack(spack_packages):
    assert len(spack_packages) > 7000
    unknown = {}
    for spec, packs in all_pack_specs().items():
        for name in parse_spec(spec).package_names:
            if name not in spack_packages:
                unknown.setdefault(name, set()).update(packs)
    for name, data in load_all(DOMAINS).items():
        for ext in data.get("externals") or []:
            if ext["package"] not in spack_packages:
                unknown.setdefault(ext["package"], set()).add(name + " (externals)")
    assert unknown == {}


def test_every_variant_and_version_is_known_to_spack(tmp_path, spack):
    specs = sorted(all_pack_specs())
    spec_file = tmp_path / "specs.json"
    spec_file.write_text(json.dumps(specs))
    report = json.loads(run_spack(spack, "python", os.path.join(HERE, "spack_check_specs.py"), str(spec_file)).splitlines()[-1])
    assert report["checked"] == len(specs) > 200
    assert report["problems"] == []


def test_selftest_packages_are_in_the_test_repository():
    data = load_pack("selftest", DOMAINS)
    for spec in (s for group in data["specs"].values() for s in group):
        for name in parse_spec(spec).package_names:
            assert os.path.isfile(os.path.join(TESTREPO_PACKAGES, name, "package.py")), name
