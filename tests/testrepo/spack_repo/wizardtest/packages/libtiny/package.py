# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import spack
from spack.package import *

try:  # Spack >= 1.0 (package API v2): build systems live in the builtin repository
    from spack_repo.builtin.build_systems.makefile import MakefilePackage
except ImportError:  # Spack 0.2x: they come with spack.package
    pass


class Libtiny(MakefilePackage):
    """Tiny C library used by the offline Spack test harness."""

    homepage = "https://example.invalid/libtiny"
    url = "https://sources.example.invalid/wizardtest/libtiny-1.0.tar.gz"

    version("1.0", sha256="0ff7b03f0ec4c5bc28203c29a77f1b423102e050f12aa4dc0aae24d861e2f0f4")

    if spack.spack_version_info >= (1, 0):
        # Compilers are packages in Spack 1.x: without it the build gets no compiler wrapper.
        depends_on("c", type="build")

    variant("shared", default=True, description="Build libtiny.so instead of libtiny.a")

    @property
    def build_targets(self):
        return ["SHARED=1" if self.spec.satisfies("+shared") else "SHARED=0"]

    @property
    def install_targets(self):
        return ["install", f"PREFIX={self.prefix}"] + self.build_targets
