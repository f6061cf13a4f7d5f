# -*- coding: utf-8 -*-
# Copyright (c) research.wizard developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain packs: load, validate and resolve ``domains/<name>.yml`` on the controller.

Private helper (the leading underscore): the interface may change without notice.

Everything here is pure Python and never calls Spack:

* :func:`parse_spec` is a small parser for Spack spec strings in Spack 1.x's grammar (name,
  ``@versions``, ``+``/``~`` variants, ``key=value``, ``%``/``%%`` direct and ``^`` transitive
  dependencies, ``target=``), which also reads 0.23's, and catches the syntax errors and naming
  mistakes Spack would only report at concretization.
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
from ansible_collections.research.wizard.plugins.module_utils._spack_parse import error_summary

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
# The grammar is Spack 1.x's (lib/spack/spack/spec_parser.py), which is a superset of 0.23's:
#   spec  = name node_options { ("^" | "%" | "%%") [ "[" edge_attributes "]" ] [virtuals "="] node }
#   node  = name node_options;  node_options = { @versions | +v | ~v | -v | ++v | ~~v | --v | k=v | k==v | k:=v }
# "^X" is a dependency anywhere in the DAG and becomes the node later options and "%" attach to;
# "%X" is a *direct* dependency of the node being written ("%%X": direct, and a preference that
# propagates to X's own dependencies). Options after "%X" belong to X, not to the node before it:
# in 1.x "foo %gcc +bar" asks for gcc+bar. 0.23 read "%gcc" as foo's compiler and "+bar" as foo's;
# specs that keep every "%" after the node's own options mean the same thing to both.

_ID = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_VIRTUAL_ASSIGNMENT = r"(?:\s*(?P<virtuals%(n)s>%(id)s(?:,%(id)s)*)=(?P<subst%(n)s>%(id)s(?:\.%(id)s)*))"
# Bare values: what Spack's tokenizer takes without quotes (it includes % ^ ~ + , : = /).
_VALUE = r"""(?:[A-Za-z0-9_\-+*.,:=%^~/\\]+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
# Spack's version grammar: "1.2", "=1.2", "1.2:1.4", ":1.4", "1.2:", lists joined by ","; git
# versions "git.REF=1.2" / "HASH40=1.2". A range's upper bound is never the key of a "k=v" after it.
_V = r"=?[A-Za-z0-9_][A-Za-z0-9_.-]*\b"
_VRANGE = r"(?:(?:%s)?:(?:%s(?!\s*=))?)" % (_V, _V)
_VERSION_TOKEN = (r"(?:(?:git\.[A-Za-z0-9_][A-Za-z0-9_./-]*|[A-Fa-f0-9]{40})(?:=%s)?"
                  r"|(?:%s|%s)(?:\s*,\s*(?:%s|%s))*)" % (_V, _VRANGE, _V, _VRANGE, _V))
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<edge_open>(?P<esigil>\^|%%|%)\[)
  | (?P<edge_close>\]""" + _VIRTUAL_ASSIGNMENT % {"n": "1", "id": _ID} + r"""?)
  | (?P<dep>(?P<dsigil>\^|%%|%)""" + _VIRTUAL_ASSIGNMENT % {"n": "2", "id": _ID} + r"""?)
  | (?P<version>@\s*(?P<vlist>""" + _VERSION_TOKEN + r"""))
  | (?P<at>@)
  | (?P<bvariant>(?P<bsign>\+\+|~~|--|\+|~|-)\s*(?P<bname>[A-Za-z0-9_][A-Za-z0-9_.-]*))
  | (?P<kv>(?P<key>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?P<op>:?==?)(?P<value>""" + _VALUE + r"""))
  | (?P<emptykv>(?P<ekey>[A-Za-z0-9_][A-Za-z0-9_.-]*):?==?(?=\s|$))
  | (?P<filename>(?:\.|/|[A-Za-z0-9_-]*/)[A-Za-z0-9_./-]*\.(?:json|yaml))
  | (?P<name>""" + _ID + r"""(?:\.""" + _ID + r""")*)
  | (?P<hash>/[A-Za-z0-9_]*)
  | (?P<star>\*)
""", re.VERBOSE)

_VERSION_ITEM_RE = re.compile(r"^(?:=?[A-Za-z0-9_][A-Za-z0-9_./+-]*(?:=[A-Za-z0-9_.+-]+)?|"
                              r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)?:(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)?)$")
