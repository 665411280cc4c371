"""VE.migrate() and ovz.receive_ve() against real VEs: a running VE moves to another state
root over a socket pair (the receiving side on a thread), and a receiver that has the CTID
refuses before anything moves; a lost last answer leaves it stopped here. CTIDs
18130-18139."""

import contextlib
import os
import socket
import struct
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


def take_all_and_vanish(sock):
    """A receiver whose last answer is lost: ready to the hello, every frame (u32 type and
    u64 length, little-endian, then the payload) taken up to done, then gone."""

    def exactly(n):
        data = b""
        while len(data) < n:
            got = sock.recv(n - len(data))
            if not got:
                raise EOFError
            data += got
        return data

    first = True
    while True:
        kind, length = struct.unpack("<IQ", exactly(12))
        exactly(length)
        if first:
            sock.sendall(struct.pack("<IQ", 2, 0))
            first = False
        if kind == 7:
            break
    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def running_ve(ctid, root):
    """A VE created and started here, and gone after, whatever the move left of it."""
    ve = ovz.VE(ctid, root)
    ve.create()
    ve.start()
    try:
        yield ve
    finally:
        if ve.status.state == "running":
            ve.stop(fast=True)
        if ve.status.state != "absent":
            ve.destroy()


@needs_root
def test_a_lost_last_answer_leaves_the_ve_stopped_here(root):
    with running_ve(18131, root) as ve:
        here_end, there_end = socket.socketpair()
        with here_end, there_end:
            t = threading.Thread(target=take_all_and_vanish, args=(there_end,))
            t.start()
            with pytest.raises(ovz.InDoubt, match="may run there"):
                ve.migrate(here_end.fileno())
            t.join()
        assert ve.status.state == "stopped"


def answer_ready_then_hang(sock, released):
    """A receiver that hangs: ready to the hello, then neither reads nor speaks."""
    kind, length = struct.unpack("<IQ", sock.recv(12, socket.MSG_WAITALL))
    sock.recv(length, socket.MSG_WAITALL)
    sock.sendall(struct.pack("<IQ", 2, 0))
    released.wait()


@needs_root
def test_a_target_that_hangs_is_given_up_after_the_timeout(root):
    with running_ve(18132, root) as ve:
        here_end, there_end = socket.socketpair()
        # A few KiB in flight: the VE's files cannot all go into the buffers.
        here_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        released = threading.Event()
        with here_end, there_end:
            t = threading.Thread(target=answer_ready_then_hang, args=(there_end, released))
            t.start()
            try:
                with pytest.raises(ovz.TimedOut, match="it runs here again"):
                    ve.migrate(here_end.fileno(), timeout=1.0)
            finally:
                released.set()
                t.join()
        assert ve.status.state == "running"
