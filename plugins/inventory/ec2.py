# -*- coding: utf-8 -*-
# Copyright (c) research.wizard developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ec2
short_description: EC2 instances of research.wizard deployments
version_added: 0.1.0
description:
  - Lists the EC2 instances that carry the research.wizard tags (C(research-wizard:deployment),
    C(research-wizard:domain), C(research-wizard:owner), C(research-wizard:size)) in the configured regions.
  - Groups them by domain, deployment, size, instance type, state and region, for example
    C(wizard_domain_chemistry), C(wizard_deployment_chem_dev), C(wizard_size_small), C(wizard_type_c7i_large),
    C(wizard_state_running); every host is also in C(wizard_instances) (with the default O(group_prefix)).
  - Host variables are prefixed with C(wizard_) (V(wizard_domain), V(wizard_deployment), V(wizard_spack_root),
    V(wizard_cache_url), V(wizard_instance_id), ...) and marked unsafe, so a tag value is never templated.
  - The raw EC2 answer is cached (O(cache)), never the built inventory, so changing O(compose), O(groups)
    or O(keyed_groups) takes effect without a refresh.
  - The config file name must end in C(ec2.yml) or C(ec2.yaml), for example C(wizard.ec2.yml).
author:
  - research.wizard developers (@research-wizard)
requirements:
  - boto3
  - botocore
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a config of this plugin.
    type: str
    required: true
    choices: [research.wizard.ec2]
  regions:
    description:
      - Regions to search. Keep this short; every region is one or more API calls.
      - When empty, the region of the AWS configuration (C(AWS_REGION), C(AWS_DEFAULT_REGION) or the profile) is used.
    type: list
    elements: str
    default: []
  endpoint_url:
    description:
      - URL of an EC2-compatible endpoint instead of AWS, for example an emulator such as moto.
    type: str
    env:
      - name: AWS_ENDPOINT_URL_EC2
      - name: AWS_ENDPOINT_URL
      - name: AWS_URL
    aliases: [aws_endpoint_url]
  aws_profile:
    description: Named AWS profile to use.
    type: str
    env:
      - name: AWS_PROFILE
    aliases: [profile]
  aws_access_key:
    description: AWS access key ID; by default boto3 finds credentials itself (environment, profile, instance role).
    type: str
    env:
      - name: AWS_ACCESS_KEY_ID
    aliases: [access_key]
  aws_secret_key:
    description: AWS secret access key.
    type: str
    env:
      - name: AWS_SECRET_ACCESS_KEY
    aliases: [secret_key]
  aws_session_token:
    description: AWS session token for temporary credentials.
    type: str
    env:
      - name: AWS_SESSION_TOKEN
    aliases: [session_token]
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
  filters:
    description:
      - More EC2 DescribeInstances filters, as a mapping of filter name to a value or a list of values,
        for example C(tag:research-wizard:owner) or C(instance-type).
      - They are added to the filter that selects research.wizard instances; they cannot widen it.
    type: dict
    default: {}
  states:
    description: Instance states to include (terminated instances are excluded by default).
    type: list
    elements: str
    default: [pending, running, stopping, stopped]
  hostnames:
    description:
      - Order of preference for the inventory host name. The first that gives a value not already used by
        another instance wins; the instance id is the last resort.
      - Choices are C(tag:<name>) (a tag value, for example C(tag:Name)), C(instance-id), C(public-dns-name),
        C(public-ip-address), C(private-dns-name) and C(private-ip-address).
    type: list
    elements: str
    default: ['tag:Name', 'instance-id']
  ansible_host:
    description:
      - Order of preference for C(ansible_host) (C(public-ip-address), C(public-dns-name), C(private-ip-address),
        C(private-dns-name)). An empty list leaves C(ansible_host) unset.
    type: list
    elements: str
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
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

try:
    import boto3
    import botocore.exceptions
    HAS_BOTO3 = True
except ImportError:  # pragma: no cover - reported in verify_file/parse
    HAS_BOTO3 = False

TAG_PREFIX = "research-wizard:"
DEPLOYMENT_TAG = TAG_PREFIX + "deployment"

