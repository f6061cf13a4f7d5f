# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Error messages: unknown pack with the nearest name; schema errors with file, key path, expectation."""
import os

import re

import jinja2
import pytest
import yaml

from ansible_collections.research.wizard.plugins.module_utils._spack_parse import error_summary
from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import (
    DomainPackError, PackValidationError, UnknownDomainError)
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import (
    CONCRETIZE_STATUS, catalogue, concretize_status, resolve_pack)
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import available_domains, load_pack
from helpers import spack_fixtures as fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOMAINS = os.path.join(ROOT, "domains")


@pytest.mark.parametrize("typo, nearest", [
    ("genomic", "genomics"), ("genomcs", "genomics"), ("cdf", "cfd"), ("machine_learning", "machine-learning"),
    ("selftes", "selftest"), ("quantum", "quantum-computing"),
])
def test_unknown_domain_names_the_nearest(typo, nearest):
    with pytest.raises(UnknownDomainError) as exc:
        resolve_pack(typo, domains_dir=DOMAINS)
    assert exc.value.nearest == nearest
    assert str(exc.value).startswith("unknown domain '%s'; did you mean '%s'? available: " % (typo, nearest))
    assert "genomics" in str(exc.value) and "wind-energy" in str(exc.value)
    assert exc.value.available == available_domains(DOMAINS)


def test_unknown_domain_without_a_near_name():
    with pytest.raises(UnknownDomainError) as exc:
        resolve_pack("zzzzzzzz", domains_dir=DOMAINS)
    assert exc.value.nearest is None
    assert "did you mean" not in str(exc.value)


def test_missing_domains_dir(tmp_path):
    with pytest.raises(DomainPackError, match="domains directory .*nope does not exist"):
        resolve_pack("genomics", domains_dir=str(tmp_path / "nope"))


def edit(domains_copy, name, change):
    path = domains_copy / (name + ".yml")
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
    return str(path)


def problems_of(domains_copy, name="genomics"):
    with pytest.raises(PackValidationError) as exc:
        load_pack(name, str(domains_copy))
    return exc.value


@pytest.mark.parametrize("change, key, expected", [
    (lambda d: d["sizes"]["small"].update(vcpus="eight"), "sizes.small.vcpus", 'expected integer, got "eight"'),
    (lambda d: d["sizes"]["small"].update(vcpus=0), "sizes.small.vcpus", "expected a number >= 1, got 0"),
    (lambda d: d["sizes"]["large"].pop("price_usd_hour"), "sizes.large", "price_usd_hour is required"),
    (lambda d: d["sizes"].pop("medium"), "sizes", "medium is required"),
    (lambda d: d["sizes"]["small"].update(root_volume_type="st1"), "sizes.small.root_volume_type",
     'expected one of "gp3", "gp2", "io1", "io2", got "st1"'),
    (lambda d: d["sizes"]["small"].update(instance_type="big-box"), "sizes.small.instance_type",
     "expected a string matching"),
    (lambda d: d.update(category="biology"), "category", 'expected one of "life-sciences"'),
    (lambda d: d["concretizer"].update(unify="yes"), "concretizer.unify", 'expected one of true, false'),
    (lambda d: d.update(speks=["bwa"]), "(top level)", "unexpected key 'speks'; allowed: category,"),
    (lambda d: d["specs"].update(alignment="bwa"), "specs.alignment", 'expected array, got "bwa"'),
    (lambda d: d["specs"].update(alignment=[]), "specs.alignment", "expected at least 1 entry"),
    (lambda d: d.update(tags=["Genomics"]), "tags[0]", "lower-case words joined by dashes"),
    (lambda d: d.update(pricing_date="May 2025"), "pricing_date", "YYYY-MM-DD"),
    (lambda d: d.update(repos=["/abs/path"]), "repos[0]", "a relative path inside the collection"),
    (lambda d: d.update(repos=["../outside"]), "repos[0]", "a relative path inside the collection"),
    (lambda d: d.pop("title"), "(top level)", "title is required"),
])
def test_schema_errors_name_file_key_and_expectation(domains_copy, change, key, expected):
    path = edit(domains_copy, "genomics", change)
    err = problems_of(domains_copy)
    assert err.path == path
    assert str(err).startswith("%s is not a valid domain pack:" % path)
    assert any(k == key and expected in msg for k, msg in err.problems), err.problems
    assert "%s: " % key in str(err)


def test_all_problems_are_reported_at_once(domains_copy):
    def change(d):
        d["sizes"]["small"]["vcpus"] = -1
        d["sizes"]["large"]["gpus"] = "one"
        d.pop("description")
    edit(domains_copy, "genomics", change)
    keys = sorted(p[0] for p in problems_of(domains_copy).problems)
    assert keys == ["(top level)", "sizes.large.gpus", "sizes.small.vcpus"]


