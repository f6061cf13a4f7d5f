"""The Spack-free spec parser: what it accepts, what it extracts, and how it reports errors."""
import pytest

from ansible_collections.research.wizard.plugins.module_utils._domain_pack import SpecSyntaxError, parse_spec


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
    ("cp2k%gcc", "cp2k", None, {}, "gcc", {}, []),
    ("cp2k %gcc@12.2.0", "cp2k", None, {}, "gcc", {}, []),
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
    ompi = parsed.dependencies[0]
    assert (ompi.name, ompi.versions, ompi.variants, ompi.compiler, ompi.compiler_versions) == (
        "openmpi", "4.1:", {"fabrics": "ofi"}, "gcc", "12")
    assert parsed.dependencies[1].edge_attributes == "virtuals=mpi"
    assert parsed.root.variants == {"mpi": True}


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
    ("cp2k%gcc%clang", "compiler given twice", 9),
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
