from spack.package import *


class Tinycmake(CMakePackage):
    """Tiny CMake-built app (uses the external cmake) linking against libtiny."""

    homepage = "https://example.invalid/tinycmake"
    url = "https://sources.example.invalid/wizardtest/tinycmake-0.5.tar.gz"

    version("0.5", sha256="951f5a59b01353a9dc84a5f454d0e39db20fe2668544a84151d8ddcc20358afa")

    variant("fancy", default=False, description="Fancy output")

    depends_on("libtiny")

    def cmake_args(self):
        return [self.define_from_variant("TINYCMAKE_FANCY", "fancy")]
