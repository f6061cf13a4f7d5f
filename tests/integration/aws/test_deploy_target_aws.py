# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""deploy.yml -e target=aws against moto: check mode lists what it would create and creates nothing;
the pack's size picks the instance; the deploy itself runs on this machine (moto's instance has no
SSH) with the real Spack, and its summary and build logs reach the deployment's CloudWatch log group;
aws_logs.yml then sends nothing more; a deploy that fails is sent afterwards by aws_logs.yml, with the
failed package's build log; teardown.yml -e target=aws removes everything. The owner, and so the
deployment name, comes from the inventory. The EC2 inventories find the instance: research.wizard.ec2
(inventories/aws/wizard.ec2.yml) and AWX's source, the plain amazon.aws.aws_ec2 config
(inventories/aws/wizard.aws_ec2.yml), with the same wizard groups and variables."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess

import pytest
import yaml

from helpers.moto import moto_server
from helpers.spack_dag import counts
from helpers.spack_sandbox import deploy_vars
from integration.aws.test_aws_roles import (BIN, NOTHING, ROOT, SSH_CIDR, aws_env, client, leftovers, live_instances,
                                            ok, playbook, unsafe)


DEPLOYMENT = "selftest-alice"
GROUP = "/research-wizard/" + DEPLOYMENT


@pytest.fixture
def endpoint():
    with moto_server() as url:
        yield url


def log_streams(endpoint):
    logs = client("logs", endpoint)
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    return dict((s["logStreamName"], [e["message"] for e in logs.get_log_events(
        logGroupName=GROUP, logStreamName=s["logStreamName"], startFromHead=True)["events"]]) for s in streams)