# host variable name -> tag key (without the prefix)
TAG_VARS = {
    "wizard_domain": "domain",
    "wizard_deployment": "deployment",
    "wizard_owner": "owner",
    "wizard_size": "size",
    "wizard_spack_root": "spack-root",
    "wizard_cache_url": "cache-url",
    "wizard_ssh_user": "ssh-user",
}

ADDRESS_FIELDS = {
    "instance-id": "InstanceId",
    "public-dns-name": "PublicDnsName",
    "public-ip-address": "PublicIpAddress",
    "private-dns-name": "PrivateDnsName",
    "private-ip-address": "PrivateIpAddress",
}

_UNSAFE_GROUP_CHARS = re.compile(r"[^A-Za-z0-9_]")


def _plain(value):
    """The API answer with datetimes as ISO strings, so any cache plugin can store it."""
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _group_part(value):
    return _UNSAFE_GROUP_CHARS.sub("_", str(value)).lower()


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "research.wizard.ec2"

    def verify_file(self, path):
        if super(InventoryModule, self).verify_file(path):
            return path.endswith(("ec2.yml", "ec2.yaml"))
        return False

    # --- talking to AWS -------------------------------------------------------------------------

    def _session(self, region):
        kwargs = {"region_name": region}
        if self.get_option("aws_profile"):
            kwargs["profile_name"] = self.get_option("aws_profile")
        if self.get_option("aws_access_key") or self.get_option("aws_secret_key"):
            kwargs["aws_access_key_id"] = self.get_option("aws_access_key")
            kwargs["aws_secret_access_key"] = self.get_option("aws_secret_key")
            kwargs["aws_session_token"] = self.get_option("aws_session_token")
        return boto3.session.Session(**kwargs)

    def _client(self, region):
        try:
            session = self._session(region)
        except botocore.exceptions.ProfileNotFound as e:
            raise AnsibleError("research.wizard.ec2: %s; set aws_profile (or AWS_PROFILE) to a configured profile."
                               % to_native(e))
        return session.client("ec2", endpoint_url=self.get_option("endpoint_url") or None)

    def _regions(self):
        regions = list(self.get_option("regions") or [])
        if not regions:
            try:
                region = self._session(None).region_name
            except botocore.exceptions.ProfileNotFound as e:
                raise AnsibleError("research.wizard.ec2: %s" % to_native(e))
            if not region:
                raise AnsibleError("research.wizard.ec2: no region to search; set 'regions' in the inventory config "
                                   "or AWS_REGION / AWS_DEFAULT_REGION.")
            regions = [region]
        return regions

    def _api_filters(self):
        filters = [
            {"Name": "tag-key", "Values": [DEPLOYMENT_TAG]},
            {"Name": "instance-state-name", "Values": list(self.get_option("states"))},
        ]
        if self.get_option("domains"):
            filters.append({"Name": "tag:" + TAG_PREFIX + "domain", "Values": list(self.get_option("domains"))})
        if self.get_option("deployments"):
            filters.append({"Name": "tag:" + DEPLOYMENT_TAG, "Values": list(self.get_option("deployments"))})
        for name, values in sorted((self.get_option("filters") or {}).items()):
            if not isinstance(values, list):
                values = [values]
            filters.append({"Name": name, "Values": [to_native(v) for v in values]})
        return filters

    def _describe(self, region):
        client = self._client(region)
        instances = []
        try:
            paginator = client.get_paginator("describe_instances")
            for page in paginator.paginate(Filters=self._api_filters()):
                for reservation in page.get("Reservations", []):
                    instances.extend(reservation.get("Instances", []))
        except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError) as e:
            raise AnsibleError(
                "research.wizard.ec2: no usable AWS credentials (%s). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or aws_profile / aws_access_key / aws_secret_key in the inventory config, "
                "or run on a host with an instance profile." % to_native(e))
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId", "ExpiredToken",
                        "RequestExpired", "SignatureDoesNotMatch"):
                raise AnsibleError("research.wizard.ec2: AWS refused the credentials in %s (%s): %s"
                                   % (region, code, to_native(e)))
            raise AnsibleError("research.wizard.ec2: DescribeInstances failed in %s: %s" % (region, to_native(e)))
        except botocore.exceptions.BotoCoreError as e:
            raise AnsibleError("research.wizard.ec2: DescribeInstances failed in %s: %s" % (region, to_native(e)))
        return instances

    def _query(self):
        """The raw answer: {region: [instance, ...]} with datetimes as strings."""
        return dict((region, _plain(self._describe(region))) for region in self._regions())

    # --- building the inventory -----------------------------------------------------------------

    def _hostname(self, instance, tags, used):
        for pref in self.get_option("hostnames"):
            if pref.startswith("tag:"):
                value = tags.get(pref[4:])
            elif pref in ADDRESS_FIELDS:
                value = instance.get(ADDRESS_FIELDS[pref])
            else:
                raise AnsibleError("research.wizard.ec2: unknown hostnames entry %r; use tag:<name> or one of %s"
                                   % (pref, ", ".join(sorted(ADDRESS_FIELDS))))
            if value and value not in used:
                return value
        return instance["InstanceId"]

    def _host_vars(self, region, instance, tags):
        hostvars = {
            "wizard_instance_id": instance.get("InstanceId"),
            "wizard_instance_type": instance.get("InstanceType"),
            "wizard_state": instance.get("State", {}).get("Name"),
            "wizard_region": region,
            "wizard_availability_zone": instance.get("Placement", {}).get("AvailabilityZone"),
            "wizard_image_id": instance.get("ImageId"),
            "wizard_architecture": instance.get("Architecture"),
            "wizard_launch_time": instance.get("LaunchTime"),
            "wizard_public_ip": instance.get("PublicIpAddress"),
            "wizard_public_dns": instance.get("PublicDnsName") or None,
            "wizard_private_ip": instance.get("PrivateIpAddress"),
            "wizard_private_dns": instance.get("PrivateDnsName") or None,
            "wizard_key_name": instance.get("KeyName"),
            "wizard_spot": instance.get("InstanceLifecycle") == "spot",
            "wizard_imdsv2_required": instance.get("MetadataOptions", {}).get("HttpTokens") == "required",
            "wizard_tags": tags,
        }
        for var, key in TAG_VARS.items():
            hostvars[var] = tags.get(TAG_PREFIX + key)
        for pref in self.get_option("ansible_host"):
            value = instance.get(ADDRESS_FIELDS.get(pref, ""))
            if value:
                hostvars["ansible_host"] = value
                break
        return hostvars

    def _populate(self, results):
        prefix = self.get_option("group_prefix")
        strict = self.get_option("strict")
        everyone = self.inventory.add_group(prefix + "instances")
        used = set()
        for region in results:  # in the order of the regions option (also kept in the cache)
            for instance in sorted(results[region], key=lambda i: (i.get("LaunchTime") or "", i.get("InstanceId"))):
                tags = dict((t.get("Key"), t.get("Value")) for t in instance.get("Tags") or [])
                hostname = self._hostname(instance, tags, used)
                used.add(hostname)
                hostvars = self._host_vars(region, instance, tags)

                host = self.inventory.add_host(hostname, group=everyone)
                for name, value in (
                    ("domain", hostvars["wizard_domain"]),
                    ("deployment", hostvars["wizard_deployment"]),
                    ("size", hostvars["wizard_size"]),
                    ("type", hostvars["wizard_instance_type"]),
                    ("state", hostvars["wizard_state"]),
                    ("region", region),
                ):
                    if value:
                        group = self.inventory.add_group(prefix + name + "_" + _group_part(value))
                        self.inventory.add_child(group, host)

                for var, value in hostvars.items():
                    self.inventory.set_variable(host, var, wrap_var(value))

                # Constructable: compose, groups and keyed_groups see the host's variables.
                self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        if not HAS_BOTO3:
            raise AnsibleError("research.wizard.ec2 needs boto3 and botocore on the controller (pip install boto3).")
        self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache

        results = None
        if use_cache:
            try:
                results = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if results is None:
            results = self._query()
        if update_cache:
            self._cache[cache_key] = results

        self._populate(results)
