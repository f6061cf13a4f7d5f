# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWS half end to end: real ansible-playbook / ansible-inventory runs against moto in server mode.

provision (check mode) -> provision -> read back -> provision again (changed=0) -> inventory plugin
-> teardown -> nothing left (spot, arm64, dashboard included); the CloudFormation method of
aws_infrastructure (apply, changed=0, bucket kept unless forced); and the errors that must come before
anything is created. Each scenario has its own fresh moto server, so they may run in parallel
(pytest -n 3).
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import stat
import subprocess
import sys

import boto3
import pytest

from helpers.moto import moto_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
REGION = "us-east-1"
SSH_CIDR = "203.0.113.7/32"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def aws_env(**extra):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PYTHONWARNINGS="ignore")
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "AWS_SESSION_TOKEN"):
        env.pop(var, None)
    env.update(extra)
    return env


def playbook(name, endpoint, extra_vars, check=False, env=None, timeout=600):
    path = name if "/" in name else "playbooks/%s" % name
    cmd = [os.path.join(BIN, "ansible-playbook"), path,
           "-e", json.dumps(dict({"aws_region": REGION, "aws_endpoint_url": endpoint}, **extra_vars))]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, cwd=ROOT, env=env or aws_env(), stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
    recap = dict((m.group(1), {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(5))})
                 for m in RECAP.finditer(proc.stdout))
    return proc.returncode, proc.stdout, recap


def ok(result):
    rc, out, recap = result
    assert rc == 0, out[-6000:]
    assert recap["localhost"]["failed"] == 0, out[-6000:]
    return recap["localhost"]


def client(service, endpoint):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def live_instances(endpoint):
    ec2 = client("ec2", endpoint)
    return [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]


def leftovers(endpoint):
    """Everything the wizard may create, as it exists now in moto."""
    ec2, iam, cfn = client("ec2", endpoint), client("iam", endpoint), client("cloudformation", endpoint)
    return {
        "instances": [i["InstanceId"] for i in live_instances(endpoint)],
        "security_groups": [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]
                            if g["GroupName"] != "default"],
        "key_pairs": [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]],
        "launch_templates": [t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "instance_profiles": [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]],
        "buckets": [b["Name"] for b in client("s3", endpoint).list_buckets()["Buckets"]],
        "stacks": [s["StackName"] for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"],
        "alarms": [a["AlarmName"] for a in client("cloudwatch", endpoint).describe_alarms()["MetricAlarms"]],
        "log_groups": [g["logGroupName"] for g in client("logs", endpoint).describe_log_groups()["logGroups"]],
    }


NOTHING = dict.fromkeys(["instances", "security_groups", "key_pairs", "launch_templates", "roles",
                         "instance_profiles", "buckets", "stacks", "alarms", "log_groups"], [])


def unsafe(value):
    """ansible-inventory --list shows untrusted strings as {"__ansible_unsafe": "..."}."""
    if isinstance(value, dict) and set(value) == {"__ansible_unsafe"}:
        return value["__ansible_unsafe"]
    if isinstance(value, dict):
        return dict((k, unsafe(v)) for k, v in value.items())
    return value


def base_vars(tmp_path, deployment, **more):
    values = {
        "domain": "quantum-chemistry", "deployment": deployment, "wizard_ssh_cidr": SSH_CIDR,
        "wizard_cache_bucket": "wizard-cache-%s" % deployment, "wizard_cache_prefix": "spack/cache",
        "wizard_instance_type": "c7i.large", "wizard_root_volume_gb": 40, "wizard_root_volume_type": "gp3",
        "wizard_architecture": "x86_64", "wizard_size": "small", "wizard_cost_per_hour": 0.0893,
        # moto treats any bucket-policy Condition as a deny and has no SSH to wait for.
        "wizard_cache_tls_policy": False, "wizard_wait_for_ssh": False,
        "wizard_key_path": str(tmp_path / "keys" / ("%s.pem" % deployment)),
    }
    values.update(more)
    return values


