from spack.package import *


class Tinybroken(MakefilePackage):
    """Package whose build always fails (compile error): used to capture failure output."""

    homepage = "https://example.invalid/tinybroken"
    url = "https://sources.example.invalid/wizardtest/tinybroken-0.1.tar.gz"

    version("0.1", sha256="39e7bbbac3dff57998f015a6f4bfebfd5330e1034ebd5edf737e653f18793ae7")

    @property
    def install_targets(self):
        return ["install", f"PREFIX={self.prefix}"]
