# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
# Unit tests import plugins as ansible_collections.research.wizard.* through the setup link.
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from helpers.moto import moto_server  # noqa: E402
from helpers.spacks import spack_or_skip  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_home(tmp_path_factory):
    """No test writes outside its sandbox: whatever a tool keeps under ~ (Ansible's ~/.ansible tmp and
    async dirs, the progress callback's ~/.cache/research.wizard history, Spack's ~/.spack, pip's
    cache) goes to a home of this test session."""
    home = str(tmp_path_factory.mktemp("home"))
    saved = {k: os.environ.get(k) for k in ("HOME", "PYENV_ROOT", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
                                            "ANSIBLE_ASYNC_DIR")}
    real_home = os.path.expanduser("~")
    # pyenv's shims find their Pythons through $HOME unless PYENV_ROOT says where.
    if not saved["PYENV_ROOT"] and os.path.isdir(os.path.join(real_home, ".pyenv")):
        os.environ["PYENV_ROOT"] = os.path.join(real_home, ".pyenv")
    os.environ["HOME"] = home
    # async_status expands ~ from the password database, not $HOME: name the async dir outright.
    os.environ["ANSIBLE_ASYNC_DIR"] = os.path.join(home, ".ansible_async")
    os.environ.pop("XDG_CACHE_HOME", None)
    os.environ.pop("XDG_CONFIG_HOME", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def spack(request, private_home):
    """The real Spack of this module's tests, installed by the spack role (tests/helpers/spacks.py):
    the primary generation (1.1.1), or the one a module parametrizes it with ("compat": 0.23)."""
    return spack_or_skip(getattr(request, "param", "primary"))


@pytest.fixture
def moto_endpoint():
    with moto_server() as url:
        yield url
