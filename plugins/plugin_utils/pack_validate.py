# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain packs on the controller: find and load ``domains/<name>.yml``, validate it.

Private to the collection: the interface may change without notice.

:func:`load_pack` reads a pack, validates it against ``domains/schema.json`` and applies the rules
JSON Schema cannot express (spec syntax, pins need a reason, default size exists). Every problem
is reported at once, each with its key path and what was expected.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import json
import os
import re

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import (
    DomainPackError, PackValidationError, SpecSyntaxError, UnknownDomainError)
from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - exercised only on controllers without jsonschema
    HAS_JSONSCHEMA = False


SCHEMA_FILE = "schema.json"
# The pack key holding the Spack target of each architecture a size may use.
ARCH_TARGET_KEY = {"x86_64": "target", "aarch64": "target_aarch64"}


def default_domains_dir():
    """``domains/`` of the collection this file belongs to."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "domains"))


def available_domains(domains_dir):
    if not os.path.isdir(domains_dir):
        raise DomainPackError("domains directory %s does not exist" % domains_dir)
    names = []
    for entry in os.listdir(domains_dir):
        if entry.endswith(".yml") and not entry.startswith("."):
            names.append(entry[:-4])
    return sorted(names)


def nearest_domain(name, available):
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.5)
    if close:
        return close[0]
    prefixed = [a for a in available if a.startswith(name) or name.startswith(a)]
    return prefixed[0] if prefixed else None


def pack_path(name, domains_dir):
    available = available_domains(domains_dir)
    if name not in available:
        raise UnknownDomainError(name, available, nearest_domain(name, available))
    return os.path.join(domains_dir, name + ".yml")


_SCHEMA_CACHE = {}


def load_schema(domains_dir):
    path = os.path.join(domains_dir, SCHEMA_FILE)
    if not os.path.exists(path):
        path = os.path.join(default_domains_dir(), SCHEMA_FILE)
    key = (path, os.path.getmtime(path))
    if key not in _SCHEMA_CACHE:
        with open(path) as f:
            _SCHEMA_CACHE[key] = json.load(f)
    return _SCHEMA_CACHE[key]


def _key_path(parts):
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += "[%d]" % p
        else:
            out += ("." if out else "") + str(p)
    return out


def _describe(error):
    """Turn a jsonschema error into 'what was expected' in plain words."""
    v, val, inst = error.validator, error.validator_value, error.instance
    got = json.dumps(inst, default=str)
    if len(got) > 60:
        got = got[:57] + "..."
    if v == "type":
        return "expected %s, got %s" % (" or ".join(val) if isinstance(val, list) else val, got)
    if v == "required":
        # jsonschema reports one error per missing key: "'vcpus' is a required property"
        m = re.match(r"^'(.+)' is a required property$", error.message)
        return "%s is required" % (m.group(1) if m else error.message)
    if v == "enum":
        return "expected one of %s, got %s" % (", ".join(json.dumps(x) for x in val), got)
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(inst) - set(allowed)) if isinstance(inst, dict) else []
        if error.schema.get("patternProperties"):
            pats = list(error.schema["patternProperties"])
            extra = [k for k in extra if not any(re.search(p, k) for p in pats)]
        msg = "unexpected key%s %s" % ("s" if len(extra) > 1 else "", ", ".join("'%s'" % e for e in extra))
        return msg + ("; allowed: %s" % ", ".join(allowed) if allowed else "")
    if v == "pattern":
        hint = error.schema.get("description", "")
        return "expected a string matching %s%s, got %s" % (val, " (%s)" % hint if hint else "", got)
    if v in ("minimum", "exclusiveMinimum", "maximum"):
        return "expected a number %s %s, got %s" % ({"minimum": ">=", "exclusiveMinimum": ">",
                                                     "maximum": "<="}[v], val, got)
    if v in ("minItems", "minProperties"):
        return "expected at least %s entr%s" % (val, "y" if val == 1 else "ies")
    if v == "minLength":
        return "expected a non-empty string"
    if v == "uniqueItems":
        return "entries must be unique"
    if v == "format":
        return "expected a %s, got %s" % (val, got)
    return error.message


def schema_problems(data, schema):
    if not HAS_JSONSCHEMA:
        raise DomainPackError("the Python library 'jsonschema' is required on the controller to validate "
                              "domain packs (pip install jsonschema)")
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append((_key_path(err.absolute_path) or "(top level)", _describe(err)))
    return problems


def rule_problems(data):
    """Checks JSON Schema cannot express; assumes the schema already passed."""
    problems = []
    pins = data.get("pins") or {}
    seen = {}
    for group, specs in (data.get("specs") or {}).items():
        for i, text in enumerate(specs):
            where = _key_path(["specs", group, i])
            try:
                parsed = parse_spec(text)
            except SpecSyntaxError as e:
                problems.append((where, "%s at column %d in '%s'" % (e.reason, e.pos + 1, text)))
                continue
            if parsed.name in seen:
                problems.append((where, "package '%s' is already listed at %s" % (parsed.name, seen[parsed.name])))
            seen[parsed.name] = where
            if parsed.pinned and text not in pins:
                problems.append((where, "'%s' pins a version or compiler: add it under 'pins' with the reason"
                                        % text))
    all_specs = {s for specs in (data.get("specs") or {}).values() for s in specs}
    for i, opt in enumerate(data.get("optional_specs") or []):
        where = _key_path(["optional_specs", i, "spec"])
        try:
            parsed = parse_spec(opt["spec"])
        except SpecSyntaxError as e:
            problems.append((where, "%s at column %d in '%s'" % (e.reason, e.pos + 1, opt["spec"])))
            continue
        if parsed.pinned and opt["spec"] not in pins:
            problems.append((where, "'%s' pins a version or compiler: add it under 'pins'" % opt["spec"]))
        all_specs.add(opt["spec"])
    for spec in pins:
        if spec not in all_specs:
            problems.append(("pins." + spec, "no spec '%s' in specs or optional_specs" % spec))
    sizes = data.get("sizes") or {}
    default = data.get("default_size")
    if default is not None and default not in sizes:
        problems.append(("default_size", "expected one of the sizes (%s), got '%s'" % (", ".join(sizes), default)))
    for sname, size in sizes.items():
        arch = size.get("arch", "x86_64")
        if not data.get(ARCH_TARGET_KEY[arch]):
            problems.append(("sizes.%s.arch" % sname, "size uses %s but the pack has no '%s'"
                             % (arch, ARCH_TARGET_KEY[arch])))
    return problems


def validate_pack(data, path="<pack>", schema=None, domains_dir=None):
    """Raise :class:`PackValidationError` listing every problem, or return None."""
    schema = schema or load_schema(domains_dir or default_domains_dir())
    problems = schema_problems(data, schema)
    if not problems:
        problems = rule_problems(data)
    if problems:
        raise PackValidationError(path, problems)


def read_yaml(path):
    if not HAS_YAML:
        raise DomainPackError("PyYAML is required to read domain packs")
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise DomainPackError("%s is not valid YAML: %s" % (path, e))
    except (IOError, OSError) as e:
        raise DomainPackError("cannot read %s: %s" % (path, e))


def load_pack(name, domains_dir=None):
    """Load and validate ``<domains_dir>/<name>.yml``; returns the raw pack dict."""
    domains_dir = domains_dir or default_domains_dir()
    path = pack_path(name, domains_dir)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PackValidationError(path, [("(top level)", "expected a mapping, got %s" % type(data).__name__)])
    if data.get("name") not in (None, name):
        raise PackValidationError(path, [("name", "expected '%s' (the file name), got '%s'" % (name, data.get("name")))])
    validate_pack(data, path, load_schema(domains_dir))
    return data


def load_all(domains_dir=None):
    domains_dir = domains_dir or default_domains_dir()
    return dict((n, load_pack(n, domains_dir)) for n in available_domains(domains_dir))
