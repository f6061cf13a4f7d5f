# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""research.wizard.ec2 inventory: grouping, host variables, filters, caching, errors; and the plain
amazon.aws.aws_ec2 configuration inventories/aws/wizard.aws_ec2.yml giving the same groups and variables.

EC2 is a moto server on 127.0.0.1 (emptied before each test) or a botocore Stubber; the filter and error
cases are data (test_ec2.yaml).
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import importlib
import json
import os
import urllib.request

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

from ansible_collections.amazon.aws.plugins.inventory import aws_ec2
from ansible_collections.research.wizard.plugins.inventory import ec2 as ec2_inventory

from helpers.moto import moto_server

NAME = "research.wizard.ec2"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
PLAIN_CONFIG = os.path.join(ROOT, "inventories", "aws", "wizard.aws_ec2.yml")
with open(os.path.join(HERE, "test_ec2.yaml")) as _f:
    CASES = yaml.safe_load(_f)


def _ids(cases):
    return [case["id"] for case in cases]


class Fragments(object):
    """fragment_loader, with amazon.aws's fragments imported directly (unit tests run without Ansible's
    collection loader)."""

    def get(self, name):
        parts = name.split(".")
        if parts[:2] != ["amazon", "aws"]:
            return fragment_loader.get(name)
        if len(parts) != 3:
            return None  # add_fragments then asks again without the variable's name (common.plugins)
        fragment = importlib.import_module("ansible_collections.amazon.aws.plugins.doc_fragments." + parts[2])
        fragment = fragment.ModuleDocFragment()
        fragment.ansible_name = name
        return fragment


@pytest.fixture(scope="module", autouse=True)
def plugin_options():
    """Register both plugins' options (with their doc fragments) the way the plugin loader does."""
    for name, module in ((NAME, ec2_inventory), ("amazon.aws.aws_ec2", aws_ec2)):
        doc = yaml.safe_load(module.DOCUMENTATION)
        add_fragments(doc, module.__file__, fragment_loader=Fragments())
        C.config.initialize_plugin_configuration_definitions("inventory", name, doc["options"])


@pytest.fixture(scope="module")
def server():
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_URL",
                "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(server):
    """An empty EC2 on the module's moto server; yields its endpoint."""
    urllib.request.urlopen(urllib.request.Request(server + "/moto-api/reset", method="POST"), timeout=10)
    return server


def run_inventory(tmp_path, config, cache=True, name="wizard.ec2.yml", plugin_name=NAME, module=ec2_inventory):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": plugin_name}, **config)))
    plugin = module.InventoryModule()
    plugin._load_name = plugin_name
    plugin._redirected_names = [plugin_name]
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    if getattr(plugin, "_cache", None):
        plugin.update_cache_if_changed()  # as InventoryManager does after parse()
    return inventory


def launch(endpoint, region, tags, state="running", instance_type="c7i.large"):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
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


