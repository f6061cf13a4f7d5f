# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Spack-free spec parser: what it accepts, what it extracts, and how it reports errors.

Spack 1.x's grammar (lib/spack/spack/spec_parser.py): "%" and "%%" introduce direct
dependencies, "^" transitive ones; options after "%X" belong to X. The answers of Spack 1.1.1's
own parser are recorded in tests/fixtures/spack-1.1.1/spec-parser.jsonl and compared here.
"""
import json
import os
import subprocess

import pytest

from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import SpecSyntaxError
from ansible_collections.research.wizard.plugins.plugin_utils.pack_spec import parse_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "spack-1.1.1")
SPACK1 = os.environ.get("SPACK1_ROOT", "/opt/spack1")
SPACK1_PYTHON = os.environ.get("SPACK1_PYTHON", SPACK1.rstrip("/") + "-venv/bin/python")


def recorded_answers():
    with open(os.path.join(FIXTURES, "spec-parser.jsonl")) as f:
        return [json.loads(line) for line in f]


def spack_form(parsed):
    """Our parse in the form spack_spec_parser.py prints Spack's (nodes and edges)."""
    def node(n):
        return {"name": n.name, "namespace": n.namespace, "versions": n.versions,
                "variants": dict(n.variants), "arch": dict(n.arch)}
    edges = [[n.parent.name, n.name, n.direct, sorted(n.virtuals), n.propagate, node(n)] for n in parsed.dependencies]
    return {"root": node(parsed.root), "edges": sorted(edges, key=lambda e: json.dumps(e, sort_keys=True))}


def spack_answer_form(answer):
    return {"root": answer["root"], "edges": sorted(answer["edges"], key=lambda e: json.dumps(e, sort_keys=True))}


# Valid Spack that a pack entry must not use, and why (each is checked to be valid Spack).
PACK_RULES = {
    "bwa samtools": "a second package name 'samtools'",
    "PyTorch": "package names are lower case",
    "+mpi": "the spec must start with a package name",
    "@1.2": "the spec must start with a package name",
    "^openmpi": "'^' dependency before the package name",
    "petsc ^": "'^' must be followed by a package name",
    "petsc ^^hdf5": "'^' must be followed by a package name",
    "petsc ^ +mpi": "'^' must be followed by a package name",
    "foo /abcdef": "a DAG hash ('/abcdef') names one installed build",
    "foo ^*": "an anonymous spec ('*') names no package",
}