def assert_cache_policy(endpoint, role, bucket, prefix, write):
    doc = client("iam", endpoint).get_role_policy(RoleName=role, PolicyName="research-wizard-cache")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    statements = dict((s["Sid"], s) for s in doc["Statement"])
    assert set(statements) == {"ListCachePrefix", "LocateCacheBucket",
                               "ReadWriteCacheObjects" if write else "ReadCacheObjects"}
    listing = statements["ListCachePrefix"]
    assert listing["Action"] == ["s3:ListBucket"] and listing["Resource"] == ["arn:aws:s3:::%s" % bucket]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [prefix, prefix + "/*"]}}
    objects = statements["ReadWriteCacheObjects" if write else "ReadCacheObjects"]
    assert objects["Resource"] == ["arn:aws:s3:::%s/%s/*" % (bucket, prefix)]
    expected = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} if write else {"s3:GetObject"}
    assert set(objects["Action"]) == expected
    # Nothing anywhere else: every resource is the bucket or below the prefix.
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            assert resource in ("arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/%s/*" % (bucket, prefix))


def assert_logs_policy(endpoint, role, group):
    """The instance may create streams in, and write to, its own log group, and nothing else."""
    doc = client("iam", endpoint).get_role_policy(RoleName=role, PolicyName="research-wizard-logs")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    [statement] = doc["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    # The modules method leaves the account out (*), CloudFormation fills it in.
    arn = r"arn:aws:logs:%s:(\*|[0-9]{12}):log-group:%s" % (REGION, re.escape(group))
    assert len(statement["Resource"]) == 2
    assert re.fullmatch(arn, statement["Resource"][0]), statement["Resource"]
    assert re.fullmatch(arn + re.escape(":log-stream:*"), statement["Resource"][1]), statement["Resource"]


def assert_instance(endpoint, deployment, instance_type, architecture, volume_gb):
    [instance] = live_instances(endpoint)
    tags = dict((t["Key"], t["Value"]) for t in instance["Tags"])
    assert tags["research-wizard:domain"] == "quantum-chemistry"
    assert tags["research-wizard:deployment"] == deployment
    assert tags["research-wizard:size"] == "small"
    assert tags["research-wizard:owner"]
    assert instance["InstanceType"] == instance_type
    assert instance["MetadataOptions"]["HttpTokens"] == "required"  # IMDSv2 only
    assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
    assert instance["IamInstanceProfile"]["Arn"].endswith("/research-wizard-%s" % deployment)
    image = client("ec2", endpoint).describe_images(ImageIds=[instance["ImageId"]])["Images"][0]
    assert image["Architecture"] == architecture and image["OwnerId"] == "137112412989"
    assert image["Name"].startswith("al2023-ami-2023.")
    root = [b for b in instance["BlockDeviceMappings"] if b["DeviceName"] == image["RootDeviceName"]][0]
    volume = client("ec2", endpoint).describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert (volume["VolumeType"], volume["Size"]) == ("gp3", volume_gb)
    return instance


def assert_security_group(endpoint, deployment):
    [group] = client("ec2", endpoint).describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["research-wizard-%s" % deployment]}])["SecurityGroups"]
    [rule] = group["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 22, 22)
    assert [r["CidrIp"] for r in rule["IpRanges"]] == [SSH_CIDR]


# The scenarios are independent (one moto server each); with pytest-xdist,
# `-n 3 --dist loadgroup` runs them side by side.
@pytest.mark.xdist_group("aws_modules")
def test_provision_modules_idempotent_inventory_teardown(tmp_path):
    with moto_server() as endpoint:
        deployment = "chem-mod"
        values = base_vars(tmp_path, deployment, wizard_cache_access="read", wizard_cache_versioning=True,
                           wizard_spot=True, wizard_instance_type="r7g.large", wizard_architecture="aarch64",
                           wizard_dashboard=True)
        bucket = values["wizard_cache_bucket"]

        # Check mode: lists what would be created, creates nothing.
        rc, out, recap = playbook("aws_provision.yml", endpoint, values, check=True)
        assert ok((rc, out, recap))["changed"] > 0
        assert "Would create deployment chem-mod" in out and "Would launch research-wizard-chem-mod" in out
        assert "$0.0893/hour" in out
        assert leftovers(endpoint) == NOTHING

        # Apply.
        rc, out, recap = playbook("aws_provision.yml", endpoint, values)
        assert ok((rc, out, recap))["changed"] > 0
        assert "PRIVATE KEY" not in out

        s3 = client("s3", endpoint)
        encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert rule["Expiration"]["Days"] == 180 and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
        assert_cache_policy(endpoint, "research-wizard-chem-mod", bucket, "spack/cache", write=False)
        assert_logs_policy(endpoint, "research-wizard-chem-mod", "/research-wizard/chem-mod")
        instance = assert_instance(endpoint, deployment, "r7g.large", "arm64", 40)
        assert instance["KeyName"] == "research-wizard-chem-mod"
        [template] = client("ec2", endpoint).describe_launch_template_versions(
            LaunchTemplateName="research-wizard-chem-mod")["LaunchTemplateVersions"]
        assert template["LaunchTemplateData"]["InstanceMarketOptions"]["MarketType"] == "spot"
        assert [d["DashboardName"] for d in client("cloudwatch", endpoint).list_dashboards()["DashboardEntries"]] == \
            ["research-wizard-chem-mod"]
        assert_security_group(endpoint, deployment)
        key = tmp_path / "keys" / "chem-mod.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and "PRIVATE KEY" in key.read_text()
        alarms = client("cloudwatch", endpoint).describe_alarms()["MetricAlarms"]
        assert sorted(a["AlarmName"] for a in alarms) == ["research-wizard-chem-mod-idle",
                                                          "research-wizard-chem-mod-status-check-failed"]
        assert all(a["Dimensions"] == [{"Name": "InstanceId", "Value": instance["InstanceId"]}] for a in alarms)
        assert leftovers(endpoint)["log_groups"] == ["/research-wizard/chem-mod"]

        # Second run: nothing to do.
        rc, out, recap = playbook("aws_provision.yml", endpoint, values)
        assert ok((rc, out, recap))["changed"] == 0, out[-6000:]
        assert len(live_instances(endpoint)) == 1

        # The inventory plugin finds the instance and groups it by domain.
        config = tmp_path / "wizard.ec2.yml"
        config.write_text("plugin: research.wizard.ec2\nregions: [%s]\nendpoint_url: %s\n"
                          "compose:\n  ansible_user: wizard_ssh_user\n" % (REGION, endpoint))
        proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(config), "--list"], cwd=ROOT,
                              check=False, env=aws_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        listing = json.loads(proc.stdout)
        assert listing["wizard_domain_quantum_chemistry"]["hosts"] == ["research-wizard-chem-mod"]
        assert listing["wizard_deployment_chem_mod"]["hosts"] == ["research-wizard-chem-mod"]
        assert listing["wizard_size_small"]["hosts"] == ["research-wizard-chem-mod"]
        assert listing["wizard_type_r7g_large"]["hosts"] == ["research-wizard-chem-mod"]
        hostvars = unsafe(listing["_meta"]["hostvars"]["research-wizard-chem-mod"])
        assert hostvars["wizard_instance_id"] == instance["InstanceId"]
        assert hostvars["wizard_domain"] == "quantum-chemistry" and hostvars["wizard_deployment"] == deployment
        assert hostvars["wizard_spack_root"] == "/opt/spack"
        assert hostvars["wizard_cache_url"] == "s3://%s/spack/cache" % bucket
        assert hostvars["ansible_user"] == "ec2-user"
        assert hostvars["ansible_host"] == instance["PublicIpAddress"]

        # Teardown, bucket included: nothing left.
        ok(playbook("aws_teardown.yml", endpoint, dict(values, wizard_teardown_bucket=True)))
        assert leftovers(endpoint) == NOTHING
        assert not key.exists()


