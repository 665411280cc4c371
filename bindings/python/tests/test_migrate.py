"""VE.migrate() and ovz.receive_ve() against real VEs: a running VE moves to another state
root over a socket pair (the receiving side on a thread), and a receiver that has the CTID
refuses before anything moves. CTIDs 18130-18139."""

import os
import socket
import threading

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def receive_on_thread(sock, root):
    """Runs ovz.receive_ve on `sock` in a thread; returns a function giving its outcome."""
    got = {}

    def run():
        try:
            got["ctid"] = ovz.receive_ve(sock.fileno(), root)
        except ovz.Error as e:
            got["error"] = e

    t = threading.Thread(target=run)
    t.start()

    def outcome():
        t.join()
        return got

    return outcome


@needs_root
def test_a_running_ve_moves_to_another_state_root(root):
    to = root / "to"
    to.mkdir()
    ve = ovz.VE(18130, root)
    ve.create()
    ve.start()
    there = ovz.VE(18130, to)
    try:
        ve.exec("echo kept > /root/note")
        here_end, there_end = socket.socketpair()
        with here_end, there_end:
            outcome = receive_on_thread(there_end, to)
            ve.migrate(here_end.fileno())
            assert outcome() == {"ctid": 18130}
        assert ve.status.state == "absent"
        assert there.status.state == "running"
        assert there.exec("cat /root/note")[1] == "kept\n"

        # Back into a root that has it: refused, and the VE runs on here.
        ve.create()
        ve.start()
        here_end, there_end = socket.socketpair()
        with here_end, there_end:
            outcome = receive_on_thread(there_end, to)
            with pytest.raises(ovz.PeerFailed, match="exists in"):
                ve.migrate(here_end.fileno())
            assert isinstance(outcome()["error"], ovz.Exists)
        assert ve.status.state == "running"
    finally:
        if there.status.state == "running":
            there.stop(fast=True)
        if there.status.state != "absent":
            there.destroy()
