"""ovz/__init__.pyi says what the module has: mypy's stubtest compares every name, signature
and default of the stub with the imported package, so a stub left behind by a change to
the extension's C++ (module.cpp and the files it calls) or __init__.py fails here."""

import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def test_the_stub_matches_the_module(tmp_path):
    try:
        import mypy.stubtest  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (Debian: python3-mypy, see install-deps.sh)")
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "mypy-cache"))
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ovz",
         "--allowlist", str(HERE / "stubtest_allowlist.txt")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