@pytest.mark.parametrize("change, key, expected", [
    (lambda d: d["specs"]["alignment"].append("Bwa-Mem2"), "specs.alignment[4]",
     "package names are lower case: 'Bwa-Mem2' at column 1 in 'Bwa-Mem2'"),
    (lambda d: d["specs"]["alignment"].append("bwa samtools"), "specs.alignment[4]",
     "a second package name 'samtools'"),
    (lambda d: d["specs"]["qc"].append("bwa+foo"), "specs.qc[2]", "package 'bwa' is already listed at specs.alignment[0]"),
    (lambda d: d["specs"]["alignment"].append("bowtie2@2.5.1"), "specs.alignment[4]",
     "'bowtie2@2.5.1' pins a version or compiler: add it under 'pins' with the reason"),
    (lambda d: d["specs"]["alignment"].append("bowtie2%gcc@11.4.0"), "specs.alignment[4]", "pins a version or compiler"),
    (lambda d: d.update(pins={"bowtie2@2.5.1": "reason"}), "pins.bowtie2@2.5.1", "no spec 'bowtie2@2.5.1' in specs"),
    (lambda d: d.update(default_size="xl"), "default_size", ("expected one of the sizes (", "got 'xl'")),
    (lambda d: d.pop("target_aarch64"), "sizes.graviton.arch", "size uses aarch64 but the pack has no 'target_aarch64'"),
    (lambda d: d.update(name="genome"), "name", "expected 'genomics' (the file name), got 'genome'"),
])
def test_rule_errors(domains_copy, change, key, expected):
    edit(domains_copy, "genomics", change)
    err = problems_of(domains_copy)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert any(k == key and all(e in msg for e in expected) for k, msg in err.problems), err.problems


def test_a_pin_with_a_reason_is_accepted(domains_copy):
    def change(d):
        d["specs"]["alignment"].append("bowtie2@2.5.1")
        d["pins"] = {"bowtie2@2.5.1": "2.5.2 changed the index format used by our reference data"}
    edit(domains_copy, "genomics", change)
    pack = resolve_pack("genomics", domains_dir=str(domains_copy))
    assert "bowtie2@2.5.1" in pack["specs"]


def test_invalid_yaml(domains_copy):
    (domains_copy / "broken.yml").write_text("name: broken\nspecs: [bwa\n")
    with pytest.raises(DomainPackError, match=r"broken.yml is not valid YAML"):
        load_pack("broken", str(domains_copy))


def test_top_level_must_be_a_mapping(domains_copy):
    (domains_copy / "list.yml").write_text("- bwa\n")
    with pytest.raises(PackValidationError, match=r"\(top level\): expected a mapping, got list"):
        load_pack("list", str(domains_copy))


def test_catalogue_fails_on_the_first_invalid_pack(domains_copy):
    edit(domains_copy, "cfd", lambda d: d["sizes"]["small"].update(gpus=-1))
    with pytest.raises(PackValidationError, match=r"cfd.yml is not a valid domain pack:\n  - sizes.small.gpus: expected a "
                       r"number >= 0, got -1"):
        catalogue(str(domains_copy))


def classifier_cases():
    """The cases of _spack_parse's classifier that a concretization can fail with (their status)."""
    with open(os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "test__spack_parse.yaml")) as f:
        cases = [c for c in yaml.safe_load(f) if "status" in c]
    for case in cases:
        if "fixture" in case:
            case["stderr"] = fixtures.err(case["fixture"], case["gen"])
            case["stdout"] = fixtures.out(case["fixture"], case["gen"])
    return cases


CASES = classifier_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_concretize_status_maps_the_error_kind(case):
    summary = error_summary(case["stderr"], case.get("stdout", ""))
    assert concretize_status(summary["kind"]) == case["status"]


def _concretize_status_template():
    """validate_status and detail from playbooks/tasks/concretize_pack.yml, rendered as Ansible would
    (its tests and filters given their Ansible meaning)."""
    with open(os.path.join(ROOT, "playbooks", "tasks", "concretize_pack.yml")) as f:
        tasks = yaml.safe_load(f)
    task = next(t for t in tasks if t["name"].startswith("Record the outcome"))
    env = jinja2.Environment()
    env.tests["search"] = lambda value, pattern: re.search(pattern, value) is not None
    env.filters["regex_findall"] = lambda value, pattern: re.findall(pattern, value)
    env.filters["regex_replace"] = lambda value, pattern, repl: re.sub(pattern, repl, value)
    return env, task["vars"]


def test_playbook_maps_by_the_same_table():
    assert _concretize_status_template()[1]["validate_status_of_kind"] == CONCRETIZE_STATUS


def _render_status(env, task_vars, validate_env):
    context = {"validate_env": validate_env, "validate_status_of_kind": task_vars["validate_status_of_kind"]}
    context["validate_text"] = env.from_string(task_vars["validate_text"]).render(**context)
    context["validate_status"] = env.from_string(task_vars["validate_status"]).render(**context).strip()
    return context


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_playbook_status_and_detail(case):
    env, task_vars = _concretize_status_template()
    # spack_env fails with Spack's error in its message and the kind of it as error_kind.
    summary = error_summary(case["stderr"], case.get("stdout", ""))
    context = _render_status(env, task_vars, {"msg": "spack concretize failed (rc=1): " + summary["error"],
                                              "stderr": case["stderr"], "error_kind": summary["kind"]})
    assert context["validate_status"] == case["status"]
    if case["status"] == "unsatisfiable":
        row_detail = env.from_string(task_vars["validate_row"]["detail"]).render(**context).strip()
        assert case["detail"].split()[-1] in row_detail


@pytest.mark.parametrize("validate_env, status", [
    ({"concretized": {"spec_count": 3}, "changed": True}, "ok"),
    # async_wrapper's result when it stopped the module, and the task executor's.
    ({"failed": True, "msg": "Timeout exceeded", "child_pid": 4242}, "timeout"),
    ({"failed": True, "msg": "async task did not complete within the requested time - 1s"}, "timeout"),
    ({"failed": True, "msg": "spack concretize failed (rc=1): Timeout exceeded", "error_kind": "other"}, "error"),
    ({"failed": True, "msg": "missing required arguments: path"}, "error"),
])
def test_playbook_status_without_a_spack_error(validate_env, status):
    env, task_vars = _concretize_status_template()
    assert _render_status(env, task_vars, validate_env)["validate_status"] == status
