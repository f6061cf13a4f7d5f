import os
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
