# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every shipped pack is valid: schema, rules, spec syntax, catalogue coverage, sizes and prices."""
import json
import os
import shutil

import jsonschema
import pytest
import yaml

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import DomainPackError
from ansible_collections.research.wizard.plugins.module_utils._digest import tree_digest
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import catalogue, resolve_pack, spack_yaml
from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import available_domains
from ansible_collections.research.wizard.plugins.plugin_utils.table import format_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOMAINS = os.path.join(ROOT, "domains")
PACKS = available_domains(DOMAINS)

with open(os.path.join(DOMAINS, "schema.json")) as f:
    SCHEMA = json.load(f)


def raw(name):
    with open(os.path.join(DOMAINS, name + ".yml")) as f:
        return yaml.safe_load(f)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_at_least_30_packs_plus_selftest():
    assert "selftest" in PACKS
    assert len([p for p in PACKS if p != "selftest"]) >= 30


@pytest.mark.parametrize("name", PACKS)
def test_pack_passes_the_schema(name):
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(raw(name)))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", PACKS)
def test_pack_loads_and_resolves(name):
    pack = resolve_pack(name, domains_dir=DOMAINS)
    assert pack["name"] == name
    assert pack["specs"] and len(pack["specs"]) == pack["package_count"]
    assert pack["size"] == raw(name)["default_size"]
    assert pack["instance"]["root_volume_type"] == "gp3"
    assert pack["spack_target"] == pack["target"]
    # every spec parses with the Spack-free parser and names a lower-case package
    for spec in pack["specs"]:
        assert parse_spec(spec).name == spec.split("+")[0].split()[0].split("@")[0]


@pytest.mark.parametrize("name", PACKS)
def test_sizes_are_consistent(name):
    data = raw(name)
    sizes = data["sizes"]
    order = [sizes[s] for s in ("small", "medium", "large")]
    # bigger sizes never have fewer vCPUs or a lower price
    assert [s["vcpus"] for s in order] == sorted(s["vcpus"] for s in order)
    assert [s["price_usd_hour"] for s in order] == sorted(s["price_usd_hour"] for s in order)
    for sname, s in sizes.items():
        family = s["instance_type"].split(".")[0]
        assert (s["gpus"] > 0) == family.startswith(("g", "p")), (sname, s["instance_type"])
        graviton = family[-1] == "g" or family.endswith("gd")
        assert (s.get("arch", "x86_64") == "aarch64") == graviton, (sname, s["instance_type"])
        # price per vCPU-hour stays in a plausible on-demand band
        assert 0.005 < s["price_usd_hour"] / s["vcpus"] < 0.5, (sname, s)


@pytest.mark.parametrize("name", PACKS)
def test_graviton_sizes_only_with_aarch64_target(name):
    data = raw(name)
    uses_arm = any(s.get("arch") == "aarch64" for s in data["sizes"].values())
    assert uses_arm == ("target_aarch64" in data)


def test_no_unexplained_pins_in_shipped_packs():
    for name in PACKS:
        data = raw(name)
        for spec in (s for group in data["specs"].values() for s in group):
            if parse_spec(spec).pinned:
                assert spec in data.get("pins", {}), "%s: %s" % (name, spec)


def test_catalogue_domains_are_covered():
    # packages named in ../shared/domain-catalogue.md, one per domain, must be in some pack
    wanted = ["bwa", "salmon", "kraken2", "raxml-ng", "relion", "gromacs", "autodock-vina", "nwchem",
              "quantum-espresso", "wrf", "cdo", "roms", "specfem3d-globe", "gdal", "r-terra", "openfoam",
              "amr-wind", "dealii", "warpx", "geant4", "py-astropy", "ants", "neuron", "py-torch", "py-pandas",
              "r-lme4", "py-nltk", "py-qiskit-aer", "ipopt", "paraview", "hpl"]
    everywhere = set()
    for name in PACKS:
        everywhere.update(resolve_pack(name, domains_dir=DOMAINS)["packages"])
    assert sorted(set(wanted) - everywhere) == []