_ARCH_KEYS = ("target", "os", "platform", "arch")
_EDGE_KEYS = ("deptypes", "virtuals", "when")
# Spack 1.x renames these after "%" (lib/spack/spack/aliases.py LEGACY_COMPILER_TO_BUILTIN): the
# 0.23 compiler names that are not the name of the package providing the compiler.
LEGACY_COMPILER_TO_BUILTIN = {
    "clang": "llvm", "oneapi": "intel-oneapi-compilers", "rocmcc": "llvm-amdgpu",
    "intel": "intel-oneapi-compilers-classic", "arm": "acfl",
}


class SpecNode(object):
    """One node of a parsed spec: the root, a ``^`` dependency or a ``%``/``%%`` direct dependency."""

    def __init__(self, name=None, namespace=None, parent=None, sigil=None, edge_attributes=None):
        self.written_name = name
        self.direct = sigil in ("%", "%%")
        # Spack 1.x maps a 0.23 compiler name after "%" to its package ("%clang" is llvm).
        self.name = LEGACY_COMPILER_TO_BUILTIN.get(name, name) if self.direct else name
        self.namespace = namespace
        self.parent = parent          # the node this one hangs from (None for the root)
        self.sigil = sigil            # None (root), "^", "%" or "%%"
        self.propagate = sigil == "%%"
        self.edge_attributes = edge_attributes   # raw text inside ^[...] / %[...]
        self.virtuals = ()
        self.deptypes = None
        self.when = None
        self.versions = None
        self.variants = {}
        self.propagated = set()       # variants given as ++v / ~~v / k==v
        self.arch = {}
        self.children = []            # direct ("%") dependencies written after this node

    @property
    def compiler(self):
        """The first ``%`` dependency as written: what Spack 0.23 called the node's compiler."""
        return self.children[0].written_name if self.children else None

    @property
    def compiler_versions(self):
        return self.children[0].versions if self.children else None

    def as_dict(self):
        return {
            "name": self.name, "namespace": self.namespace, "versions": self.versions,
            "variants": dict(self.variants), "compiler": self.compiler,
            "compiler_versions": self.compiler_versions, "arch": dict(self.arch),
            "parent": self.parent.name if self.parent else None, "sigil": self.sigil,
            "direct": self.direct, "propagate": self.propagate, "virtuals": list(self.virtuals),
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
        """Every node but the root, in the order written (``^`` and ``%`` ones)."""
        return self.nodes[1:]

    @property
    def package_names(self):
        return [n.name for n in self.nodes if n.name]

    @property
    def pinned(self):
        """True if any node fixes a version or has a ``%`` dependency (a compiler, in 0.23 terms):
        both need a stated reason in a pack."""
        return any(n.versions is not None or n.direct for n in self.nodes)

    def as_dict(self):
        return {"spec": self.text, "nodes": [n.as_dict() for n in self.nodes]}


def _check_versions(spec, pos, vlist):
    if not vlist:
        raise SpecSyntaxError(spec, pos, "'@' must be followed by a version, a range (1.2:1.4) or a list")
    for item in re.split(r"\s*,\s*", vlist.strip()):
        if not item or not _VERSION_ITEM_RE.match(item):
            raise SpecSyntaxError(spec, pos, "malformed version list '%s'" % vlist)


def _edge_attributes(spec, start, raw, node):
    """``virtuals=mpi``, ``deptypes=build,link`` or ``when=+foo`` inside ``^[...]``/``%[...]``."""
    for m in re.finditer(r"\S+", raw):
        key, sep, value = m.group(0).partition("=")
        key = key.rstrip(":")
        if not sep or key not in _EDGE_KEYS:
            raise SpecSyntaxError(spec, start + m.start(),
                                  "edge attributes are deptypes=, virtuals= or when=, not '%s'" % m.group(0))
        values = tuple(v for v in value.strip("'\"").split(",") if v)
        if key == "virtuals":
            node.virtuals += values
        elif key == "deptypes":
            node.deptypes = values
        else:
            node.when = value.strip("'\"")


def _pack_rule(token):
    """Syntax Spack accepts but a pack entry must not use (it names no package, or a build)."""
    if token.startswith("/"):
        return "a DAG hash ('%s') names one installed build; a pack needs an abstract spec" % token
    if token == "*":
        return "an anonymous spec ('*') names no package"
    return "a spec file ('%s') is not a spec string" % token


def parse_spec(text):
    """Parse one Spack spec string; return a :class:`ParsedSpec` or raise :class:`SpecSyntaxError`.

    Accepts Spack 1.x syntax (``%``/``%%`` direct dependencies, ``%c,cxx=gcc``, ``%[virtuals=c] gcc``,
    ``key:=value``) and therefore 0.23's. Options attach to nodes as Spack 1.x attaches them
    (see the grammar above). Stricter than Spack where a pack needs it: the root and every
    dependency must be named, in lower case, and a string holds exactly one root: ``"bwa samtools"``
    is two specs, which in a pack must be two list entries.
    """
    if not isinstance(text, str):
        raise SpecSyntaxError(str(text), 0, "a spec must be a string, got %s" % type(text).__name__)
    if not text.strip():
        raise SpecSyntaxError(text, 0, "empty spec")
    nodes = []
    root = None
    current = None     # the node options attach to
    anchor = None      # the node a "%" dependency hangs from: the root or the last "^" node
    pending = None     # (sigil, start, edge text, virtuals) of a dependency whose name comes next
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            bad = text[pos]
            if bad.isalpha() and not bad.isascii():
                msg = "package names are lower case ASCII: '%s'" % text[pos:].split()[0]
            else:
                msg = "unexpected character '%s'" % bad
            raise SpecSyntaxError(text, pos, msg)
        kind = m.lastgroup  # the token group: it closes after the sub-groups inside it
        start = pos
        pos = m.end()
        if kind == "ws":
            continue
        if kind in ("dep", "edge_open"):
            sigil = m.group("dsigil") if kind == "dep" else m.group("esigil")
            if pending:
                raise SpecSyntaxError(text, start, "'%s' must be followed by a package name" % pending[0])
            if root is None:
                raise SpecSyntaxError(text, start, "'%s' dependency before the package name" % sigil)
            edge = None
            if kind == "edge_open":
                close = text.find("]", pos)
                if close < 0:
                    raise SpecSyntaxError(text, start, "'%s[' without its closing ']'" % sigil)
                edge, edge_at = text[pos:close], pos
                cm = _TOKEN_RE.match(text, close)
                pos = cm.end()
                virtuals, subst = cm.group("virtuals1"), cm.group("subst1")
            else:
                virtuals, subst = m.group("virtuals2"), m.group("subst2")
                edge_at = None
            pending = (sigil, edge_at, edge, tuple(virtuals.split(",")) if virtuals else ())
            if subst:
                # "%c,cxx=gcc" is "%[virtuals=c,cxx] gcc": the substitute is the node's name.
                current = _add_node(text, nodes, pending, subst, anchor)
                if not current.direct:
                    anchor = current
                pending = None
            else:
                current = None
            continue
        if kind == "name":
            token = m.group("name")
            # An upper-case letter anywhere in the name: Spack package names are lower case.
            if token != token.lower():
                raise SpecSyntaxError(text, start, "package names are lower case: '%s'" % token)
            if pending:
                current = _add_node(text, nodes, pending, token, anchor)
                if not current.direct:
                    anchor = current
                pending = None
                continue
            if root is None:
                namespace, name = token.rpartition(".")[::2]
                root = current = anchor = SpecNode(name, namespace or None)
                nodes.append(root)
                continue
            raise SpecSyntaxError(text, start, "a second package name '%s' (one spec per entry; "
                                               "use '^%s' for a dependency)" % (token, token))
        if kind in ("filename", "hash", "star"):
            raise SpecSyntaxError(text, start, _pack_rule(m.group(0).strip()))
        if kind == "edge_close":
            raise SpecSyntaxError(text, start, "unexpected character ']'")
        # Everything below modifies the current node.
        if pending:
            raise SpecSyntaxError(text, start, "'%s' must be followed by a package name" % pending[0])
        if current is None:
            raise SpecSyntaxError(text, start, "the spec must start with a package name")
        if kind in ("version", "at"):
            if current.versions is not None:
                raise SpecSyntaxError(text, start, "version given twice for '%s'" % current.name)
            vlist = m.group("vlist") if kind == "version" else ""
            # "@1.2,,1.3": Spack's tokenizer stops at the empty item; name the whole list instead.
            tail = re.compile(r"[A-Za-z0-9_.:,=/-]*").match(text, pos)
            if kind == "version" and tail.group(0).startswith(","):
                vlist += tail.group(0)
                pos = tail.end()
            _check_versions(text, start, vlist)
            vlist = re.sub(r"\s+", "", vlist)
            current.versions = vlist
        elif kind == "bvariant":
            name = m.group("bname")
            if name in current.variants:
                raise SpecSyntaxError(text, start, "variant '%s' given twice" % name)
            current.variants[name] = m.group("bsign")[0] == "+"
            if len(m.group("bsign")) == 2:
                current.propagated.add(name)
        elif kind == "emptykv":
            raise SpecSyntaxError(text, start, "'%s=' needs a value" % m.group("ekey"))
        elif kind == "kv":
            key = m.group("key")
            value = m.group("value")
            if value in ('""', "''"):
                raise SpecSyntaxError(text, start, "'%s=' needs a value" % key)
            if value[0] in "\"'":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            if key in _ARCH_KEYS:
                if key in current.arch:
                    raise SpecSyntaxError(text, start, "'%s' given twice" % key)
                current.arch[key] = value
            else:
                if key in current.variants:
                    raise SpecSyntaxError(text, start, "variant '%s' given twice" % key)
                current.variants[key] = value
                if m.group("op").endswith("=="):
                    current.propagated.add(key)
    if pending:
        raise SpecSyntaxError(text, len(text), "'%s' must be followed by a package name" % pending[0])
    if not nodes:
        raise SpecSyntaxError(text, 0, "the spec must start with a package name")
    return ParsedSpec(text, nodes)


def _add_node(text, nodes, pending, token, anchor):
    sigil, edge_at, edge, virtuals = pending
    namespace, name = token.rpartition(".")[::2]
    parent = anchor if sigil in ("%", "%%") else nodes[0]
    node = SpecNode(name, namespace or None, parent=parent, sigil=sigil, edge_attributes=edge)
    node.virtuals = virtuals
    if edge is not None:
        _edge_attributes(text, edge_at, edge, node)
    if node.direct:
        parent.children.append(node)
    nodes.append(node)
    return node


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


# Package names in Spack's "unknown package" texts (0.23 and 1.x); which texts mean which kind of
# failure is _spack_parse.KINDS, the one vocabulary for both generations.
_UNKNOWN_RE = re.compile(r"Package '(?:spack\.pkg\.[\w-]+\.)?([\w-]+)' not found|no such package: ([\w-]+)"
                         r"|Unknown package:? '?([\w-]+)|since '([\w.-]+)' does not exist")
# The concretize status for each _spack_parse kind; anything else is "error".
CONCRETIZE_STATUS = {
    "unknown-package": "unknown packages",
    "syntax": "spec syntax",
    "unknown-variant": "unknown variant",
    "unsatisfiable": "unsatisfiable",
}
# 0.23 texts that _spack_parse leaves to "other" but that, in a concretization, mean a conflict.
_UNSAT_EXTRA_RE = re.compile(r"conflicts with|cannot be satisfied|No valid version|UnsatisfiableSpecError")


def classify_concretize_error(text, timed_out=False):
    """Sort a failed concretization into ``(kind, detail)``.

    kind is one of ``timeout``, ``unknown packages``, ``spec syntax``, ``unknown variant``,
    ``unsatisfiable``, ``error``; detail is the most telling line of Spack's output, on one line
    (for a syntax error: the spec and the column of Spack's caret).
    """
    text = text or ""
    if timed_out:
        return "timeout", "concretization did not finish in time"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    err_lines = [ln for ln in lines if ln.startswith("==> Error")] or lines[-1:] or [""]
    summary = error_summary(text)
    kind = CONCRETIZE_STATUS.get(summary["kind"])
    if kind is None and _UNSAT_EXTRA_RE.search(text):
        kind = "unsatisfiable"
    if kind == "unknown packages":
        names = sorted(set(n for g in _UNKNOWN_RE.findall(text) for n in g if n))
        return kind, "unknown: %s" % ", ".join(names) if names else err_lines[0]
    if kind == "spec syntax":
        # One line for the report table: the spec, and the column the caret line points at.
        parts = summary["error"].split("\n")
        detail = "==> Error: " + parts[0]
        if len(parts) > 1:
            detail += ": %s" % parts[1].strip()
        if len(parts) > 2 and "^" in parts[2]:
            detail += " (column %d)" % (parts[2].index("^") + 1)
        return kind, detail
    if kind == "unsatisfiable":
        reasons = [ln for ln in lines if re.match(r"^\d+\.\s", ln)]
        return kind, reasons[0] if reasons else summary["error"]
    if kind == "unknown variant":
        return kind, summary["error"]
    return "error", err_lines[0]