CFN_PLAYBOOK = "tests/integration/aws/cfn_infrastructure.yml"


@pytest.mark.xdist_group("aws_cloudformation")
def test_cloudformation_infrastructure(tmp_path):
    """The CloudFormation method of aws_infrastructure: stacks, idempotence, bucket kept unless forced."""
    with moto_server() as endpoint:
        bucket = "wizard-cache-chem-cfn"
        # The lab's own key pair: used as it is, never retagged, kept by the teardown.
        client("ec2", endpoint).create_key_pair(KeyName="lab-key")
        values = {
            "aws_infrastructure_region": REGION, "aws_infrastructure_endpoint_url": endpoint,
            "aws_infrastructure_domain": "chemistry", "aws_infrastructure_deployment": "chem-cfn",
            "aws_infrastructure_bucket": bucket, "aws_infrastructure_prefix": "spack/cache",
            "aws_infrastructure_ssh_cidr": SSH_CIDR, "aws_infrastructure_key_name": "lab-key",
            # moto treats any bucket-policy Condition as a deny.
            "aws_infrastructure_bucket_tls_policy": False,
        }

        assert ok(playbook(CFN_PLAYBOOK, endpoint, values))["changed"] > 0
        cfn = client("cloudformation", endpoint)
        stacks = dict((s["StackName"], s["StackStatus"]) for s in cfn.describe_stacks()["Stacks"])
        assert stacks == {"research-wizard-cache-%s" % bucket: "CREATE_COMPLETE",
                          "research-wizard-chem-cfn": "CREATE_COMPLETE"}
        s3 = client("s3", endpoint)
        encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        # moto's CloudFormation ignores PublicAccessBlockConfiguration; check the template declares it.
        template = cfn.get_template(StackName="research-wizard-cache-%s" % bucket)["TemplateBody"]
        for setting in ("BlockPublicAcls: true", "IgnorePublicAcls: true", "BlockPublicPolicy: true",
                        "RestrictPublicBuckets: true", "aws:SecureTransport", "DeletionPolicy: Retain"):
            assert setting in template
        assert_cache_policy(endpoint, "research-wizard-chem-cfn", bucket, "spack/cache", write=True)
        assert_logs_policy(endpoint, "research-wizard-chem-cfn", "/research-wizard/chem-cfn")
        assert_security_group(endpoint, "chem-cfn")
        assert leftovers(endpoint)["instance_profiles"] == ["research-wizard-chem-cfn"]
        [lab_key] = client("ec2", endpoint).describe_key_pairs()["KeyPairs"]
        assert not lab_key.get("Tags")

        rc, out, recap = playbook(CFN_PLAYBOOK, endpoint, values)
        assert ok((rc, out, recap))["changed"] == 0, out[-6000:]

        # A bucket that holds cached binaries is kept unless forced.
        s3.put_object(Bucket=bucket, Key="spack/cache/build_cache/index.json", Body=b"{}")
        absent = dict(values, aws_infrastructure_state="absent", aws_infrastructure_bucket_delete=True)
        rc, out, recap = playbook(CFN_PLAYBOOK, endpoint, absent)
        assert rc != 0 and "still holds cached binaries" in out and "wizard_teardown_bucket_force=true" in out
        assert leftovers(endpoint)["buckets"] == [bucket]

        ok(playbook(CFN_PLAYBOOK, endpoint, dict(absent, aws_infrastructure_bucket_force=True)))
        assert leftovers(endpoint) == dict(NOTHING, key_pairs=["lab-key"])


