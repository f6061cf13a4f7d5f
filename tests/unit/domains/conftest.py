import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOMAINS = os.path.join(ROOT, "domains")


@pytest.fixture
def domains_copy(tmp_path):
    """A scratch copy of domains/ (packs + schema) that a test may break."""
    dest = tmp_path / "domains"
    shutil.copytree(DOMAINS, str(dest))
    return dest
