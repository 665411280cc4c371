"""VE.suspend() and VE.resume() against real VEs: a suspended VE stands still, says so in its
status and refuses commands at once, until resumed. CTIDs 18120-18129."""

import os
import time

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def test_suspend_of_an_absent_ve_is_not_running(tmp_path):
    with pytest.raises(ovz.NotRunning):
        ovz.VE(18121, tmp_path).suspend()


@needs_root
def test_a_suspended_ve_stands_still_until_resumed(root):
    ve = ovz.VE(18120, root)
    ve.create()
    with pytest.raises(ovz.NotRunning):
        ve.suspend()
    with ve.started():
        # Appends, so that a loop frozen mid-write leaves the size it had.
        ve.exec("(while :; do echo x >> /count; done) </dev/null >/dev/null 2>&1 &")
        count = f"/proc/{ve.status.init_pid}/root/count"
        time.sleep(0.1)

        ve.suspend()
        ve.suspend()
        assert ve.status.state == "running" and ve.status.suspended
        assert "suspended=True" in repr(ve.status)
        frozen_at = os.path.getsize(count)
        time.sleep(0.3)
        assert os.path.getsize(count) == frozen_at

        started = time.monotonic()
        with pytest.raises(ovz.Suspended, match=r"VE 18120 is suspended.*ovzctl resume 18120"):
            ve.exec("true")
        assert time.monotonic() - started < 5

        ve.resume()
        ve.resume()
        assert not ve.status.suspended
        time.sleep(0.3)
        assert os.path.getsize(count) > frozen_at
        assert ve.exec("true")[0] == 0

        ve.suspend()
    # started() stopped the suspended VE on the way out.
    assert ve.status.state == "stopped" and not ve.status.suspended
    ve.destroy()
