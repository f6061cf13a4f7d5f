# -*- coding: utf-8 -*-
# Copyright (c) research.wizard developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain packs: load, validate and resolve ``domains/<name>.yml`` on the controller.

Private helper (the leading underscore): the interface may change without notice.

Everything here is pure Python and never calls Spack:

* :func:`parse_spec` is a small parser for Spack spec strings (name, ``@versions``,
  ``+``/``~`` variants, ``key=value``, ``%compiler``, ``^dependencies``, ``target=``) that
  catches the syntax errors and naming mistakes Spack would only report at concretization.
* :func:`load_pack` reads a pack, validates it against ``domains/schema.json`` and applies the
  rules JSON Schema cannot express (spec syntax, pins need a reason, default size exists).
* :func:`resolve_pack` merges site overrides (added / removed specs, sizes, size choice, target)
  in a fixed, documented order and returns a plain dict suitable for Ansible facts.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import difflib
import hashlib
import json
import os
import re

from ansible_collections.research.wizard.plugins.module_utils._spack_env import deep_merge

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
OVERRIDE_KEYS = ("add_specs", "remove_specs", "enable_optional", "sizes", "size",
                 "target", "target_aarch64", "unify")
_ARCH_TARGET_KEY = {"x86_64": "target", "aarch64": "target_aarch64"}


class DomainPackError(Exception):
    """Any problem with a pack or its overrides; ``str()`` is the message for the user."""


class UnknownDomainError(DomainPackError):
    def __init__(self, name, available, nearest):
        self.name = name
        self.available = available
        self.nearest = nearest
        hint = "did you mean '%s'? " % nearest if nearest else ""
        super(UnknownDomainError, self).__init__(
            "unknown domain '%s'; %savailable: %s" % (name, hint, ", ".join(available) or "(none)"))


class PackValidationError(DomainPackError):
    """Schema or rule violations; ``problems`` is a list of (key_path, message)."""

    def __init__(self, path, problems):
        self.path = path
        self.problems = problems
        lines = ["%s: %s" % (key, msg) for key, msg in problems]
        super(PackValidationError, self).__init__(
            "%s is not a valid domain pack:\n  - %s" % (path, "\n  - ".join(lines)))


class SpecSyntaxError(DomainPackError):
    def __init__(self, spec, pos, message):
        self.spec = spec
        self.pos = pos
        self.reason = message
        pointer = " " * pos + "^"
        super(SpecSyntaxError, self).__init__(
            "invalid spec '%s': %s (at column %d)\n    %s\n    %s" % (spec, message, pos + 1, spec, pointer))


# --------------------------------------------------------------------------------------------
# Spec parser
# --------------------------------------------------------------------------------------------

