#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file holds only the documentation: research.wizard.domain_pack_info is an action plugin
# (plugins/action/domain_pack_info.py) that runs entirely on the controller.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_pack_info
short_description: Load, validate and resolve a domain pack on the controller
version_added: 0.1.0
description:
  - Reads C(domains/<name>.yml) from the collection (or O(domains_dir)), validates it against
    C(domains/schema.json), checks every spec string with a Spack spec parser that needs no Spack, and
    returns the resolved pack with the site's O(overrides) applied and a size chosen.
  - Without O(name), validates every pack and returns the list of packs and the catalogue (name, title,
    package count, default instance type and price).
  - An unknown pack name fails with the list of available packs and the nearest name. A pack that does not
    match the schema fails with the file, the key path and what was expected, for every problem at once.
  - Runs on the controller only; nothing is sent to the target and nothing changes.
  - This module was called C(research.wizard.domain_pack) (the name of the role that runs it); that name
    still works, is deprecated, and will be removed.
options:
  name:
    description:
      - Name of the pack, the file name under O(domains_dir) without C(.yml), for example V(genomics).
      - Omit it to validate all packs and return RV(packs), RV(catalogue) and RV(table).
    type: str
  size:
    description:
      - Size to choose, one of the pack's sizes (V(small), V(medium), V(large), or one the pack or the
        overrides add).
      - Precedence is this option, then C(size) in O(overrides), then the pack's C(default_size).
    type: str
  overrides:
    description:
      - Site overrides, typically from inventory variables. Applied in the order of the keys below.
    type: dict
    default: {}
    suboptions:
      remove_specs:
        description:
          - Specs to drop, matched by package name (V(gatk), V(gatk@4) and V(gatk+x) all remove the C(gatk) entry).
          - A name that is not in the pack only produces a warning, so one list can serve several packs.
        type: list
        elements: str
      enable_optional:
        description: Package names from the pack's C(optional_specs) (licensed or manual downloads) to include.
        type: list
        elements: str
      add_specs:
        description:
          - Specs to add. A list goes to the group C(site); a mapping adds to the named groups.
          - An added spec whose package is already in the pack replaces that entry where it stands, so a site
            can change variants (V(gromacs+mpi+cuda cuda_arch=90)). Versions and compilers pinned here need no
            reason in the pack.
        type: raw
      sizes:
        description:
          - Mapping of size name to settings, deep-merged into the pack's sizes. A new size name must give every
            field (instance_type, vcpus, memory_gib, gpus, price_usd_hour, root_volume_gb, root_volume_type).
        type: dict
      size:
        description: Size to choose when O(size) is not given.
        type: str
      target:
        description: Replaces the pack's generic x86_64 micro-architecture target.
        type: str
      target_aarch64:
        description: Replaces the pack's aarch64 (Graviton) target.
        type: str
      unify:
        description: Replaces the pack's C(concretizer.unify).
        type: raw
  domains_dir:
    description:
      - Directory holding the packs and C(schema.json). Relative C(repos) and C(source_mirrors) of a pack are
        resolved against the parent of this directory.
      - Defaults to the C(domains/) directory of the collection.
    type: path
  fact_name:
    description: Also set the resolved pack as this host fact.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.facts
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The action never changes anything.
  diff_mode:
    support: none
  facts:
    support: full
    details: With O(fact_name) only.
  platform:
    platforms: all
notes:
  - Requires the Python libraries C(PyYAML) and C(jsonschema) on the controller.
  - Paths in RV(pack.repos) and RV(pack.source_mirrors) are controller paths.
seealso:
  - module: research.wizard.spack_env
  - name: Domain pack format
    description: domains/README.md in the collection.
    link: https://github.com/research-wizard/research.wizard/blob/main/domains/README.md
author:
  - research.wizard developers (@research-wizard)
'''

EXAMPLES = r'''
- name: Resolve the genomics pack with the site's overrides
  research.wizard.domain_pack_info:
    name: genomics
    size: large
    overrides:
      remove_specs: [gatk]
      add_specs:
        alignment: [bwa-mem2]
      sizes:
        large:
          root_volume_gb: 2000
  register: genomics

- name: Show what will be installed
  ansible.builtin.debug:
    msg: "{{ genomics.pack.specs }} on {{ genomics.pack.instance.instance_type }}"

- name: Resolve the pack chosen on the command line into a host fact
  research.wizard.domain_pack_info:
    name: "{{ domain }}"
    overrides: "{{ wizard_domain_overrides | default({}) }}"
    fact_name: wizard_pack