@pytest.mark.parametrize("text, name, versions, variants, compiler, arch, deps", [
    ("bwa", "bwa", None, {}, None, {}, []),
    ("py-torch", "py-torch", None, {}, None, {}, []),
    ("gromacs+mpi~double", "gromacs", None, {"mpi": True, "double": False}, None, {}, []),
    ("gromacs +mpi ~double", "gromacs", None, {"mpi": True, "double": False}, None, {}, []),
    ("gromacs -double", "gromacs", None, {"double": False}, None, {}, []),
    ("hdf5++shared~~fortran", "hdf5", None, {"shared": True, "fortran": False}, None, {}, []),
    ("relion+cuda cuda_arch=86", "relion", None, {"cuda": True, "cuda_arch": "86"}, None, {}, []),
    ("openmpi fabrics=ofi,ucx", "openmpi", None, {"fabrics": "ofi,ucx"}, None, {}, []),
    ("zlib cflags==-O3", "zlib", None, {"cflags": "-O3"}, None, {}, []),
    ('zlib cflags="-O3 -g"', "zlib", None, {"cflags": "-O3 -g"}, None, {}, []),
    ("samtools@1.19", "samtools", "1.19", {}, None, {}, []),
    ("samtools@=1.19", "samtools", "=1.19", {}, None, {}, []),
    ("samtools@1.17:1.19", "samtools", "1.17:1.19", {}, None, {}, []),
    ("samtools@1.17:", "samtools", "1.17:", {}, None, {}, []),
    ("samtools@:1.19,2.0", "samtools", ":1.19,2.0", {}, None, {}, []),
    ("cp2k%gcc", "cp2k", None, {}, "gcc", {}, ["gcc"]),
    ("cp2k %gcc@12.2.0", "cp2k", None, {}, "gcc", {}, ["gcc"]),
    ("cp2k%gcc%clang", "cp2k", None, {}, "gcc", {}, ["gcc", "llvm"]),
    ("foo %%gcc", "foo", None, {}, "gcc", {}, ["gcc"]),
    ("foo %c,cxx=gcc", "foo", None, {}, "gcc", {}, ["gcc"]),
    ("foo %[virtuals=c] gcc", "foo", None, {}, "gcc", {}, ["gcc"]),
    ("foo %gcc %openmpi", "foo", None, {}, "gcc", {}, ["gcc", "openmpi"]),
    ("foo +bar %gcc", "foo", None, {"bar": True}, "gcc", {}, ["gcc"]),
    ("foo %gcc +bar", "foo", None, {}, "gcc", {}, ["gcc"]),
    ("hdf5 languages:=c,c++", "hdf5", None, {"languages": "c,c++"}, None, {}, []),
    ("foo@1.0+bar", "foo", "1.0", {"bar": True}, None, {}, []),
    ("hpl target=x86_64_v3", "hpl", None, {}, None, {"target": "x86_64_v3"}, []),
    ("hpl os=debian12 platform=linux", "hpl", None, {}, None, {"os": "debian12", "platform": "linux"}, []),
    ("petsc+mpi ^openmpi fabrics=ofi", "petsc", None, {"mpi": True}, None, {}, ["openmpi"]),
    ("petsc ^openmpi ^hdf5+mpi", "petsc", None, {}, None, {}, ["openmpi", "hdf5"]),
    ("petsc ^[virtuals=mpi] openmpi", "petsc", None, {}, None, {}, ["openmpi"]),
    ("lammps+cg-dna+kspace", "lammps", None, {"cg-dna": True, "kspace": True}, None, {}, []),
    ("wizardtest.tinyapp+shout", "tinyapp", None, {"shout": True}, None, {}, []),
])
def test_valid_specs(text, name, versions, variants, compiler, arch, deps):
    parsed = parse_spec(text)
    assert parsed.name == name
    assert parsed.root.versions == versions
    assert parsed.root.variants == variants
    assert parsed.root.compiler == compiler
    assert parsed.root.arch == arch
    assert [d.name for d in parsed.dependencies] == deps
    assert parsed.package_names == [name] + deps


def test_dependency_node_details():
    parsed = parse_spec("petsc+mpi ^openmpi@4.1: fabrics=ofi %gcc@12 ^[virtuals=mpi] mpich")
    ompi, gcc, mpich = parsed.dependencies
    assert (ompi.name, ompi.versions, ompi.variants, ompi.compiler, ompi.compiler_versions) == (
        "openmpi", "4.1:", {"fabrics": "ofi"}, "gcc", "12")
    assert (gcc.parent, gcc.direct, gcc.sigil) == (ompi, True, "%")
    assert (mpich.parent, mpich.edge_attributes, mpich.virtuals) == (parsed.root, "virtuals=mpi", ("mpi",))
    assert parsed.root.variants == {"mpi": True} and parsed.root.compiler is None


def test_options_after_a_direct_dependency_are_its_own():
    """1.x: "%gcc@12 +bar" is gcc@12+bar; a later "^zlib %clang" gives zlib (not foo) llvm."""
    parsed = parse_spec("foo %gcc@12 +bar ^zlib@1.3 %clang")
    root, gcc, zlib, llvm = parsed.nodes
    assert root.variants == {} and root.compiler == "gcc" and root.compiler_versions == "12"
    assert (gcc.variants, gcc.parent) == ({"bar": True}, root)
    assert (zlib.parent, zlib.direct, zlib.compiler) == (root, False, "clang")
    assert (llvm.name, llvm.written_name, llvm.parent) == ("llvm", "clang", zlib)


def test_double_percent_propagates():
    gcc = parse_spec("foo ^bar %%gcc").nodes[2]
    assert (gcc.direct, gcc.propagate, gcc.parent.name) == (True, True, "bar")


def test_edge_attributes():
    cmake = parse_spec("foo ^[deptypes=build] cmake@3.27:").dependencies[0]
    assert (cmake.deptypes, cmake.versions, cmake.direct) == (("build",), "3.27:", False)
    gcc = parse_spec("foo %[when=+bar] c=gcc").dependencies[0]
    assert (gcc.name, gcc.when, gcc.virtuals) == ("gcc", "+bar", ("c",))


def test_namespace_is_kept():
    assert parse_spec("wizardtest.tinyapp").root.namespace == "wizardtest"
    assert parse_spec("tinyapp").root.namespace is None


