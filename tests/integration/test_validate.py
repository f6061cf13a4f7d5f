# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration: playbooks/validate.yml and playbooks/catalogue.yml through ansible-playbook, and the
domain_pack_info action from an ad-hoc command. The Spack parts concretize / install only the selftest pack."""
import json
import os
import shutil
import subprocess
import sys

import yaml

from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import resolve_pack, spack_yaml
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import available_domains
from helpers.ansible import explain, recap, run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOMAINS = os.path.join(ROOT, "domains")
PACKS = available_domains(DOMAINS)
VALIDATE = os.path.join(ROOT, "playbooks", "validate.yml")
CATALOGUE = os.path.join(ROOT, "playbooks", "catalogue.yml")


def debug_msg(stdout, task):
    """The msg list printed by the debug task named `task` (default callback output)."""
    block = stdout.split("TASK [%s]" % task, 1)[1]
    start = block.index("=> {")
    end = block.index("\n}\n", start)
    return json.loads(block[start + 3:end + 2])["msg"]


def spack_env_vars(spack):
    # Only the site scope the spack role wrote, and the shared user cache of that Spack install.
    return spack["root"], {"SPACK_DISABLE_LOCAL_CONFIG": "1", "SPACK_PYTHON": spack["python"],
                           "SPACK_USER_CACHE_PATH": spack["user_cache"]}


def test_validate_all_packs_schema_only():
    proc = run_playbook(VALIDATE)
    assert proc.returncode == 0, explain(proc)
    lines = debug_msg(proc.stdout, "Report")
    total = sum(resolve_pack(n, domains_dir=DOMAINS)["package_count"] for n in PACKS)
    assert lines[0] == "schema+syntax: %d/%d packs valid, %d specs" % (len(PACKS), len(PACKS), total)
    assert sorted(line.split()[0] for line in lines[1:]) == PACKS
    assert all(line.split()[1] == "valid" for line in lines[1:])
    # the concretize play stops at once without concretize=true
    assert "TASK [Concretize each pack]" not in proc.stdout
    assert recap(proc.stdout)["localhost"]["failed"] == 0


def test_validate_one_pack():
    proc = run_playbook(VALIDATE, {"domain": "genomics"})
    assert proc.returncode == 0, explain(proc)
    lines = debug_msg(proc.stdout, "Report")
    assert lines[0] == "schema+syntax: 1/1 packs valid, 12 specs"
    assert lines[1].split()[:3] == ["genomics", "valid", "12"]


def test_validate_unknown_pack_names_the_nearest():
    proc = run_playbook(VALIDATE, {"domain": "genomic"})
    assert proc.returncode != 0
    lines = debug_msg(proc.stdout, "Report")
    assert lines[0] == "schema+syntax: 0/1 packs valid, 0 specs"
    assert "INVALID" in lines[1] and "unknown domain 'genomic'; did you mean 'genomics'? available: " in lines[1]
    assert "invalid packs: genomic" in proc.stdout


def test_validate_reports_schema_and_syntax_errors(tmp_path):
    domains = tmp_path / "domains"
    shutil.copytree(DOMAINS, str(domains))
    # selftest's repository and source mirror are named relative to the collection root.
    (tmp_path / "tests").mkdir()
    os.symlink(os.path.join(ROOT, "tests", "testrepo"), str(tmp_path / "tests" / "testrepo"))
    path = domains / "cfd.yml"
    data = yaml.safe_load(path.read_text())
    data["sizes"]["small"]["vcpus"] = "many"
    data["specs"]["solvers"].append("OpenFOAM@@2312")
    path.write_text(yaml.safe_dump(data))
    proc = run_playbook(VALIDATE, {"validate_domains_dir": str(domains)})
    assert proc.returncode != 0
    lines = debug_msg(proc.stdout, "Report")
    assert lines[0].startswith("schema+syntax: %d/%d packs valid" % (len(PACKS) - 1, len(PACKS)))
    cfd = [line for line in lines if line.startswith("cfd ")][0]
    assert "INVALID" in cfd and str(path) in cfd
    assert 'sizes.small.vcpus: expected integer, got \\"many\\"' in proc.stdout or \
        'sizes.small.vcpus: expected integer, got "many"' in cfd
    assert "invalid packs: cfd" in proc.stdout


def test_catalogue_table():
    proc = run_playbook(CATALOGUE)
    assert proc.returncode == 0, explain(proc)
    lines = debug_msg(proc.stdout, "Print the catalogue")
    assert lines[0].split()[:3] == ["name", "title", "packages"] and lines[0].rstrip().endswith("$/hour")
    rows = [line.split() for line in lines[2:-1]]
    assert [r[0] for r in rows] == PACKS
    genomics = [r for r in rows if r[0] == "genomics"][0]
    assert genomics[-3:] == ["12", "r7i.8xlarge", "2.1168"]
    selftest = [r for r in rows if r[0] == "selftest"][0]
    assert selftest[-3:] == ["2", "t3.medium", "0.0416"]
    assert lines[-1].startswith("%d packs, " % len(PACKS)) and "us-east-1 as of 2025-05-01" in lines[-1]


def test_catalogue_filtered_by_category():
    proc = run_playbook(CATALOGUE, {"catalogue_category": "chemistry"})
    assert proc.returncode == 0, explain(proc)
    lines = debug_msg(proc.stdout, "Print the catalogue")
    assert [line.split()[0] for line in lines[2:-1]] == [
        "chemistry", "drug-discovery", "molecular-dynamics", "quantum-chemistry"]


def adhoc(*args):
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m", "research.wizard.domain_pack_info"]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run(cmd + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc, json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_action_resolves_with_overrides():
    overrides = {"remove_specs": ["gatk"], "add_specs": {"alignment": ["bowtie2"]},
                 "sizes": {"large": {"root_volume_gb": 3000}}}
    proc, res = adhoc("-a", json.dumps({"name": "genomics", "size": "large", "overrides": overrides,
                                        "fact_name": "wizard_pack"}))
    assert proc.returncode == 0, proc.stdout[-2000:]
    pack = res["pack"]
    assert res["changed"] is False
    assert "gatk" not in pack["packages"] and pack["spec_groups"]["alignment"][-1] == "bowtie2"
    assert pack["instance"]["instance_type"] == "x2idn.16xlarge" and pack["instance"]["root_volume_gb"] == 3000
    assert pack["spack_yaml"]["spack"]["packages"]["all"]["require"] == "target=x86_64_v3"
    assert res["ansible_facts"]["wizard_pack"]["size"] == "large"


def test_action_unknown_pack_and_invalid_override():
    proc, res = adhoc("-a", "name=selftset")
    assert proc.returncode != 0 and res["failed"]
    assert res["nearest"] == "selftest" and res["available"] == PACKS
    proc, res = adhoc("-a", json.dumps({"name": "genomics", "overrides": {"sizes": {"small": {"gpus": -2}}}}))
    assert proc.returncode != 0
    assert res["problems"] == [{"key": "sizes.small.gpus", "message": "expected a number >= 0, got -2"}]
    assert res["file"].endswith("genomics.yml (with site overrides)")


def test_action_without_name_returns_the_catalogue():
    proc, res = adhoc()
    assert proc.returncode == 0
    assert res["packs"] == PACKS and len(res["catalogue"]) == len(PACKS) and len(res["table"]) == len(PACKS) + 2


def test_spack_validate_reports_ok_unknown_and_unsatisfiable(tmp_path, spack):
    """selftest concretizes (with a spack.lock for x86_64_v3); two broken copies fail with their reasons."""
    domains = tmp_path / "domains"
    shutil.copytree(DOMAINS, str(domains))
    for pack in PACKS:
        if pack != "selftest":
            (domains / (pack + ".yml")).unlink()
    selftest = yaml.safe_load((domains / "selftest.yml").read_text())
    for name, specs, pins in (("st-unknown", ["tinyapp", "nosuchpkg"], {}),
                              ("st-unsat", ["tinyapp", "libtiny@2.0"], {"libtiny@2.0": "does not exist on purpose"})):
        data = dict(selftest, name=name, specs={"apps": specs}, pins=pins)
        (domains / (name + ".yml")).write_text(yaml.safe_dump(data))
    # repos/source_mirrors are relative to the parent of domains/: point them at the checkout
    os.symlink(os.path.join(ROOT, "tests"), str(tmp_path / "tests"))
    root, env_vars = spack_env_vars(spack)
    proc = run_playbook(VALIDATE, {"concretize": True, "validate_domains_dir": str(domains),
                                   "validate_workdir": str(tmp_path / "w"), "validate_spack_root": root,
                                   "validate_spack_env_vars": env_vars}, timeout=600)
    assert proc.returncode != 0
    lines = debug_msg(proc.stdout, "Report per pack")
    assert lines[0].startswith("concretize: 1/3 packs ok, ")
    status = dict((line.split()[0], line) for line in lines[1:])
    assert status["selftest"].split()[1] == "ok"
    assert "unknown packages" in status["st-unknown"] and "nosuchpkg" in status["st-unknown"]
    assert "unsatisfiable" in status["st-unsat"] and "libtiny@2.0" in status["st-unsat"]
    assert "st-unknown, st-unsat did not concretize" in proc.stdout
    fields = status["selftest"].split()
    assert float(fields[2]) > 0 and int(fields[4]) >= 3
    lock = json.loads((tmp_path / "w" / "selftest" / "spack.lock").read_text())
    ours = [s for s in lock["concrete_specs"].values() if s["name"] in ("tinyapp", "tinycmake", "libtiny")]
    assert sorted(s["name"] for s in ours) == ["libtiny", "tinyapp", "tinycmake"]
    assert all(s["arch"]["target"] == "x86_64_v3" for s in ours)
    assert [s["parameters"]["fancy"] for s in ours if s["name"] == "tinycmake"] == [True]


def test_spack_validate_reports_a_timeout(tmp_path, spack):
    root, env_vars = spack_env_vars(spack)
    proc = run_playbook(VALIDATE, {"domain": "selftest", "concretize": True, "validate_workdir": str(tmp_path / "w"),
                                   "validate_concretize_timeout": 1, "validate_spack_root": root,
                                   "validate_spack_env_vars": env_vars}, timeout=300)
    assert proc.returncode != 0
    lines = debug_msg(proc.stdout, "Report per pack")
    assert lines[0].startswith("concretize: 0/1 packs ok, ")
    assert lines[1].split()[:2] == ["selftest", "timeout"]
    assert "selftest did not concretize" in proc.stdout


def test_spack_selftest_pack_installs_offline(tmp_path, spack):
    """The selftest pack's spack.yaml installs from the local source mirror alone."""
    root, env_vars = spack_env_vars(spack)
    pack = resolve_pack("selftest", domains_dir=DOMAINS)
    manifest = spack_yaml(pack)
    manifest["spack"]["config"] = {"install_tree": {"root": str(tmp_path / "store")},
                                   "build_stage": [str(tmp_path / "stage")],
                                   "source_cache": str(tmp_path / "source-cache")}
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "spack.yaml").write_text(yaml.safe_dump(manifest))
    proc = subprocess.run(["nice", os.path.join(root, "bin", "spack"), "-e", str(env_dir), "install", "--fail-fast"],
                          env=dict(os.environ, SPACK_ROOT=root, **env_vars), capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed = [os.path.join(d, f) for d, dummy, files in os.walk(str(tmp_path / "store")) for f in files]
    assert any(p.endswith("/bin/tinyapp") for p in installed)
    assert any(p.endswith("/bin/tinycmake") for p in installed)
    tinyapp = [p for p in installed if p.endswith("/bin/tinyapp")][0]
    out = subprocess.run([tinyapp], capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0 and out.stdout.strip()
