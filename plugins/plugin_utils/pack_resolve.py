# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A domain pack resolved for one deployment, and what Spack gets from it (controller side).

Private to the collection: the interface may change without notice. No Spack is called here.

:func:`resolve_pack` loads and validates a pack, applies the site overrides
(:func:`~pack_overrides.apply_overrides`), chooses a size and returns a plain dict suitable for
Ansible facts; :func:`spack_yaml` is the environment the spack_env module writes for it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.research.wizard.plugins.module_utils._digest import tree_digest
from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import DomainPackError, PackValidationError
from ansible_collections.research.wizard.plugins.plugin_utils.pack_overrides import apply_overrides
from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import (
    ARCH_TARGET_KEY, default_domains_dir, load_all, load_pack, load_schema, validate_pack)


def _all_specs(groups):
    return [s for specs in groups.values() for s in specs]


def _collection_path(root, path):
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(root, path))


def resolve_pack(name, size=None, overrides=None, domains_dir=None):
    """Load, validate, apply overrides, choose a size; return the resolved pack as a plain dict.

    Size choice: ``size`` argument, else ``overrides['size']``, else the pack's ``default_size``.
    """
    domains_dir = os.path.abspath(domains_dir or default_domains_dir())
    data = load_pack(name, domains_dir)
    path = os.path.join(domains_dir, name + ".yml")
    pack, warnings = apply_overrides(data, overrides)
    try:
        validate_pack(pack, "%s (with site overrides)" % path, load_schema(domains_dir))
    except PackValidationError as e:
        raise PackValidationError(e.path, e.problems)
    chosen = size or (overrides or {}).get("size") or pack["default_size"]
    if chosen not in pack["sizes"]:
        raise DomainPackError("size '%s' is not defined for pack '%s'; sizes: %s"
                              % (chosen, name, ", ".join(sorted(pack["sizes"]))))
    instance = dict(pack["sizes"][chosen])
    arch = instance.setdefault("arch", "x86_64")
    spack_target = pack.get(ARCH_TARGET_KEY[arch])
    root = os.path.dirname(domains_dir)
    specs = _all_specs(pack["specs"])
    repos = [_collection_path(root, p) for p in pack.get("repos") or []]
    source_mirrors = [_collection_path(root, p) for p in pack.get("source_mirrors") or []]
    missing = [p for p in repos + source_mirrors if not os.path.isdir(p)]
    if missing:
        raise DomainPackError("%s: repos/source_mirrors %s not found (paths are relative to %s)"
                              % (path, ", ".join(missing), root))
    packages = []
    for s in specs:
        for p in parse_spec(s).package_names:
            if p not in packages:
                packages.append(p)
    return {
        "name": name,
        "file": path,
        "title": pack["title"],
        "description": pack["description"].strip(),
        "category": pack["category"],
        "tags": list(pack.get("tags") or []),
        "spec_groups": pack["specs"],
        "specs": specs,
        "packages": sorted(packages),
        "package_count": len(specs),
        "pins": pack.get("pins") or {},
        "optional_specs": pack.get("optional_specs") or [],
        "concretizer": pack.get("concretizer") or {"unify": True},
        "unify": (pack.get("concretizer") or {}).get("unify", True),
        "target": pack.get("target"),
        "target_aarch64": pack.get("target_aarch64"),
        "spack_target": spack_target,
        "externals": pack.get("externals") or [],
        "repos": repos,
        "source_mirrors": source_mirrors,
        "files_digest": tree_digest(repos + source_mirrors) if repos or source_mirrors else "",
        "sizes": pack["sizes"],
        "default_size": pack["default_size"],
        "size": chosen,
        "instance": instance,
        "pricing_date": pack["pricing_date"],
        "overrides_applied": sorted(k for k, v in (overrides or {}).items() if v not in (None, [], {}, "")),
        "warnings": warnings,
    }


def catalogue(domains_dir=None):
    """One row per pack: name, title, category, package count, default instance type and price."""
    rows = []
    for name, data in sorted(load_all(domains_dir).items()):
        size = data["sizes"][data["default_size"]]
        rows.append({
            "name": name, "title": data["title"], "category": data["category"],
            "package_count": sum(len(v) for v in data["specs"].values()),
            "default_size": data["default_size"], "instance_type": size["instance_type"],
            "price_usd_hour": size["price_usd_hour"], "gpus": size.get("gpus", 0),
            "pricing_date": data["pricing_date"],
        })
    return rows


def spack_yaml(resolved, target=None):
    """The ``spack.yaml`` content (a dict) for a resolved pack, as the spack_env module writes it."""
    env = {
        "specs": list(resolved["specs"]),
        "concretizer": {"unify": resolved["unify"]},
        "view": False,
    }
    target = target or resolved.get("spack_target")
    if target:
        env["packages"] = {"all": {"require": "target=%s" % target}}
    if resolved.get("repos"):
        env["repos"] = list(resolved["repos"])
    if resolved.get("source_mirrors"):
        env["mirrors"] = dict(("%s-source-%d" % (resolved["name"], i),
                               {"url": "file://" + p, "binary": False, "source": True})
                              for i, p in enumerate(resolved["source_mirrors"]))
    return {"spack": env}


# validate's words for the kinds of _spack_parse.error_summary a pack's concretization fails with
# (playbooks/tasks/concretize_pack.yml maps a module's error_kind by the same table). Any other
# kind is "error"; a concretization that did not finish in time is "timeout", which only the
# caller that stopped it knows.
CONCRETIZE_STATUS = {
    "unknown-package": "unknown packages",
    "syntax": "spec syntax",
    "unknown-variant": "unknown variant",
    "unsatisfiable": "unsatisfiable",
}


def concretize_status(error_kind):
    """validate's status for a concretization that failed with ``error_kind``."""
    return CONCRETIZE_STATUS.get(error_kind, "error")