_NAME = r"[a-z0-9_][a-z0-9_-]*"
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<edge>\^\[[^\]]*\])                       # ^[virtuals=mpi] edge attributes
  | (?P<dep>\^)
  | (?P<compiler>%%\s*(?P<cname>%(name)s))
  | (?P<version>@=?(?P<vlist>[A-Za-z0-9_.:,=+-]*))
  | (?P<bvariant>(?P<bsign>\+\+|~~|--|\+|~|-)(?P<bname>[A-Za-z0-9_][A-Za-z0-9_.-]*))
  | (?P<kv>(?P<key>[A-Za-z0-9_][A-Za-z0-9_.-]*)==?(?P<value>"[^"]*"|'[^']*'|[^\s^%%@~+"']*))
  | (?P<name>(?:%(name)s\.)?%(name)s)
""" % {"name": _NAME}, re.VERBOSE)

_VERSION_ITEM_RE = re.compile(r"^(?:=?[A-Za-z0-9_.+-]+(?:=[A-Za-z0-9_.+-]+)?|[A-Za-z0-9_.+-]*:[A-Za-z0-9_.+-]*)$")
_ARCH_KEYS = ("target", "os", "platform", "arch")


class SpecNode(object):
    """One node of a parsed spec: the root or a ``^`` dependency."""

    def __init__(self, name=None, namespace=None):
        self.name = name
        self.namespace = namespace
        self.versions = None
        self.variants = {}
        self.compiler = None
        self.compiler_versions = None
        self.arch = {}
        self.edge_attributes = None

    def as_dict(self):
        return {
            "name": self.name, "namespace": self.namespace, "versions": self.versions,
            "variants": dict(self.variants), "compiler": self.compiler,
            "compiler_versions": self.compiler_versions, "arch": dict(self.arch),
        }


class ParsedSpec(object):
    def __init__(self, text, nodes):
        self.text = text
        self.nodes = nodes

    @property
    def root(self):
        return self.nodes[0]

    @property
    def name(self):
        return self.nodes[0].name

    @property
    def dependencies(self):
        return self.nodes[1:]

    @property
    def package_names(self):
        return [n.name for n in self.nodes if n.name]

    @property
    def pinned(self):
        """True if any node fixes a version or a compiler (both need a stated reason in a pack)."""
        return any(n.versions is not None or n.compiler is not None for n in self.nodes)

    def as_dict(self):
        return {"spec": self.text, "nodes": [n.as_dict() for n in self.nodes]}


def _check_versions(spec, pos, vlist):
    if not vlist:
        raise SpecSyntaxError(spec, pos, "'@' must be followed by a version, a range (1.2:1.4) or a list")
    for item in vlist.split(","):
        if not item or not _VERSION_ITEM_RE.match(item):
            raise SpecSyntaxError(spec, pos, "malformed version list '%s'" % vlist)


def parse_spec(text):
    """Parse one Spack spec string; return a :class:`ParsedSpec` or raise :class:`SpecSyntaxError`.

    The root must be named (anonymous specs are not allowed in a pack) and a string holds exactly
    one root: ``"bwa samtools"`` is two specs, which in a pack must be two list entries.
    """
    if not isinstance(text, str):
        raise SpecSyntaxError(str(text), 0, "a spec must be a string, got %s" % type(text).__name__)
    if not text.strip():
        raise SpecSyntaxError(text, 0, "empty spec")
    nodes = []
    current = None
    expect_dep_name = False
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            bad = text[pos]
            if bad.isupper() or (bad.isalpha() and not bad.isascii()):
                msg = "package names are lower case: '%s'" % text[pos:].split()[0]
            else:
                msg = "unexpected character '%s'" % bad
            raise SpecSyntaxError(text, pos, msg)
        kind = m.lastgroup
        start = pos
        pos = m.end()
        if kind == "ws":
            continue
        if kind in ("dep", "edge"):
            if expect_dep_name:
                raise SpecSyntaxError(text, start, "'^' must be followed by a package name")
            if current is None:
                raise SpecSyntaxError(text, start, "'^' dependency before the package name")
            expect_dep_name = True
            current = None
            edge = m.group("edge")
            nodes.append(("edge", edge[2:-1] if edge else None, start))
            continue
        if kind == "name":
            token = m.group("name")
            # An upper-case continuation (e.g. "py-Torch") stops the name regex early.
            if pos < len(text) and (text[pos].isalnum() or text[pos] in "_") and text[pos].isupper():
                raise SpecSyntaxError(text, start, "package names are lower case: '%s'" % text[start:].split()[0])
            namespace, name = token.rpartition(".")[0], token.rpartition(".")[2]
            if expect_dep_name:
                current = SpecNode(name, namespace or None)
                current.edge_attributes = nodes[-1][1]
                nodes[-1] = current
                expect_dep_name = False
                continue
            if current is None and not nodes:
                current = SpecNode(name, namespace or None)
                nodes.append(current)
                continue
            raise SpecSyntaxError(text, start, "a second package name '%s' (one spec per entry; "
                                               "use '^%s' for a dependency)" % (token, token))
        # Everything below modifies the current node.
        if expect_dep_name:
            raise SpecSyntaxError(text, start, "'^' must be followed by a package name")
        if current is None:
            raise SpecSyntaxError(text, start, "the spec must start with a package name")
        if kind == "version":
            if current.versions is not None:
                raise SpecSyntaxError(text, start, "version given twice for '%s'" % current.name)
            vlist = m.group("vlist")
            _check_versions(text, start, vlist)
            current.versions = vlist if not m.group("version").startswith("@=") else "=" + vlist
        elif kind == "compiler":
            if current.compiler is not None:
                raise SpecSyntaxError(text, start, "compiler given twice for '%s'" % current.name)
            current.compiler = m.group("cname")
            # A version directly after the compiler belongs to it.
            vm = re.compile(r"@=?([A-Za-z0-9_.:,=+-]*)").match(text, pos)
            if vm:
                _check_versions(text, pos, vm.group(1))
                current.compiler_versions = vm.group(1)
                pos = vm.end()
        elif kind == "bvariant":
            name = m.group("bname")
            if name in current.variants:
                raise SpecSyntaxError(text, start, "variant '%s' given twice" % name)
            current.variants[name] = m.group("bsign")[0] == "+"
        elif kind == "kv":
            key = m.group("key")
            value = m.group("value")
            if value in ("", '""', "''"):
                raise SpecSyntaxError(text, start, "'%s=' needs a value" % key)
            if value[0] in "\"'":
                value = value[1:-1]
            if key in _ARCH_KEYS:
                if key in current.arch:
                    raise SpecSyntaxError(text, start, "'%s' given twice" % key)
                current.arch[key] = value
            else:
                if key in current.variants:
                    raise SpecSyntaxError(text, start, "variant '%s' given twice" % key)
                current.variants[key] = value
    if expect_dep_name:
        raise SpecSyntaxError(text, len(text), "'^' must be followed by a package name")
    if not nodes:
        raise SpecSyntaxError(text, 0, "the spec must start with a package name")
    return ParsedSpec(text, nodes)


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

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
        if not data.get(_ARCH_TARGET_KEY[arch]):
            problems.append(("sizes.%s.arch" % sname, "size uses %s but the pack has no '%s'"
                             % (arch, _ARCH_TARGET_KEY[arch])))
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


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------

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
        target_name = _spec_name(item)
        hit = False
        for g in list(groups):
            kept = [s for s in groups[g] if _spec_name(s) != target_name]
            hit = hit or len(kept) != len(groups[g])
            if kept:
                groups[g] = kept
            else:
                del groups[g]
        if not hit:
            warnings.append("remove_specs: '%s' is not in pack '%s'; nothing removed" % (item, pack["name"]))

    # 2. optional specs
    optional = dict((_spec_name(o["spec"]), o["spec"]) for o in pack.get("optional_specs") or [])
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
                    if _spec_name(s) == name:
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


def _spec_name(text):
    try:
        return parse_spec(text).name
    except SpecSyntaxError:
        return text


def _all_specs(groups):
    return [s for specs in groups.values() for s in specs]


def _collection_path(root, path):
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(root, path))


def tree_digest(paths):
    """sha256 over the relative names and contents of every file under PATHS (in order).

    The deploy copies a pack's repositories and source mirrors to the host only when this differs
    from the digest recorded there: a no-op re-deploy then costs one small read, not a walk of
    every file on both sides.
    """
    h = hashlib.sha256()
    for top in paths:
        h.update(b"\0top\0" + os.path.basename(os.path.normpath(top)).encode("utf-8"))
        for d, dirs, files in os.walk(top):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(d, f)
                h.update(b"\0file\0" + os.path.relpath(full, top).encode("utf-8") + b"\0")
                with open(full, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
    return h.hexdigest()


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
    spack_target = pack.get(_ARCH_TARGET_KEY[arch])
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


def format_table(rows, columns):
    """Plain-text table; ``columns`` is a list of (key, header)."""
    cells = [[col[1] for col in columns]]
    for r in rows:
        cells.append([("%.4f" % r[k]).rstrip("0").rstrip(".") if isinstance(r[k], float) else str(r[k])
                      for k in (col[0] for col in columns)])
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


# --------------------------------------------------------------------------------------------
# Spack environment description and concretization outcome (no Spack is called here)
# --------------------------------------------------------------------------------------------

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


_UNKNOWN_RE = re.compile(r"Package '(?:spack\.pkg\.[\w-]+\.)?([\w-]+)' not found|no such package: ([\w-]+)"
                         r"|UnknownPackageError|Unknown package:? '?([\w-]+)")
_UNSAT_RE = re.compile(r"concretization failed|[Uu]nsatisfiable|Cannot satisfy|conflicts with|"
                       r"cannot be satisfied|No valid version|UnsatisfiableSpecError")
_SYNTAX_RE = re.compile(r"unexpected tokens in the spec string|SpecSyntaxError|SpecParseError")


def classify_concretize_error(text, timed_out=False):
    """Sort a failed concretization into ``(kind, detail)``.

    kind is one of ``timeout``, ``unknown packages``, ``spec syntax``, ``unsatisfiable``, ``error``;
    detail is the most telling line of Spack's output.
    """
    text = text or ""
    if timed_out:
        return "timeout", "concretization did not finish in time"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    err_lines = [ln for ln in lines if ln.startswith("==> Error")] or lines[-1:] or [""]
    m = _UNKNOWN_RE.search(text)
    if m:
        names = sorted(set(n for g in _UNKNOWN_RE.findall(text) for n in g if n))
        return "unknown packages", "unknown: %s" % ", ".join(names) if names else err_lines[0]
    if _SYNTAX_RE.search(text):
        return "spec syntax", err_lines[0]
    if _UNSAT_RE.search(text):
        reasons = [ln for ln in lines if re.match(r"^\d+\.\s", ln)]
        return "unsatisfiable", (reasons[0] if reasons else err_lines[0])
    return "error", err_lines[0]
