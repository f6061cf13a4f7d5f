# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import spack
from spack.package import *

try:  # Spack >= 1.0 (package API v2): build systems live in the builtin repository
    from spack_repo.builtin.build_systems.makefile import MakefilePackage
except ImportError:  # Spack 0.2x: they come with spack.package
    pass


class Tinybroken(MakefilePackage):
    """Package whose build always fails (compile error): used to capture failure output."""

    homepage = "https://example.invalid/tinybroken"
    url = "https://sources.example.invalid/wizardtest/tinybroken-0.1.tar.gz"

    version("0.1", sha256="39e7bbbac3dff57998f015a6f4bfebfd5330e1034ebd5edf737e653f18793ae7")

    if spack.spack_version_info >= (1, 0):
        # Compilers are packages in Spack 1.x: without it the build gets no compiler wrapper.
        depends_on("c", type="build")

    @property
    def install_targets(self):
        return ["install", f"PREFIX={self.prefix}"]