def test_chemistry_pack_is_built_from_specs_of_the_specialised_packs():
    # `deploy.yml -e domain=chemistry` is the headline command; the broad pack reuses only specs
    # that the narrower packs already concretize, so it stays as tested as they are.
    pack = resolve_pack("chemistry", domains_dir=DOMAINS)
    others = set()
    for name in PACKS:
        if name != "chemistry":
            others.update(s for group in raw(name)["specs"].values() for s in group)
    assert sorted(set(pack["specs"]) - others) == []
    assert 8 <= pack["package_count"] <= 12 and pack["unify"] is True
    assert {"nwchem", "lammps", "rdkit"} <= set(pack["packages"])


def test_selftest_pack_uses_the_offline_test_repository():
    pack = resolve_pack("selftest", domains_dir=DOMAINS)
    assert pack["specs"] == ["tinyapp", "tinycmake+fancy"]
    assert pack["repos"] == [os.path.join(ROOT, "tests", "testrepo", "spack_repo", "wizardtest")]
    assert pack["source_mirrors"] == [os.path.join(ROOT, "tests", "testrepo", "mirror")]
    assert os.path.isfile(os.path.join(pack["repos"][0], "repo.yaml"))
    for pkg in ("tinyapp", "tinycmake"):
        assert os.listdir(os.path.join(pack["source_mirrors"][0], pkg))
    assert pack["target"] == "x86_64_v3" and pack["unify"] is True


def test_spack_yaml_for_selftest():
    pack = resolve_pack("selftest", domains_dir=DOMAINS)
    env = spack_yaml(pack)["spack"]
    assert env["specs"] == ["tinyapp", "tinycmake+fancy"]
    assert env["concretizer"] == {"unify": True}
    assert env["packages"] == {"all": {"require": "target=x86_64_v3"}}
    assert env["repos"] == pack["repos"]
    assert list(env["mirrors"].values()) == [
        {"url": "file://" + pack["source_mirrors"][0], "binary": False, "source": True}]


def test_catalogue_rows():
    rows = catalogue(DOMAINS)
    assert [r["name"] for r in rows] == PACKS
    genomics = [r for r in rows if r["name"] == "genomics"][0]
    assert genomics["package_count"] == 12
    assert genomics["instance_type"] == "r7i.8xlarge" and genomics["price_usd_hour"] == 2.1168
    lines = format_table(rows, [("name", "name"), ("price_usd_hour", "$/hour")])
    assert lines[0].split() == ["name", "$/hour"] and set(lines[1]) <= {"-", " "}
    assert len(lines) == len(rows) + 2


def test_files_digest_follows_the_pack_files(tmp_path):
    pack = resolve_pack("selftest", domains_dir=DOMAINS)
    assert pack["files_digest"] == tree_digest(pack["repos"] + pack["source_mirrors"])
    tree = tmp_path / "repo"
    (tree / "packages" / "a").mkdir(parents=True)
    (tree / "packages" / "a" / "package.py").write_text("x = 1\n")
    before = tree_digest([str(tree)])
    assert tree_digest([str(tree)]) == before
    (tree / "packages" / "a" / "package.py").write_text("x = 2\n")
    edited = tree_digest([str(tree)])
    assert edited != before
    (tree / "packages" / "a" / "package.py").rename(tree / "packages" / "a" / "other.py")
    assert tree_digest([str(tree)]) not in (before, edited)


def test_missing_pack_repository_is_named(tmp_path):
    domains = tmp_path / "domains"
    domains.mkdir()
    shutil.copy(os.path.join(DOMAINS, "schema.json"), str(domains))
    shutil.copy(os.path.join(DOMAINS, "selftest.yml"), str(domains))
    with pytest.raises(DomainPackError) as e:
        resolve_pack("selftest", domains_dir=str(domains))
    assert "tests/testrepo/spack_repo/wizardtest" in str(e.value) and "selftest.yml" in str(e.value)