def launch_mix(endpoint):
    """Three wizard instances (two domains, a stopped one, a tag that looks like a template), one
    instance that is not the wizard's and a terminated one."""
    ids = {"chem-dev": launch(endpoint, "us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))}
    launch(endpoint, "us-east-1", wizard_tags("chemistry", "chem-prod", size="large", name="chem-prod"),
           state="stopped", instance_type="r7g.xlarge")
    launch(endpoint, "us-east-1", wizard_tags("genomics", "gen-1", name="gen-1", Note="{{ 6 * 7 }}"))
    launch(endpoint, "us-east-1", {"Name": "not-ours"})
    launch(endpoint, "us-east-1", wizard_tags("chemistry", "chem-old", name="chem-old"), state="terminated")
    return ids


def hosts_of(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def groups_of(inventory):
    return dict((name, hosts_of(inventory, name)) for name in inventory.groups if name not in ("all", "ungrouped"))


def test_groups_and_host_variables(aws, tmp_path):
    ids = launch_mix(aws)

    inventory = run_inventory(tmp_path, {"regions": ["us-east-1"], "endpoint_url": aws})

    assert groups_of(inventory) == {
        "wizard_instances": ["chem-dev", "chem-prod", "gen-1"],
        "wizard_domain_chemistry": ["chem-dev", "chem-prod"],
        "wizard_domain_genomics": ["gen-1"],
        "wizard_deployment_chem_dev": ["chem-dev"],
        "wizard_deployment_chem_prod": ["chem-prod"],
        "wizard_deployment_gen_1": ["gen-1"],
        "wizard_size_large": ["chem-prod"],
        "wizard_size_small": ["chem-dev", "gen-1"],
        "wizard_type_c7i_large": ["chem-dev", "gen-1"],
        "wizard_type_r7g_xlarge": ["chem-prod"],
        "wizard_state_stopped": ["chem-prod"],
        "wizard_state_running": ["chem-dev", "gen-1"],
        "wizard_region_us_east_1": ["chem-dev", "chem-prod", "gen-1"],
    }
    assert "not-ours" not in inventory.hosts and "chem-old" not in inventory.hosts

    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["wizard_instance_id"] == ids["chem-dev"]
    assert hostvars["wizard_domain"] == "chemistry"
    assert hostvars["wizard_deployment"] == "chem-dev"
    assert hostvars["wizard_owner"] == "alice"
    assert hostvars["wizard_size"] == "small"
    assert hostvars["wizard_spack_root"] == "/opt/spack"
    assert hostvars["wizard_cache_url"] == "s3://cache/buildcache"
    assert hostvars["wizard_ssh_user"] == "ec2-user"
    assert hostvars["wizard_region"] == "us-east-1"
    assert hostvars["wizard_availability_zone"].startswith("us-east-1")
    assert hostvars["wizard_state"] == "running"
    assert hostvars["wizard_instance_type"] == "c7i.large"
    assert hostvars["wizard_image_id"] == "ami-12c6146b"
    assert hostvars["wizard_imdsv2_required"] is True
    assert hostvars["wizard_spot"] is False
    assert isinstance(hostvars["wizard_launch_time"], str) and "T" in hostvars["wizard_launch_time"]
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


def test_the_plain_aws_ec2_config_is_equivalent(aws, tmp_path):
    """inventories/aws/wizard.aws_ec2.yml (AWX's source) gives the plugin's groups and wizard_* variables;
    aws_ec2 adds its own group and raw variables besides."""
    launch_mix(aws)
    ours = run_inventory(tmp_path, {"regions": ["us-east-1"], "endpoint_url": aws})
    with open(PLAIN_CONFIG) as f:
        config = yaml.safe_load(f)
    assert config.pop("plugin") == "amazon.aws.aws_ec2"
    plain = run_inventory(tmp_path, dict(config, endpoint_url=aws), name="wizard.aws_ec2.yml",
                          plugin_name="amazon.aws.aws_ec2", module=aws_ec2)

    plain_groups = groups_of(plain)
    assert plain_groups.pop("aws_ec2") == hosts_of(ours, "wizard_instances")
    assert plain_groups == groups_of(ours)
    for host in ours.hosts:
        theirs = plain.get_host(host).vars
        assert dict((k, v) for k, v in theirs.items() if k in ours.get_host(host).vars) == ours.get_host(host).vars


def test_constructed_options(aws, tmp_path):
    launch(aws, "us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    launch(aws, "us-east-1", wizard_tags("genomics", "gen-1", size="large", name="gen-1"))
    inventory = run_inventory(tmp_path, {
        "regions": ["us-east-1"],
        "endpoint_url": aws,
        "group_prefix": "",
        "compose": {"ansible_user": "wizard_ssh_user", "spack_bin": "wizard_spack_root ~ '/bin/spack'"},
        "groups": {"big": "wizard_size == 'large'"},
        "keyed_groups": [{"key": "wizard_owner", "prefix": "owner"}],
    })
    assert hosts_of(inventory, "instances") == ["chem-dev", "gen-1"]
    assert hosts_of(inventory, "domain_chemistry") == ["chem-dev"]
    assert "wizard_instances" not in inventory.groups and "wizard_domain_chemistry" not in inventory.groups
    assert hosts_of(inventory, "big") == ["gen-1"]
    assert hosts_of(inventory, "owner_alice") == ["chem-dev", "gen-1"]
    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["ansible_user"] == "ec2-user"
    assert hostvars["spack_bin"] == "/opt/spack/bin/spack"


def test_endpoint_url_from_the_environment(aws, tmp_path, monkeypatch):
    launch(aws, "us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    monkeypatch.setenv("AWS_URL", aws)
    inventory = run_inventory(tmp_path, {"regions": ["us-east-1"], "ansible_host": ["private-ip-address"]})
    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["ansible_host"] == hostvars["wizard_private_ip"] != hostvars["wizard_public_ip"]
    assert "ansible_host" not in run_inventory(tmp_path, {"regions": ["us-east-1"], "ansible_host": []}).get_host(
        "chem-dev").vars


def test_strict_reports_bad_compose(aws, tmp_path):
    launch(aws, "us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    config = {"regions": ["us-east-1"], "endpoint_url": aws, "compose": {"x": "wizard_no_such_var.attr"}}
    inventory = run_inventory(tmp_path, dict(config, strict=False))
    assert "x" not in inventory.get_host("chem-dev").vars
    with pytest.raises(AnsibleError):
        run_inventory(tmp_path, dict(config, strict=True))


def test_strict_keeps_the_wizard_groups_of_untagged_sizes(aws, tmp_path):
    """An instance without a size tag is in no size group, also with strict (the wizard's groups are not
    the user's keyed_groups)."""
    tags = wizard_tags("chemistry", "chem-dev", name="chem-dev")
    del tags["research-wizard:size"]
    launch(aws, "us-east-1", tags)
    inventory = run_inventory(tmp_path, {"regions": ["us-east-1"], "endpoint_url": aws, "strict": True})
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev"]
    assert not [g for g in inventory.groups if g.startswith("wizard_size")]
    assert inventory.get_host("chem-dev").vars["wizard_size"] is None


def test_regions_domains_and_hostname_fallback(aws, tmp_path):
    first = launch(aws, "us-east-1", wizard_tags("chemistry", "a", name="same"))
    second = launch(aws, "eu-west-1", wizard_tags("chemistry", "b", name="same"))
    launch(aws, "eu-west-1", wizard_tags("genomics", "c", name="other"))

    inventory = run_inventory(tmp_path, {"regions": ["us-east-1", "eu-west-1"], "endpoint_url": aws,
                                         "domains": ["chemistry"]})
    # Both regions searched; the duplicate Name falls back to the instance id.
    assert hosts_of(inventory, "wizard_domain_chemistry") == sorted(["same", second])
    assert inventory.get_host("same").vars["wizard_instance_id"] == first
    assert hosts_of(inventory, "wizard_region_eu_west_1") == [second]
    assert "wizard_domain_genomics" not in inventory.groups

    by_ip = run_inventory(tmp_path, {"regions": ["eu-west-1"], "endpoint_url": aws,
                                     "hostnames": ["private-ip-address"]})
    assert sorted(by_ip.hosts) == sorted(h.vars["wizard_private_ip"] for h in by_ip.hosts.values())
    assert all(h.startswith("10.") or h.startswith("172.") for h in by_ip.hosts)

    # This plugin's public-ip-address is aws_ec2's ip-address; aws_ec2's mapping form works as there.
    by_public = run_inventory(tmp_path, {"regions": ["us-east-1"], "endpoint_url": aws,
                                         "hostnames": ["public-ip-address"]})
    assert list(by_public.hosts) == [by_public.get_host(h).vars["wizard_public_ip"] for h in by_public.hosts]
    mapped = run_inventory(tmp_path, {"regions": ["us-east-1"], "endpoint_url": aws,
                                      "hostnames": [{"name": "tag:Name", "prefix": "tag:research-wizard:domain",
                                                     "separator": "-"}]})
    assert list(mapped.hosts) == ["chemistry-same"]


@pytest.mark.parametrize("case", CASES["filters"], ids=_ids(CASES["filters"]))
def test_api_filters_sent(case, tmp_path, monkeypatch):
    """The exact DescribeInstances filters of each call."""
    client = boto3.client("ec2", region_name="us-east-1")
    stubber = Stubber(client)
    for filters in case["calls"]:
        stubber.add_response("describe_instances", {"Reservations": []}, {"Filters": filters})
    monkeypatch.setattr(ec2_inventory.InventoryModule, "client", lambda self, *args, **kwargs: client)
    with stubber:
        inventory = run_inventory(tmp_path, dict({"regions": ["us-east-1"]}, **case["options"]))
        stubber.assert_no_pending_responses()
    assert inventory.groups["wizard_instances"].get_hosts() == []


def test_cache_holds_the_raw_answer(aws, tmp_path, monkeypatch):
    launch(aws, "us-east-1", wizard_tags("chemistry", "chem-dev", name="chem-dev"))
    cache_dir = tmp_path / "cache"
    config = {"regions": ["us-east-1"], "endpoint_url": aws, "cache": True, "cache_plugin": "jsonfile",
              "cache_connection": str(cache_dir), "cache_timeout": 3600}

    # cache=False is a refresh: ask AWS and write the cache.
    inventory = run_inventory(tmp_path, config, cache=False)
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev"]
    files = list(cache_dir.iterdir())
    assert len(files) == 1
    cached = json.loads(files[0].read_text())
    if "__payload__" in cached:  # ansible-core >= 2.19 wraps the stored value
        cached = json.loads(cached["__payload__"])
    # The raw EC2 answer, not host variables or groups.
    [instance] = [i for found in cached.values() for i in found]
    assert "InstanceId" in instance and "Tags" in instance
    assert not any(k.startswith("wizard_") for k in instance)

    # From the cache: no API call at all, and compose applied to the cached answer.
    def no_api(self, *args):
        raise AssertionError("the API was called although the cache is fresh")
    monkeypatch.setattr(ec2_inventory.InventoryModule, "_get_instances_by_region", no_api)
    inventory = run_inventory(tmp_path, dict(config, compose={"from_cache": "wizard_deployment"}), cache=True)
    assert hosts_of(inventory, "wizard_domain_chemistry") == ["chem-dev"]
    hostvars = inventory.get_host("chem-dev").vars
    assert hostvars["from_cache"] == "chem-dev"
    assert isinstance(hostvars["wizard_launch_time"], str) and "T" in hostvars["wizard_launch_time"]

    # A cache written by earlier releases (the answer by region, launch times as text) still reads.
    files[0].write_text(files[0].read_text().replace('"aws_ec2"', '"us-east-1"'))
    assert hosts_of(run_inventory(tmp_path, config, cache=True), "wizard_domain_chemistry") == ["chem-dev"]


@pytest.mark.parametrize("case", CASES["errors"], ids=_ids(CASES["errors"]))
def test_errors(case, tmp_path, monkeypatch):
    for var in case.get("unset", []):
        monkeypatch.delenv(var, raising=False)
    for var, value in case.get("set", {}).items():
        monkeypatch.setenv(var, str(tmp_path / value))
    if case.get("client_error"):
        client = boto3.client("ec2", region_name="us-east-1")
        stubber = Stubber(client)
        stubber.add_client_error("describe_instances", service_error_code=case["client_error"])
        stubber.activate()
        monkeypatch.setattr(ec2_inventory.InventoryModule, "client", lambda self, *args, **kwargs: client)
    with pytest.raises(AnsibleError, match=case["error"]):
        run_inventory(tmp_path, case["options"])


def test_verify_file_wants_ec2_yml(tmp_path):
    plugin = ec2_inventory.InventoryModule()
    good, bad = tmp_path / "wizard.ec2.yml", tmp_path / "hosts.yml"
    good.write_text("plugin: research.wizard.ec2\n")
    bad.write_text("plugin: research.wizard.ec2\n")
    assert plugin.verify_file(str(good))
    assert not plugin.verify_file(str(bad))


def test_it_is_amazon_aws_inventory_plugin():
    """Sessions, credentials, regions and caching are amazon.aws's, not this collection's."""
    assert issubclass(ec2_inventory.InventoryModule, aws_ec2.InventoryModule)
    doc = yaml.safe_load(ec2_inventory.DOCUMENTATION)
    assert {"amazon.aws.common.plugins", "amazon.aws.region.plugins",
            "amazon.aws.assume_role.plugins"} <= set(doc["extends_documentation_fragment"])
