# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side action for research.wizard.domain_pack_info (documented in plugins/modules/domain_pack_info.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import (
    DomainPackError, PackValidationError, SpecSyntaxError, UnknownDomainError)
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import catalogue, resolve_pack, spack_yaml
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import (
    available_domains, default_domains_dir, load_pack)
from ansible_collections.research.wizard.plugins.plugin_utils.table import format_table

CATALOGUE_COLUMNS = [("name", "name"), ("title", "title"), ("package_count", "packages"),
                     ("instance_type", "default instance"), ("price_usd_hour", "$/hour")]


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name", "size", "overrides", "domains_dir", "fact_name"))

    argument_spec = dict(
        name=dict(type="str"),
        size=dict(type="str"),
        overrides=dict(type="dict", default={}),
        domains_dir=dict(type="path"),
        fact_name=dict(type="str"),
    )

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        result["changed"] = False
        args = self.validate_argument_spec(argument_spec=self.argument_spec)[1]
        domains_dir = args["domains_dir"] or default_domains_dir()
        result["domains_dir"] = domains_dir
        try:
            if args["name"]:
                pack = resolve_pack(args["name"], size=args["size"], overrides=args["overrides"],
                                    domains_dir=domains_dir)
                pack["spack_yaml"] = spack_yaml(pack)
                for warning in pack["warnings"]:
                    self._display.warning("domain pack %s: %s" % (args["name"], warning))
                result["pack"] = pack
                if args["fact_name"]:
                    result["ansible_facts"] = {args["fact_name"]: pack}
            else:
                if args["size"] or args["overrides"]:
                    raise DomainPackError("size and overrides need a pack name")
                names = available_domains(domains_dir)
                for n in names:
                    load_pack(n, domains_dir)
                rows = catalogue(domains_dir)
                result["packs"] = names
                result["catalogue"] = rows
                result["table"] = format_table(rows, CATALOGUE_COLUMNS)
        except UnknownDomainError as e:
            result.update(failed=True, msg=str(e), available=e.available, nearest=e.nearest)
        except PackValidationError as e:
            result.update(failed=True, msg=str(e), file=e.path,
                          problems=[{"key": k, "message": m} for k, m in e.problems])
        except SpecSyntaxError as e:
            result.update(failed=True, msg=str(e), spec=e.spec)
        except DomainPackError as e:
            result.update(failed=True, msg=str(e))
        return result
