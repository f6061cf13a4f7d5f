import pytest

from helpers.spack_sandbox import make_sandbox, real_spack_root


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    root = real_spack_root()
    if root is None:
        pytest.skip('no real Spack at $SPACK_ROOT (default /opt/spack); see ../shared/spack/README.md')
    return make_sandbox(str(tmp_path_factory.mktemp('spack')), root)


@pytest.fixture
def playbook_env():
    # The sandbox's user scope must apply: a SPACK_DISABLE_LOCAL_CONFIG inherited from the
    # caller's shell would hide it.
    return {'SPACK_DISABLE_LOCAL_CONFIG': None}
