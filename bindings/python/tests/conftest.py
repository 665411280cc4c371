"""What the suites share: a state root whose VEs are cleaned up after each test."""

import pytest

import ovz


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "tsan: threaded, and run under ThreadSanitizer by tests/sanitize/run.sh"
    )


@pytest.fixture
def root(tmp_path):
    """A state root whose every VE is stopped and destroyed when the test ends."""
    yield tmp_path
    # Best effort, like the C++ suites' temp_root: a test that failed half-way may have
    # left a VE running, and a running VE outlives the directory.
    for st in ovz.list_ves(tmp_path):
        ve = ovz.VE(st.ctid, tmp_path)
        if st.state == "running":
            try:
                ve.stop(fast=True)
            except ovz.Error:
                pass
        try:
            ve.destroy()
        except ovz.Error:
            pass
