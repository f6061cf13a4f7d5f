# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import spack
from spack.package import *

try:  # Spack >= 1.0 (package API v2): build systems live in the builtin repository
    from spack_repo.builtin.build_systems.cmake import CMakePackage
except ImportError:  # Spack 0.2x: they come with spack.package
    pass


class Tinycmake(CMakePackage):
    """Tiny CMake-built app (uses the external cmake) linking against libtiny."""

    homepage = "https://example.invalid/tinycmake"
    url = "https://sources.example.invalid/wizardtest/tinycmake-0.5.tar.gz"

    version("0.5", sha256="951f5a59b01353a9dc84a5f454d0e39db20fe2668544a84151d8ddcc20358afa")

    if spack.spack_version_info >= (1, 0):
        # Compilers are packages in Spack 1.x: without it the build gets no compiler wrapper.
        depends_on("c", type="build")

    variant("fancy", default=False, description="Fancy output")

    depends_on("libtiny")

    def cmake_args(self):
        return [self.define_from_variant("TINYCMAKE_FANCY", "fancy")]
