# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Site overrides of a domain pack (controller side), applied in a fixed, documented order.

Private to the collection: the interface may change without notice.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

from ansible_collections.research.wizard.plugins.module_utils._spack_env import deep_merge
from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import DomainPackError, SpecSyntaxError
from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec, spec_name

OVERRIDE_KEYS = ("add_specs", "remove_specs", "enable_optional", "sizes", "size",
                 "target", "target_aarch64", "unify")


def _as_group_map(value, what):
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return {"site": list(value)}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[str(k)] = [v] if isinstance(v, str) else list(v or [])
        return out
    raise DomainPackError("overrides.%s: expected a list of specs or a mapping group -> list, got %s"
                          % (what, type(value).__name__))


def apply_overrides(data, overrides):
    """Return ``(pack, warnings)``: a new pack dict with the site overrides applied.

    Order (documented in domains/README.md):
      1. ``remove_specs``: drop every spec whose package name (or exact text) is listed.
      2. ``enable_optional``: move the named optional specs into the group ``optional``.
      3. ``add_specs``: a list goes to the group ``site``, a mapping to the named groups; an added
         spec whose package is already in the pack replaces that spec where it stands.
      4. ``sizes``: deep-merged into the pack's sizes (new size names must be complete).
      5. ``target`` / ``target_aarch64`` / ``unify`` replace the pack's values.
    ``size`` is the size choice and is handled by :func:`resolve_pack`.
    """
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise DomainPackError("overrides: expected a mapping, got %s" % type(overrides).__name__)
    unknown = sorted(set(overrides) - set(OVERRIDE_KEYS))
    if unknown:
        raise DomainPackError("overrides: unknown key%s %s; allowed: %s" % (
            "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(OVERRIDE_KEYS)))
    pack = copy.deepcopy(data)
    warnings = []
    groups = pack["specs"]

    # 1. remove
    removes = overrides.get("remove_specs") or []
    if isinstance(removes, str):
        removes = [removes]
    for item in removes:
        # Removal is by package name: "gatk", "gatk@4" and "gatk+foo" all remove the gatk entry.
        target_name = spec_name(item)
        hit = False
        for g in list(groups):
            kept = [s for s in groups[g] if spec_name(s) != target_name]
            hit = hit or len(kept) != len(groups[g])
            if kept:
                groups[g] = kept
            else:
                del groups[g]
        if not hit:
            warnings.append("remove_specs: '%s' is not in pack '%s'; nothing removed" % (item, pack["name"]))

    # 2. optional specs
    optional = dict((spec_name(o["spec"]), o["spec"]) for o in pack.get("optional_specs") or [])
    enable = overrides.get("enable_optional") or []
    if isinstance(enable, str):
        enable = [enable]
    for item in enable:
        if item not in optional:
            raise DomainPackError("enable_optional: '%s' is not an optional spec of pack '%s'; optional: %s"
                                  % (item, pack["name"], ", ".join(sorted(optional)) or "(none)"))
        groups.setdefault("optional", []).append(optional[item])

    # 3. add
    for group, specs in _as_group_map(overrides.get("add_specs"), "add_specs").items():
        for text in specs:
            try:
                name = parse_spec(text).name
            except SpecSyntaxError as e:
                raise DomainPackError("overrides.add_specs: %s" % e)
            replaced = False
            for g in groups:
                for i, s in enumerate(groups[g]):
                    if spec_name(s) == name:
                        groups[g][i] = text
                        replaced = True
            if not replaced:
                groups.setdefault(group, []).append(text)
            # Specs a site adds are its own choice: a version or compiler needs no pack-level reason.
            if parse_spec(text).pinned:
                pack.setdefault("pins", {})[text] = "site override"

    # 4. sizes
    sizes = overrides.get("sizes") or {}
    if not isinstance(sizes, dict):
        raise DomainPackError("overrides.sizes: expected a mapping size name -> settings")
    for sname, settings in sizes.items():
        if not isinstance(settings, dict):
            raise DomainPackError("overrides.sizes.%s: expected a mapping of size settings" % sname)
        pack["sizes"][sname] = deep_merge(pack["sizes"].get(sname, {}), settings)

    # 5. scalars
    for key in ("target", "target_aarch64"):
        if overrides.get(key):
            pack[key] = overrides[key]
    if overrides.get("unify") is not None:
        pack["concretizer"] = dict(pack.get("concretizer") or {}, unify=overrides["unify"])
    return pack, warnings
