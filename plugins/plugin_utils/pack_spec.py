# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A parser for Spack spec strings that needs no Spack (controller side).

Private to the collection: the interface may change without notice.

:func:`parse_spec` reads Spack 1.x's grammar (name, ``@versions``, ``+``/``~`` variants,
``key=value``, ``%``/``%%`` direct and ``^`` transitive dependencies, ``target=``), which also
reads 0.23's, and catches the syntax errors and naming mistakes Spack would only report at
concretization.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import SpecSyntaxError

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


def spec_name(text):
    """The package name of a spec string; the text itself when it does not parse."""
    try:
        return parse_spec(text).name
    except SpecSyntaxError:
        return text
