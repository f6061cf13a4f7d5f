# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ec2
short_description: EC2 instances of research.wizard deployments
version_added: 0.1.0
description:
  - P(amazon.aws.aws_ec2#inventory) with the wizard's defaults. Sessions, credentials, assume-role, regions, filters,
    hostnames, retries and caching are amazon.aws's; this plugin adds only what describes a research.wizard
    deployment.
  - Lists the EC2 instances that carry the research.wizard tags (C(research-wizard:deployment),
    C(research-wizard:domain), C(research-wizard:owner), C(research-wizard:size)) in the configured regions.
  - Groups them by domain, deployment, size, instance type, state and region, for example
    C(wizard_domain_chemistry), C(wizard_deployment_chem_dev), C(wizard_size_small), C(wizard_type_c7i_large),
    C(wizard_state_running); every host is also in C(wizard_instances) (with the default O(group_prefix)).
  - Host variables are only the C(wizard_) ones (V(wizard_domain), V(wizard_deployment), V(wizard_spack_root),
    V(wizard_cache_url), V(wizard_instance_id), ...) and C(ansible_host), marked unsafe, so a tag value is never
    templated and nothing collides with Ansible's own names. O(compose), O(groups) and O(keyed_groups) see them.
  - The raw EC2 answer is cached (O(cache)), never the built inventory, so changing O(compose), O(groups)
    or O(keyed_groups) takes effect without a refresh.
  - The config file name must end in C(ec2.yml) or C(ec2.yaml), for example C(wizard.ec2.yml).
  - A plain P(amazon.aws.aws_ec2#inventory) configuration that gives the same groups and C(wizard_) variables is
    C(inventories/aws/wizard.aws_ec2.yml) in the collection; AWX uses it as its native EC2 inventory source.
author:
  - research.wizard developers (@research-wizard)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: Marks the file as a config of this plugin.
    type: str
    required: true
    choices: [research.wizard.ec2]
  regions:
    description:
      - Regions to search. Keep this short; every region is one or more API calls.
      - When empty, the configured region (O(region), C(AWS_REGION), C(AWS_DEFAULT_REGION) or the profile's)
        is searched, not every region as with P(amazon.aws.aws_ec2#inventory).
    type: list
    elements: str
    default: []
  domains:
    description: Only instances of these domain packs (empty for all).
    type: list
    elements: str
    default: []
  deployments:
    description: Only instances of these deployments (empty for all).
    type: list
    elements: str
    default: []
  states:
    description: Instance states to include (terminated instances are excluded by default).
    type: list
    elements: str
    default: [pending, running, stopping, stopped]
  filters:
    description:
      - More EC2 DescribeInstances filters, as a mapping of filter name to a value or a list of values,
        for example C(tag:research-wizard:owner) or C(instance-type), as in P(amazon.aws.aws_ec2#inventory).
      - They are added to the filter that selects research.wizard instances; they cannot widen it.
    type: dict
    default: {}
  include_filters:
    description:
      - Alternatives to O(filters), as in P(amazon.aws.aws_ec2#inventory) (an instance matching any of them is listed),
        each within the research.wizard instances.
    type: list
    elements: dict
    default: []
  exclude_filters:
    description: Instances matching any of these filters are left out, as in P(amazon.aws.aws_ec2#inventory).
    type: list
    elements: dict
    default: []
  strict_permissions:
    description: When V(false), a region where DescribeInstances is not allowed is skipped instead of failing.
    type: bool
    default: true
  hostnames:
    description:
      - Order of preference for the inventory host name, in the syntax of P(amazon.aws.aws_ec2#inventory)'s O(hostnames)
        (C(tag:<name>), a DescribeInstances filter name such as C(instance-id), C(private-ip-address) or
        C(dns-name), or a mapping with C(name), C(prefix) and C(separator)). C(public-dns-name) and
        C(public-ip-address) stand for C(dns-name) and C(ip-address).
      - The first that gives a value not already used by another instance wins; the instance id is the last
        resort, so every instance is one host.
    type: list
    elements: raw
    default: ['tag:Name', 'instance-id']
  ansible_host:
    description:
      - Order of preference for C(ansible_host). An empty list leaves C(ansible_host) unset.
    type: list
    elements: str
    choices: [public-ip-address, public-dns-name, private-ip-address, private-dns-name]
    default: [public-ip-address, private-ip-address]
  group_prefix:
    description: Prefix of the groups this plugin creates (not of O(groups) or O(keyed_groups)).
    type: str
    default: wizard_
"""

EXAMPLES = r"""
# inventories/aws/wizard.ec2.yml
plugin: research.wizard.ec2
regions: [us-east-1, eu-west-1]
domains: [chemistry]
hostnames: ['tag:Name', 'instance-id']
compose:
  ansible_user: wizard_ssh_user
keyed_groups:
  - key: wizard_owner
    prefix: owner
groups:
  spot: wizard_spot
  stopped: wizard_state == 'stopped'
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/research-wizard/inventory
cache_timeout: 300

# Against an emulator (a second file, e.g. inventories/aws-local/wizard.ec2.yml):
# plugin: research.wizard.ec2
# regions: [us-east-1]
# endpoint_url: http://127.0.0.1:5000
"""

import datetime
import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.amazon.aws.plugins.inventory.aws_ec2 import InventoryModule as AwsEc2InventoryModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

try:
    import botocore.exceptions
except ImportError:  # pragma: no cover - amazon.aws reports a missing SDK in parse()
    pass

TAG_PREFIX = "research-wizard:"
DEPLOYMENT_TAG = TAG_PREFIX + "deployment"

# host variable -> tag key (without the prefix)
TAG_VARS = {
    "wizard_domain": "domain",
    "wizard_deployment": "deployment",
    "wizard_owner": "owner",
    "wizard_size": "size",
    "wizard_spack_root": "spack-root",
    "wizard_cache_url": "cache-url",
    "wizard_ssh_user": "ssh-user",
}

# host variable -> its place in a DescribeInstances instance
INSTANCE_VARS = {
    "wizard_instance_id": ("InstanceId",),
    "wizard_instance_type": ("InstanceType",),
    "wizard_state": ("State", "Name"),
    "wizard_availability_zone": ("Placement", "AvailabilityZone"),
    "wizard_image_id": ("ImageId",),
    "wizard_architecture": ("Architecture",),
    "wizard_public_ip": ("PublicIpAddress",),
    "wizard_private_ip": ("PrivateIpAddress",),
    "wizard_key_name": ("KeyName",),
}

# group (after the group prefix) -> the host variable it is keyed by
GROUP_VARS = (
    ("domain", "wizard_domain"),
    ("deployment", "wizard_deployment"),
    ("size", "wizard_size"),
    ("type", "wizard_instance_type"),
    ("state", "wizard_state"),
    ("region", "wizard_region"),
)

ANSIBLE_HOST_VARS = {
    "public-ip-address": "wizard_public_ip",
    "public-dns-name": "wizard_public_dns",
    "private-ip-address": "wizard_private_ip",
    "private-dns-name": "wizard_private_dns",
}

# This plugin's names for aws_ec2 hostnames that are DescribeInstances filter names there.
HOSTNAME_ALIASES = {"public-dns-name": "dns-name", "public-ip-address": "ip-address"}

# The region of an availability zone, Local and Wavelength Zones included (us-west-2-lax-1a is in us-west-2).
_REGION_OF_ZONE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+")
_UNSAFE_GROUP_CHARS = re.compile(r"[^A-Za-z0-9_]")


def _dig(instance, path):
    for key in path:
        instance = (instance or {}).get(key)
    return instance


def _iso(value):
    """A launch time as ISO text, whether it comes from boto3 (datetime) or from a JSON cache (text)."""
    return value.isoformat() if isinstance(value, (datetime.datetime, datetime.date)) else value


def group_part(value):
    return _UNSAFE_GROUP_CHARS.sub("_", to_text(value)).lower()


def _region(instance):
    zone = _dig(instance, ("Placement", "AvailabilityZone")) or ""
    region = _REGION_OF_ZONE.match(zone)
    return region.group(0) if region else zone[:-1] or None


def wizard_hostvars(instance):
    """The wizard_* variables of one DescribeInstances instance."""
    tags = dict((t.get("Key"), t.get("Value")) for t in instance.get("Tags") or [])
    hostvars = dict((var, _dig(instance, path)) for var, path in INSTANCE_VARS.items())
    hostvars.update((var, tags.get(TAG_PREFIX + key)) for var, key in TAG_VARS.items())
    hostvars.update({
        "wizard_region": _region(instance),
        "wizard_launch_time": _iso(instance.get("LaunchTime")),
        "wizard_public_dns": instance.get("PublicDnsName") or None,
        "wizard_private_dns": instance.get("PrivateDnsName") or None,
        "wizard_spot": instance.get("InstanceLifecycle") == "spot",
        "wizard_imdsv2_required": _dig(instance, ("MetadataOptions", "HttpTokens")) == "required",
        "wizard_tags": tags,
    })
    return hostvars


def _failure_hint(exception):
    """What to do about the failures met first; amazon.aws's messages say only what failed."""
    if isinstance(exception, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return ("no usable AWS credentials ({0}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or aws_profile / aws_access_key / aws_secret_key in the inventory config, or run on a host with an "
                "instance profile.")
    if isinstance(exception, botocore.exceptions.ProfileNotFound):
        return "{0}; set aws_profile (or AWS_PROFILE) to a configured profile."
    if isinstance(exception, botocore.exceptions.ClientError) and exception.response.get("Error", {}).get("Code") in (
            "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId", "ExpiredToken", "RequestExpired",
            "SignatureDoesNotMatch"):
        return "AWS refused the credentials: {0}"
    return "{0}"


class InventoryModule(AwsEc2InventoryModule):

    NAME = "research.wizard.ec2"
    INVENTORY_FILE_SUFFIXES = ("ec2.yml", "ec2.yaml")

    # aws_ec2 options this plugin does not offer, at the values its behaviour rests on: the host variables
    # are the wizard_* ones (no raw, prefixed, ec2_tag_ or SSM variables) and every instance is one host.
    FIXED_OPTIONS = {
        "allow_duplicated_hosts": False,
        "hostvars_prefix": None,
        "hostvars_suffix": None,
        "use_contrib_script_compatible_ec2_tag_keys": False,
        "use_contrib_script_compatible_sanitization": False,
        "use_ssm_inventory": False,
        "route53_enabled": False,
        "route53_hostnames": [],
        "route53_excluded_zones": [],
    }

    def get_option(self, option, hostvars=None):
        if option in self.FIXED_OPTIONS:
            return self.FIXED_OPTIONS[option]
        return super(InventoryModule, self).get_option(option, hostvars)

    def fail_aws(self, message, exception=None):
        detail = "%s: %s" % (message, to_native(exception)) if exception else to_native(message)
        raise AnsibleError("%s: %s" % (self.NAME, _failure_hint(exception).format(detail)))

    # --- what is asked of EC2 --------------------------------------------------------------------

    def _boto3_regions(self, service):
        # A deployment lives in one region; aws_ec2 would scan every region (seconds each) when none is set.
        regions = self.get_option("regions") or [region for region in [self.region] if region]
        if not regions:
            self.fail_aws("no region to search; set 'regions' in the inventory config or AWS_REGION / "
                          "AWS_DEFAULT_REGION.")
        return regions

    def _wizard_filters(self):
        wanted = {"tag-key": DEPLOYMENT_TAG, "instance-state-name": list(self.get_option("states"))}
        if self.get_option("domains"):
            wanted["tag:" + TAG_PREFIX + "domain"] = list(self.get_option("domains"))
        if self.get_option("deployments"):
            wanted["tag:" + DEPLOYMENT_TAG] = list(self.get_option("deployments"))
        return ansible_dict_to_boto3_filter_list(wanted)

    def _get_instances_by_region(self, regions, filters, strict_permissions):
        # Every query (each of include_filters and exclude_filters) stays within the wizard's instances.
        return super(InventoryModule, self)._get_instances_by_region(
            regions, self._wizard_filters() + sorted(filters, key=lambda f: f["Name"]), strict_permissions)

    # --- building the inventory -----------------------------------------------------------------

    def _populate(self, groups, hostnames, **kwargs):
        # One group of every cached instance, whatever the cache's grouping (aws_ec2's, or by region as
        # written by earlier releases of this plugin).
        instances = [instance for found in groups.values() for instance in found]
        hostnames = [HOSTNAME_ALIASES.get(name, name) if isinstance(name, str) else name for name in hostnames]
        super(InventoryModule, self)._populate(
            {self.get_option("group_prefix") + "instances": instances}, hostnames, **kwargs)

    def _unique_hostname(self, instance, hostnames, used):
        for preference in hostnames:
            name = self._get_preferred_hostname(instance, [preference])
            if name and name not in used:
                return to_text(name)
        return to_text(instance["InstanceId"])

    def iter_entry(self, hosts, hostnames, **kwargs):
        """(host name, wizard_* variables) of each instance, already in the wizard's groups."""
        prefix = self.get_option("group_prefix")
        # Region by region as configured, then oldest first: the first instance keeps a shared name.
        regions = dict((region, index) for index, region in enumerate(self.get_option("regions") or []))
        used = set()
        for instance in sorted(hosts, key=lambda i: (regions.get(_region(i), len(regions)),
                                                     to_text(_iso(i.get("LaunchTime")) or ""), i["InstanceId"])):
            name = self._unique_hostname(instance, hostnames, used)
            used.add(name)
            hostvars = wizard_hostvars(instance)
            for preference in self.get_option("ansible_host"):
                if hostvars[ANSIBLE_HOST_VARS[preference]]:
                    hostvars["ansible_host"] = hostvars[ANSIBLE_HOST_VARS[preference]]
                    break
            self.inventory.add_host(name, group=prefix + "instances")
            for group, var in GROUP_VARS:
                if hostvars[var]:
                    self.inventory.add_child(self.inventory.add_group(prefix + group + "_" + group_part(hostvars[var])),
                                             name)
            yield name, wrap_var(hostvars)