def inventory_list(tmp_path, endpoint, name):
    """ansible-inventory --list of inventories/aws/<name>, pointed at moto and without its cache."""
    with open(os.path.join(ROOT, "inventories", "aws", name)) as f:
        config = dict(yaml.safe_load(f), endpoint_url=endpoint, cache=False)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--list"], cwd=ROOT, check=False,
                          env=aws_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_deploy_logs_and_teardown_with_target_aws(tmp_path, endpoint, spack):
    site = str(tmp_path / "site")
    os.makedirs(site)
    # wizard_owner from the inventory (group all), not from $USER.
    owner_inventory = tmp_path / "owner.yml"
    owner_inventory.write_text("all:\n  vars:\n    wizard_owner: alice\n")
    env = aws_env(ANSIBLE_INVENTORY="%s,%s" % (os.path.join(ROOT, "inventories", "local", "hosts.yml"), owner_inventory),
                  WIZARD_PROGRESS_REPORTS="false")
    env.pop("SPACK_DISABLE_LOCAL_CONFIG", None)  # the sandbox's user scope must apply
    values = {
        "domain": "selftest", "target": "aws", "size": "medium", "wizard_ssh_cidr": SSH_CIDR,
        "wizard_cache_bucket": "wizard-cache-selftest-it", "wizard_key_path": str(tmp_path / "key.pem"),
        # moto treats any bucket-policy Condition as a deny and has no SSH to wait for.
        "wizard_cache_tls_policy": False, "wizard_wait_for_ssh": False,
    }

    # Check mode: the pack's size and price, what would be created; nothing is.
    rc, out, recap = playbook("deploy.yml", endpoint, values, check=True, env=env)
    ok((rc, out, recap))
    assert "Would create deployment %s of domain selftest" % DEPLOYMENT in out
    assert "c7i.large" in out and "about $0.08925/hour" in out and "Would launch research-wizard-%s" % DEPLOYMENT in out
    assert leftovers(endpoint) == NOTHING

    # The deploy host is this machine, with Spack in a throw-away site.
    deploy = dict(values, wizard_hosts="localhost", cache="none", **deploy_vars(site, spack))
    ok(playbook("deploy.yml", endpoint, deploy, env=env, timeout=1800))
    [instance] = live_instances(endpoint)
    assert instance["InstanceType"] == "c7i.large"  # domains/selftest.yml, size medium
    tags = dict((t["Key"], t["Value"]) for t in instance["Tags"])
    assert (tags["research-wizard:domain"], tags["research-wizard:size"]) == ("selftest", "medium")
    assert (tags["research-wizard:owner"], tags["research-wizard:deployment"]) == ("alice", DEPLOYMENT)

    # Both EC2 inventories: the deployment's group (aws_logs.yml's hosts) and the same wizard_* variables.
    host = tags["Name"]
    ours, awx = [inventory_list(tmp_path, endpoint, name) for name in ("wizard.ec2.yml", "wizard.aws_ec2.yml")]
    for listing in (ours, awx):
        for group in ("wizard_instances", "wizard_domain_selftest", "wizard_deployment_selftest_alice",
                      "wizard_size_medium", "wizard_type_c7i_large", "wizard_state_running", "wizard_region_us_east_1"):
            assert listing[group]["hosts"] == [host], (group, listing.get(group))
    assert ours["wizard_owner_alice"]["hosts"] == [host]  # the example's own keyed group
    hostvars = unsafe(ours["_meta"]["hostvars"][host])
    assert (hostvars["wizard_instance_id"], hostvars["wizard_deployment"]) == (instance["InstanceId"], DEPLOYMENT)
    assert hostvars["ansible_host"] == instance["PublicIpAddress"] and hostvars["ansible_user"] == "ec2-user"
    assert dict((k, v) for k, v in unsafe(awx["_meta"]["hostvars"][host]).items() if k.startswith("wizard_")) == \
        dict((k, v) for k, v in hostvars.items() if k.startswith("wizard_"))

    with open(os.path.join(site, "data", "deployments", "selftest.json")) as f:
        summary = json.load(f)
    built = sorted("%s@%s-%s" % (p["package"], p["version"], p["hash"][:7]) for p in summary["packages"]
                   if p["origin"] == "source")
    assert summary["counts"]["source"] == len(built) == counts(
        os.path.join(site, "spack", "var", "spack", "environments", "selftest"))["built"]

    streams = log_streams(endpoint)
    [prefix] = set(name.rsplit("/", 1)[0] for name in streams if name.endswith("/summary"))
    assert prefix.startswith("localhost/selftest/") and prefix.endswith("Z")
    head, packages = streams[prefix + "/summary"][0], streams[prefix + "/summary"][1:]
    assert json.loads(head) == dict((k, v) for k, v in summary.items() if k != "packages")
    assert [json.loads(p) for p in packages] == summary["packages"]
    logs = dict((name[len(prefix + "/spack/"):], events) for name, events in streams.items()
                if name.startswith(prefix + "/spack/"))
    assert sorted(logs) == built
    # Each is the package's own build log (Spack keeps it in the install prefix's .spack).
    for name, events in logs.items():
        assert events[0].startswith("==> %s: Executing phase" % name.split("@")[0]), (name, events[:5])

    # The same run again: every stream exists, nothing is sent.
    rc, out, recap = playbook("aws_logs.yml", endpoint, deploy, env=env)
    assert ok((rc, out, recap))["changed"] == 0, out[-6000:]
    assert log_streams(endpoint) == streams

    # A package that does not build stops the deploy before its logs are sent; aws_logs.yml on its
    # own then sends that run: the summary with the failure and the failed package's build log.
    broken = dict(deploy, wizard_overrides={"add_specs": ["tinybroken"]})
    rc, out, recap = playbook("deploy.yml", endpoint, broken, env=env, timeout=1800)
    assert rc != 0 and "tinybroken" in out, out[-6000:]
    assert log_streams(endpoint) == streams
    ok(playbook("aws_logs.yml", endpoint, broken, env=env))
    new = dict((name, events) for name, events in log_streams(endpoint).items() if name not in streams)
    [failed_run] = set(name.rsplit("/", 1)[0] for name in new if name.endswith("/summary"))
    assert json.loads(new[failed_run + "/summary"][0])["failures"][0]["package"] == "tinybroken"
    [failed_log] = [events for name, events in new.items() if name.startswith(failed_run + "/spack/tinybroken@")]
    assert any("Error" in line for line in failed_log), failed_log[-10:]
    # Nothing else was built in that run, so no other build log was sent.
    assert sorted(new) == sorted([failed_run + "/summary"] + [n for n in new if "/spack/tinybroken@" in n])

    ok(playbook("teardown.yml", endpoint, dict(values, wizard_hosts="wizard_no_such_group",
                                               wizard_teardown_bucket=True, wizard_teardown_bucket_force=True),
                env=env))
    assert leftovers(endpoint) == NOTHING
