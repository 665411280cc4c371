"""VE.watch_beancounters(): a VE's refusals reach Python as they happen, through next(),
iteration and a selector. CTIDs 13820-13829."""

import os
import selectors
import threading

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def test_bad_intervals_and_timeouts_are_refused(tmp_path):
    ve = ovz.VE(13820, tmp_path)
    for bad in (0, -1, float("nan")):
        with pytest.raises(ovz.InvalidArgument):
            ve.watch_beancounters(poll_interval=bad)


@needs_root
def test_a_memory_hog_and_a_fork_bomb_reach_the_watcher(root):
    ve = ovz.VE(13821, root)
    ve.create()
    with ve.started(), ve.watch_beancounters(poll_interval=0.2) as watcher:
        assert watcher.next(timeout=0.3) is None
        with pytest.raises(ovz.InvalidArgument):
            watcher.next(timeout=-1)
        sel = selectors.DefaultSelector()
        sel.register(watcher, selectors.EVENT_READ)
        assert sel.select(timeout=0) == []

        # dd fills a buffer of its block size: 64 MiB cannot fit under 32.
        ve.set(physpages="0:32M")
        assert ve.exec("dd if=/dev/zero of=/dev/null bs=64M count=1")[0] != 0
        assert sel.select(timeout=5), "no event within 5 s of the memory hog"
        event = watcher.next(timeout=0)
        assert (event.ctid, event.resource, event.previous) == (13821, "physpages", 0)
        assert event.failcnt > 0

        # More processes than numproc allows. The iteration waits as long as it takes: a
        # close() from another thread ends it should the event never come.
        ve.set(numproc=10)
        ve.exec("for i in $(seq 15); do sleep 1 & done; wait")
        guard = threading.Timer(10, watcher.close)
        guard.start()
        try:
            numproc = next(e for e in watcher if e.resource == "numproc")
        except StopIteration:
            pytest.fail("no numproc event within 10 s of the fork bomb")
        finally:
            guard.cancel()
        assert numproc.ctid == 13821 and numproc.failcnt > numproc.previous
        assert "numproc" in repr(numproc)
        sel.close()
    assert watcher.closed
    with pytest.raises(ValueError):
        watcher.next(timeout=0)
    assert list(watcher) == []


@needs_root
def test_close_from_another_thread_ends_an_iteration(root):
    ve = ovz.VE(13822, root)
    ve.create()
    with ve.started():
        watcher = ve.watch_beancounters()
        threading.Timer(0.5, watcher.close).start()
        assert list(watcher) == []
        assert watcher.closed
