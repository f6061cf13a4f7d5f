# -*- coding: utf-8 -*-
# Copyright (c) research.wizard developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""research.wizard.ec2 inventory: grouping, host variables, filters, caching, errors.

EC2 is moto in-process (mock_aws) or a botocore Stubber; nothing leaves the process.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import add_fragments
from ansible.template import Templar

try:  # ansible-core >= 2.19: only trusted strings are templates
    from ansible.template import trust_as_template as trusted
except ImportError:  # pragma: no cover
    def trusted(value):
        return value

from ansible_collections.research.wizard.plugins.inventory import ec2 as ec2_inventory

moto = pytest.importorskip("moto")

NAME = "research.wizard.ec2"


@pytest.fixture(scope="module", autouse=True)
def plugin_options():
    """Register the plugin's options (with its doc fragments) the way the plugin loader does."""
    doc = yaml.safe_load(ec2_inventory.DOCUMENTATION)
    add_fragments(doc, ec2_inventory.__file__, fragment_loader=fragment_loader)
    C.config.initialize_plugin_configuration_definitions("inventory", NAME, doc["options"])


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws():
    with moto.mock_aws():
        yield


def run_inventory(tmp_path, config, cache=True, name="wizard.ec2.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": NAME}, **config)))
    plugin = ec2_inventory.InventoryModule()
    plugin._load_name = NAME
    plugin._redirected_names = [NAME]
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    if getattr(plugin, "_cache", None):
        plugin.update_cache_if_changed()  # as InventoryManager does after parse()
    return inventory


def launch(region, tags, state="running", instance_type="c7i.large"):
    ec2 = boto3.client("ec2", region_name=region)
    image = "ami-12c6146b"  # moto does not validate image ids unless told to
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType=instance_type,
                                 TagSpecifications=spec,
                                 MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
                                 )["Instances"][0]
    if state == "stopped":
        ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    elif state == "terminated":
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    return instance["InstanceId"]


def wizard_tags(domain, deployment, size="small", name=None, **extra):
    tags = {"research-wizard:domain": domain, "research-wizard:deployment": deployment,
            "research-wizard:owner": "alice", "research-wizard:size": size,
            "research-wizard:spack-root": "/opt/spack", "research-wizard:ssh-user": "ec2-user",
            "research-wizard:cache-url": "s3://cache/buildcache"}
    if name:
        tags["Name"] = name
    tags.update(extra)
    return tags


