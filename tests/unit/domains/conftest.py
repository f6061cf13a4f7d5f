# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
