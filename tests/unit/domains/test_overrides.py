# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Site overrides are applied in a fixed order with predictable results."""
import os

import pytest

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import DomainPackError, PackValidationError
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import resolve_pack, spack_yaml
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import load_pack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOMAINS = os.path.join(ROOT, "domains")


def resolve(overrides=None, size=None, name="genomics"):
    return resolve_pack(name, size=size, overrides=overrides, domains_dir=DOMAINS)


def test_no_overrides_is_the_pack_itself():
    pack = resolve()
    assert pack["specs"][:4] == ["bwa", "minimap2", "hisat2", "star"]
    assert pack["size"] == "medium" and pack["instance"]["instance_type"] == "r7i.8xlarge"
    assert pack["overrides_applied"] == [] and pack["warnings"] == []


def test_remove_by_package_name_ignores_variants_and_versions():
    for item in ("gatk", "gatk@4.5", "gatk+foo"):
        pack = resolve({"remove_specs": [item]})
        assert "gatk" not in pack["packages"]
        assert pack["package_count"] == 11


def test_removing_the_last_spec_of_a_group_drops_the_group():
    pack = resolve({"remove_specs": ["nextflow"]})
    assert "workflow" not in pack["spec_groups"]


def test_removing_an_absent_spec_warns_but_does_not_fail():
    pack = resolve({"remove_specs": ["gromacs"]})
    assert pack["warnings"] == ["remove_specs: 'gromacs' is not in pack 'genomics'; nothing removed"]
    assert pack["package_count"] == 12


def test_add_list_goes_to_group_site():
    pack = resolve({"add_specs": ["bowtie2", "py-pysam"]})
    assert pack["spec_groups"]["site"] == ["bowtie2", "py-pysam"]
    assert pack["specs"][-2:] == ["bowtie2", "py-pysam"]


def test_add_mapping_goes_to_named_groups():
    pack = resolve({"add_specs": {"alignment": ["bowtie2"], "reporting": "py-multiqc"}})
    assert pack["spec_groups"]["alignment"][-1] == "bowtie2"
    assert pack["spec_groups"]["reporting"] == ["py-multiqc"]


def test_add_replaces_a_spec_of_the_same_package_in_place():
    pack = resolve({"add_specs": ["samtools+fancy"]})
    assert pack["spec_groups"]["processing"][0] == "samtools+fancy"
    assert pack["specs"].count("samtools") == 0 and pack["package_count"] == 12


def test_site_pins_need_no_pack_reason():
    pack = resolve({"add_specs": ["samtools@1.19"]})
    assert "samtools@1.19" in pack["specs"]
    assert pack["pins"]["samtools@1.19"] == "site override"


def test_remove_runs_before_add():
    pack = resolve({"remove_specs": ["gatk"], "add_specs": ["gatk+extra"]})
    assert pack["spec_groups"]["site"] == ["gatk+extra"]


def test_bad_added_spec_is_reported():
    with pytest.raises(DomainPackError, match=r"overrides.add_specs: invalid spec 'Bowtie2'"):
        resolve({"add_specs": ["Bowtie2"]})


def test_sizes_are_deep_merged():
    pack = resolve({"sizes": {"medium": {"root_volume_gb": 900}}})
    assert pack["instance"]["root_volume_gb"] == 900
    assert pack["instance"]["instance_type"] == "r7i.8xlarge"


def test_new_size_must_be_complete():
    with pytest.raises(PackValidationError) as exc:
        resolve({"sizes": {"huge": {"instance_type": "x2idn.32xlarge"}}}, size="huge")
    keys = [p[0] for p in exc.value.problems]
    assert keys == ["sizes.huge"] * len(keys) and len(keys) == 6
    assert "vcpus is required" in str(exc.value) and "(with site overrides)" in str(exc.value)


def test_new_complete_size_can_be_chosen():
    huge = {"instance_type": "x2idn.32xlarge", "vcpus": 128, "memory_gib": 2048, "gpus": 0,
            "price_usd_hour": 13.3378, "root_volume_gb": 2000, "root_volume_type": "gp3"}
    pack = resolve({"sizes": {"huge": huge}, "size": "huge"})
    assert pack["size"] == "huge" and pack["instance"]["vcpus"] == 128
    assert pack["instance"]["arch"] == "x86_64"


def test_size_precedence_argument_then_override_then_default():
    assert resolve({"size": "small"})["size"] == "small"
    assert resolve({"size": "small"}, size="large")["size"] == "large"
    assert resolve()["size"] == "medium"


def test_unknown_size():
    with pytest.raises(DomainPackError, match=r"size 'xl' is not defined for pack 'genomics'; "
                       r"sizes: graviton, large, medium, small"):
        resolve(size="xl")


def test_graviton_size_selects_the_aarch64_target():
    pack = resolve(size="graviton")
    assert pack["instance"]["arch"] == "aarch64"
    assert pack["spack_target"] == "neoverse_v1"
    assert spack_yaml(pack)["spack"]["packages"]["all"]["require"] == "target=neoverse_v1"


def test_aarch64_size_without_aarch64_target_is_rejected():
    arm = {"instance_type": "c7g.4xlarge", "arch": "aarch64", "vcpus": 16, "memory_gib": 32, "gpus": 0,
           "price_usd_hour": 0.58, "root_volume_gb": 100, "root_volume_type": "gp3"}
    with pytest.raises(PackValidationError, match=r"sizes.arm.arch: size uses aarch64 but the pack has no "
                       r"'target_aarch64'"):
        resolve({"sizes": {"arm": arm}}, name="machine-learning")
    pack = resolve({"sizes": {"arm": arm}, "target_aarch64": "neoverse_v1"}, size="arm", name="machine-learning")
    assert pack["spack_target"] == "neoverse_v1"


def test_target_and_unify_overrides():
    pack = resolve({"target": "x86_64_v4", "unify": "when_possible"})
    assert pack["spack_target"] == "x86_64_v4" and pack["unify"] == "when_possible"
    assert spack_yaml(pack)["spack"]["concretizer"] == {"unify": "when_possible"}


def test_invalid_unify_override():
    with pytest.raises(PackValidationError, match=r"concretizer.unify: expected one of true, false, "
                       r"\"when_possible\", got \"sometimes\""):
        resolve({"unify": "sometimes"})


def test_enable_optional():
    pack = resolve({"enable_optional": ["namd"]}, name="molecular-dynamics")
    assert pack["spec_groups"]["optional"] == ["namd"]
    with pytest.raises(DomainPackError, match=r"enable_optional: 'gatk' is not an optional spec of pack "
                       r"'molecular-dynamics'; optional: namd, vmd"):
        resolve({"enable_optional": ["gatk"]}, name="molecular-dynamics")


def test_unknown_override_key():
    with pytest.raises(DomainPackError, match=r"overrides: unknown key add_spec; allowed: add_specs, "):
        resolve({"add_spec": ["bowtie2"]})


def test_overrides_do_not_change_the_loaded_pack():
    before = load_pack("genomics", DOMAINS)
    resolve({"remove_specs": ["gatk"], "add_specs": ["bowtie2"], "sizes": {"small": {"vcpus": 99}}})
    assert load_pack("genomics", DOMAINS) == before


def test_overrides_applied_lists_given_keys():
    pack = resolve({"add_specs": ["bowtie2"], "remove_specs": [], "size": "small"})
    assert pack["overrides_applied"] == ["add_specs", "size"]