def hosts_of(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def test_groups_and_host_variables(aws, tmp_path):
    chem_dev = launch("us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    launch("us-east-1", wizard_tags("chemistry", "chem-prod", size="large", name="chem-prod"),
           state="stopped", instance_type="r7g.xlarge")
    launch("us-east-1", wizard_tags("genomics", "gen-1", name="gen-1", Note="{{ 6 * 7 }}"))
    launch("us-east-1", {"Name": "not-ours"})
    launch("us-east-1", wizard_tags("chemistry", "chem-old", name="chem-old"), state="terminated")

    inventory = run_inventory(tmp_path, {"regions": ["us-east-1"]})

    assert hosts_of(inventory, "wizard_instances") == ["chem-dev", "chem-prod", "gen-1"]
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev", "chem-prod"]
    assert hosts_of(inventory, "wizard_domain_genomics") == ["gen-1"]
    assert hosts_of(inventory, "wizard_deployment_chem_dev") == ["chem-dev"]
    assert hosts_of(inventory, "wizard_size_large") == ["chem-prod"]
    assert hosts_of(inventory, "wizard_size_small") == ["chem-dev", "gen-1"]
    assert hosts_of(inventory, "wizard_type_r7g_xlarge") == ["chem-prod"]
    assert hosts_of(inventory, "wizard_state_stopped") == ["chem-prod"]
    assert hosts_of(inventory, "wizard_state_running") == ["chem-dev", "gen-1"]
    assert hosts_of(inventory, "wizard_region_us_east_1") == ["chem-dev", "chem-prod", "gen-1"]
    assert "not-ours" not in inventory.hosts and "chem-old" not in inventory.hosts

    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["wizard_instance_id"] == chem_dev
    assert hostvars["wizard_domain"] == "chemistry"
    assert hostvars["wizard_deployment"] == "chem-dev"
    assert hostvars["wizard_owner"] == "alice"
    assert hostvars["wizard_size"] == "small"
    assert hostvars["wizard_spack_root"] == "/opt/spack"
    assert hostvars["wizard_cache_url"] == "s3://cache/buildcache"
    assert hostvars["wizard_region"] == "us-east-1"
    assert hostvars["wizard_state"] == "running"
    assert hostvars["wizard_instance_type"] == "c7i.large"
    assert hostvars["wizard_imdsv2_required"] is True
    assert hostvars["wizard_tags"]["Name"] == "chem-dev"
    assert hostvars["ansible_host"] == hostvars["wizard_public_ip"]
    # Prefixed names only: nothing that collides with Ansible's own (tags, name, ...).
    own = {k for k in hostvars if k not in ("inventory_file", "inventory_dir")}
    assert all(k.startswith("wizard_") or k == "ansible_host" for k in own), own
    # Remote data is never templated: a tag value that looks like a template stays text.
    trap = inventory.get_host("gen-1").vars
    assert trap["wizard_tags"]["Note"] == "{{ 6 * 7 }}"
    templar = Templar(loader=DataLoader(), variables=trap)
    assert templar.template(trusted("{{ wizard_tags.Note }}")) == "{{ 6 * 7 }}"
    assert templar.template(trusted("{{ wizard_domain }}")) == "genomics"


def test_constructed_options(aws, tmp_path):
    launch("us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    launch("us-east-1", wizard_tags("genomics", "gen-1", size="large", name="gen-1"))
    inventory = run_inventory(tmp_path, {
        "regions": ["us-east-1"],
        "group_prefix": "",
        "compose": {"ansible_user": "wizard_ssh_user", "spack_bin": "wizard_spack_root ~ '/bin/spack'"},
        "groups": {"big": "wizard_size == 'large'"},
        "keyed_groups": [{"key": "wizard_owner", "prefix": "owner"}],
    })
    assert hosts_of(inventory, "domain_chemistry") == ["chem-dev"]
    assert hosts_of(inventory, "big") == ["gen-1"]
    assert hosts_of(inventory, "owner_alice") == ["chem-dev", "gen-1"]
    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["ansible_user"] == "ec2-user"
    assert hostvars["spack_bin"] == "/opt/spack/bin/spack"


def test_strict_reports_bad_compose(aws, tmp_path):
    launch("us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    config = {"regions": ["us-east-1"], "compose": {"x": "wizard_no_such_var.attr"}}
    inventory = run_inventory(tmp_path, dict(config, strict=False))
    assert "x" not in inventory.get_host("chem-dev").vars
    with pytest.raises(AnsibleError):
        run_inventory(tmp_path, dict(config, strict=True))


def test_regions_domains_and_hostname_fallback(aws, tmp_path):
    first = launch("us-east-1", wizard_tags("chemistry", "a", name="same"))
    second = launch("eu-west-1", wizard_tags("chemistry", "b", name="same"))
    launch("eu-west-1", wizard_tags("genomics", "c", name="other"))

    inventory = run_inventory(tmp_path, {"regions": ["us-east-1", "eu-west-1"], "domains": ["chemistry"]})
    # Both regions searched; the duplicate Name falls back to the instance id.
    assert hosts_of(inventory, "wizard_domain_chemistry") == sorted(["same", second])
    assert inventory.get_host("same").vars["wizard_instance_id"] == first
    assert hosts_of(inventory, "wizard_region_eu_west_1") == [second]
    assert "wizard_domain_genomics" not in inventory.groups

    by_id = run_inventory(tmp_path, {"regions": ["eu-west-1"], "hostnames": ["private-ip-address"]})
    assert all(h.startswith("10.") or h.startswith("172.") for h in by_id.hosts)


def test_api_filters_sent(tmp_path, monkeypatch):
    """The exact DescribeInstances filters: wizard tag, states, domains, deployments, extra filters."""
    client = boto3.client("ec2", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("describe_instances", {"Reservations": []}, {"Filters": [
        {"Name": "tag-key", "Values": ["research-wizard:deployment"]},
        {"Name": "instance-state-name", "Values": ["running"]},
        {"Name": "tag:research-wizard:domain", "Values": ["chemistry"]},
        {"Name": "tag:research-wizard:deployment", "Values": ["chem-dev"]},
        {"Name": "instance-type", "Values": ["c7i.large", "c7i.xlarge"]},
        {"Name": "tag:research-wizard:owner", "Values": ["alice"]},
    ]})
    monkeypatch.setattr(ec2_inventory.InventoryModule, "_client", lambda self, region: client)
    with stubber:
        inventory = run_inventory(tmp_path, {
            "regions": ["us-east-1"], "states": ["running"], "domains": ["chemistry"], "deployments": ["chem-dev"],
            "filters": {"tag:research-wizard:owner": "alice", "instance-type": ["c7i.large", "c7i.xlarge"]},
        })
        stubber.assert_no_pending_responses()
    assert inventory.groups["wizard_instances"].get_hosts() == []


def test_cache_holds_the_raw_answer(aws, tmp_path, monkeypatch):
    launch("us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    cache_dir = tmp_path / "cache"
    config = {"regions": ["us-east-1"], "cache": True, "cache_plugin": "jsonfile",
              "cache_connection": str(cache_dir), "cache_timeout": 3600}

    # cache=False is a refresh: ask AWS and write the cache.
    inventory = run_inventory(tmp_path, config, cache=False)
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev"]
    files = list(cache_dir.iterdir())
    assert len(files) == 1
    cached = json.loads(files[0].read_text())
    if "__payload__" in cached:  # ansible-core >= 2.19 wraps the stored value
        cached = json.loads(cached["__payload__"])
    # The raw EC2 answer per region, not host variables or groups.
    [instance] = cached["us-east-1"]
    assert "InstanceId" in instance and "Tags" in instance
    assert not any(k.startswith("wizard_") for k in instance)

    # From the cache: no API call at all, and compose applied to the cached answer.
    def no_api(self, region):
        raise AssertionError("the API was called although the cache is fresh")
    monkeypatch.setattr(ec2_inventory.InventoryModule, "_describe", no_api)
    inventory = run_inventory(tmp_path, dict(config, compose={"from_cache": "wizard_deployment"}), cache=True)
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev"]
    assert inventory.get_host("chem-dev").vars["from_cache"] == "chem-dev"


def test_missing_credentials_error(tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AnsibleError, match="no usable AWS credentials.*AWS_PROFILE"):
        run_inventory(tmp_path, {"regions": ["us-east-1"]})


def test_unknown_profile_and_no_region(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(AnsibleError, match="aws_profile"):
        run_inventory(tmp_path, {"regions": ["us-east-1"], "aws_profile": "nope"})
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(AnsibleError, match="no region to search"):
        run_inventory(tmp_path, {})


def test_verify_file_wants_ec2_yml(tmp_path):
    plugin = ec2_inventory.InventoryModule()
    good, bad = tmp_path / "wizard.ec2.yml", tmp_path / "hosts.yml"
    good.write_text("plugin: research.wizard.ec2\n")
    bad.write_text("plugin: research.wizard.ec2\n")
    assert plugin.verify_file(str(good))
    assert not plugin.verify_file(str(bad))