@pytest.mark.parametrize("text, pinned", [
    ("bwa", False), ("relion+cuda cuda_arch=86", False), ("bwa@0.7.17", True), ("cp2k%gcc", True),
    ("petsc ^openmpi@4", True), ("hpl target=zen4", False),
])
def test_pinned(text, pinned):
    assert parse_spec(text).pinned is pinned


@pytest.mark.parametrize("text, message, column", [
    ("", "empty spec", 1),
    ("   ", "empty spec", 1),
    ("bwa samtools", "a second package name 'samtools'", 5),
    ("PyTorch", "package names are lower case", 1),
    ("py-Torch", "package names are lower case", 1),
    ("zlib@@1", "'@' must be followed by a version", 5),
    ("zlib@1.2,,1.3", "malformed version list", 5),
    ("zlib@", "'@' must be followed by a version", 5),
    ("zlib@1.2 @1.3", "version given twice", 10),
    ("+mpi", "the spec must start with a package name", 1),
    ("@1.2", "the spec must start with a package name", 1),
    ("^openmpi", "'^' dependency before the package name", 1),
    ("petsc ^", "'^' must be followed by a package name", 8),
    ("petsc ^ +mpi", "'^' must be followed by a package name", 9),
    ("petsc ^^hdf5", "'^' must be followed by a package name", 8),
    ("gromacs+mpi+mpi", "variant 'mpi' given twice", 12),
    ("gromacs+mpi mpi=false", "variant 'mpi' given twice", 13),
    ("hpl target=", "'target=' needs a value", 5),
    ("hpl target=zen target=zen4", "'target' given twice", 16),
    ("cp2k%gcc@12@13", "version given twice for 'gcc'", 12),
    ("foo %", "'%' must be followed by a package name", 6),
    ("foo %gcc %", "'%' must be followed by a package name", 11),
    ("foo %[virtuals=c gcc", "'%[' without its closing ']'", 5),
    ("foo ^[bogus=1] bar", "edge attributes are deptypes=, virtuals= or when=", 7),
    ("foo %%", "'%%' must be followed by a package name", 7),
    ("foo /abcdef", "a DAG hash", 5),
    ("samtools!", "unexpected character '!'", 9),
    ("samtools & bwa", "unexpected character '&'", 10),
])
def test_invalid_specs(text, message, column):
    with pytest.raises(SpecSyntaxError) as exc:
        parse_spec(text)
    assert message in exc.value.reason
    assert exc.value.pos + 1 == column
    # the message quotes the spec and points at the column
    text_lines = str(exc.value).splitlines()
    assert text_lines[1].strip() == text.strip() or not text.strip()
    assert text_lines[2].index("^") - 4 == exc.value.pos


def test_non_string_is_rejected():
    with pytest.raises(SpecSyntaxError, match="must be a string"):
        parse_spec(["bwa"])


def test_same_nodes_and_edges_as_spack_1():
    """Every spec Spack 1.1.1's parser accepted: ours gives the same nodes, options and edges,
    or rejects it for a stated pack rule. Every spec it rejected: ours rejects too."""
    answers = recorded_answers()
    assert len(answers) > 60
    compared = 0
    for answer in answers:
        text = answer["spec"]
        if text in PACK_RULES:
            assert answer["ok"], "%r is valid Spack (that is why it is a pack *rule*)" % text
            with pytest.raises(SpecSyntaxError) as exc:
                parse_spec(text)
            assert PACK_RULES[text] in exc.value.reason
            continue
        if not answer["ok"]:
            with pytest.raises(SpecSyntaxError):
                parse_spec(text)
            continue
        assert spack_form(parse_spec(text)) == spack_answer_form(answer), text
        compared += 1
    assert compared > 40


@pytest.mark.skipif(not os.access(SPACK1_PYTHON, os.X_OK) or not os.path.isdir(os.path.join(SPACK1, "lib", "spack")),
                    reason="no Spack 1.x at $SPACK1_ROOT (default /opt/spack1)")
def test_recorded_answers_are_spack_1s_own():
    """The recording is what the real parser answers today (one subprocess, no concretization)."""
    with open(os.path.join(FIXTURES, "spec-parser-input.json")) as f:
        specs = f.read()
    live = subprocess.run([SPACK1_PYTHON, os.path.join(FIXTURES, "spack_spec_parser.py"), os.path.join(SPACK1, "lib", "spack")],
                          input=specs, capture_output=True, text=True, check=True, timeout=120)
    assert [json.loads(line) for line in live.stdout.splitlines()] == recorded_answers()