- name: Validate every pack and print the catalogue
  research.wizard.domain_pack_info:
  register: all_packs

- name: Catalogue
  ansible.builtin.debug:
    msg: "{{ all_packs.table }}"
'''

RETURN = r'''
pack:
  description: The resolved pack (only when O(name) is given).
  returned: success and O(name) given
  type: dict
  contains:
    name:
      description: Pack name.
      type: str
      sample: genomics
    file:
      description: Path of the pack file.
      type: str
    title:
      description: Human-readable title.
      type: str
    description:
      description: What the pack is for.
      type: str
    category:
      description: Broad category (life-sciences, chemistry, physics, ...).
      type: str
    tags:
      description: Keywords.
      type: list
      elements: str
    spec_groups:
      description: Specs grouped by purpose, after overrides.
      type: dict
    specs:
      description: All root specs, in group order, after overrides.
      type: list
      elements: str
      sample: [bwa, minimap2, samtools]
    packages:
      description: Sorted package names of all specs, including C(^) dependencies named in them.
      type: list
      elements: str
    package_count:
      description: Number of root specs.
      type: int
    pins:
      description: Spec to the reason it fixes a version or compiler.
      type: dict
    optional_specs:
      description: Specs left out by default, each with C(spec) and C(reason).
      type: list
      elements: dict
    concretizer:
      description: Concretizer settings, C(unify).
      type: dict
    unify:
      description: C(concretizer.unify) (V(true), V(false) or V(when_possible)).
      type: raw
    target:
      description: Generic x86_64 micro-architecture.
      type: str
      sample: x86_64_v3
    target_aarch64:
      description: Generic aarch64 micro-architecture, or null when the pack does not support Graviton.
      type: str
      sample: neoverse_v1
    spack_target:
      description: The target for the chosen size's architecture.
      type: str
    externals:
      description: Hints about packages a site usually takes from the system, each with C(package) and C(note).
      type: list
      elements: dict
    repos:
      description: Absolute paths of extra Spack package repositories.
      type: list
      elements: str
    source_mirrors:
      description: Absolute paths of Spack source mirrors.
      type: list
      elements: str
    sizes:
      description: All sizes after overrides.
      type: dict
    default_size:
      description: The pack's default size.
      type: str
    size:
      description: The chosen size.
      type: str
      sample: medium
    instance:
      description: Settings of the chosen size.
      type: dict
      contains:
        instance_type:
          description: EC2 instance type.
          type: str
          sample: r7i.8xlarge
        arch:
          description: V(x86_64) or V(aarch64).
          type: str
        vcpus:
          description: vCPUs.
          type: int
        memory_gib:
          description: Memory in GiB.
          type: float
        gpus:
          description: Number of GPUs.
          type: int
        price_usd_hour:
          description: On-demand Linux price in us-east-1 on RV(pack.pricing_date).
          type: float
        root_volume_gb:
          description: Root EBS volume size.
          type: int
        root_volume_type:
          description: Root EBS volume type.
          type: str
    pricing_date:
      description: Date the prices were read.
      type: str
    overrides_applied:
      description: Override keys that were given.
      type: list
      elements: str
    warnings:
      description: Non-fatal notes about the overrides (for example removing a spec the pack does not have).
      type: list
      elements: str
    spack_yaml:
      description: The C(spack.yaml) content for the pack (specs, unify, target requirement, repos, mirrors).
      type: dict
packs:
  description: Names of all packs (only without O(name)).
  returned: success and O(name) not given
  type: list
  elements: str
catalogue:
  description: One row per pack with name, title, category, package_count, default_size, instance_type, price_usd_hour, gpus and pricing_date.
  returned: success and O(name) not given
  type: list
  elements: dict
table:
  description: The catalogue as lines of a plain-text table.
  returned: success and O(name) not given
  type: list
  elements: str
available:
  description: Available pack names, when O(name) is unknown.
  returned: failure for an unknown pack
  type: list
  elements: str
nearest:
  description: The available name closest to O(name), or null.
  returned: failure for an unknown pack
  type: str
file:
  description: The pack file that failed validation.
  returned: failure for an invalid pack
  type: str
problems:
  description: Every validation problem, each with C(key) (path such as C(sizes.small.vcpus)) and C(message) (what was expected).
  returned: failure for an invalid pack
  type: list
  elements: dict
domains_dir:
  description: Directory the packs were read from.
  returned: always
  type: str
'''