ERRORS = [
    ("world_ssh", {"wizard_ssh_cidr": "0.0.0.0/0"}, {}, "needs wizard_ssh_allow_world=true"),
    ("no_ssh_cidr", {"wizard_ssh_cidr": ""}, {}, "wizard_ssh_cidr (aws_infrastructure_ssh_cidr) must be the CIDR"),
    ("bad_type", {"wizard_instance_type": "huge"}, {}, "Invalid instance size: type 'huge'"),
    ("arch_mismatch", {"wizard_instance_type": "c7g.large"}, {}, "this type is arm64"),
    ("bad_domain", {"domain": "Chemistry Pack"}, {}, "Pass the domain pack"),
    ("unknown_domain", {"domain": "quantum-chemistri"}, {},
     "unknown domain 'quantum-chemistri'; did you mean 'quantum-chemistry'?"),
    ("no_credentials", {}, {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"},
     "No usable AWS credentials"),
]


@pytest.fixture(scope="module")
def shared_moto():
    with moto_server() as endpoint:
        yield endpoint


@pytest.mark.xdist_group("aws_errors")
@pytest.mark.parametrize("case, overrides, env, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_before_anything_is_created(tmp_path, shared_moto, case, overrides, env, message):
    environment = aws_env(**env)
    for var, value in env.items():
        if value == "":
            environment.pop(var)
    rc, out, recap = playbook("aws_provision.yml", shared_moto, dict(base_vars(tmp_path, "chem-err"), **overrides),
                              env=environment)
    assert rc != 0
    assert message in re.sub(r"\s+", " ", out), out[-4000:]
    assert leftovers(shared_moto) == NOTHING
