import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
# Unit tests import plugins as ansible_collections.research.wizard.* through the setup link.
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from helpers.moto import moto_server  # noqa: E402


@pytest.fixture
def moto_endpoint():
    with moto_server() as url:
        yield url


def real_spack_root():
    root = os.environ.get("SPACK_ROOT", "/opt/spack")
    return root if os.access(os.path.join(root, "bin", "spack"), os.X_OK) else None


needs_spack = pytest.mark.skipif(real_spack_root() is None,
                                 reason="no real Spack at $SPACK_ROOT (default /opt/spack); see ../shared/spack/README.md")
needs_patchelf = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf not on PATH (needed to relocate cached binaries)")
