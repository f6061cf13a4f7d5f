# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import spack
from spack.package import *

try:  # Spack >= 1.0 (package API v2): build systems live in the builtin repository
    from spack_repo.builtin.build_systems.makefile import MakefilePackage
except ImportError:  # Spack 0.2x: they come with spack.package
    pass


class Tinyapp(MakefilePackage):
    """Tiny command-line app linking against libtiny."""

    homepage = "https://example.invalid/tinyapp"
    url = "https://sources.example.invalid/wizardtest/tinyapp-1.0.tar.gz"

    version("1.0", sha256="4123150914fd3eb102082e13fd0f63b9c7eda03682ff803a8864b619b29a1940")

    if spack.spack_version_info >= (1, 0):
        # Compilers are packages in Spack 1.x: without it the build gets no compiler wrapper.
        depends_on("c", type="build")

    variant("shout", default=False, description="Print the greeting loudly")

    depends_on("libtiny")

    @property
    def build_targets(self):
        return ["CFLAGS=-DTINYAPP_SHOUT"] if self.spec.satisfies("+shout") else []

    @property
    def install_targets(self):
        return ["install", f"PREFIX={self.prefix}"]
