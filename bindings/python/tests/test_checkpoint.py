"""What this host's CRIU can do, as ovz finds it: CRIU's own check of the kernel (criu check),
its version and features."""

import shutil
import subprocess

import pytest

import ovz

pytestmark = pytest.mark.skipif(shutil.which("criu") is None, reason="criu is not installed")


def criu_says_supported():
    return subprocess.run(["criu", "check"], capture_output=True).returncode == 0


def test_checkpoint_supported_is_criu_check():
    if criu_says_supported():
        assert ovz.checkpoint_supported() is None
    else:
        with pytest.raises(ovz.Unsupported, match="CRIU cannot checkpoint on this kernel: "):
            ovz.checkpoint_supported()


def test_checkpoint_tools_here_gives_criu_version():
    tools = ovz.checkpoint_tools_here()
    version = subprocess.run(["criu", "--version"], capture_output=True, text=True).stdout
    assert version.splitlines()[0] == "Version: " + tools.criu_version
    assert isinstance(tools.memory_tracking, bool) and isinstance(tools.lazy_pages, bool)
    if criu_says_supported():
        assert tools.memory_tracking
