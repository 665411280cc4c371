"""The spawn server libovz keeps per process (ovz-spawn --serve): a child of the caller's
that forks each spawn's first child. A forked caller gets its own, one that was killed is
replaced, and none outlives its caller; a caller that chose to fork (OVZ_SPAWN_HELPER=none)
starts none. CTIDs 9480-9482."""

import os
import signal
import subprocess
import sys
import time

import pytest

import ovz

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def servers_of(pid):
    """The PIDs of `pid`'s children that are spawn servers."""
    found = []
    for task in os.listdir("/proc/{}/task".format(pid)):
        with open("/proc/{}/task/{}/children".format(pid, task)) as f:
            for child in f.read().split():
                try:
                    with open("/proc/{}/comm".format(child)) as comm:
                        if comm.read().strip() == "ovz-spawnd":
                            found.append(int(child))
                except FileNotFoundError:
                    pass
    return found


def gone(pid, seconds=10):
    for _ in range(seconds * 100):
        try:
            with open("/proc/{}/stat".format(pid)) as f:
                if f.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


@needs_root
def test_one_server_per_process_replaced_when_killed_and_forked_callers_get_their_own(root):
    ve = ovz.VE(9480, root)
    ve.create()
    ve.start()
    assert ve.exec(["/bin/true"])[0] == 0
    servers = servers_of(os.getpid())
    assert len(servers) == 1
    # Every spawn goes through the same one.
    for _ in range(3):
        assert ve.exec(["/bin/true"])[0] == 0
    assert servers_of(os.getpid()) == servers

    # A forked caller's spawns go to a server of its own; the parent's stays as it was.
    child = os.fork()
    if child == 0:
        code = 1
        try:
            ok = ve.exec(["/bin/sh", "-c", "exit 4"])[0] == 4
            code = 0 if ok and len(servers_of(os.getpid())) == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert servers_of(os.getpid()) == servers

    # Killed, it is replaced at the next spawn, which works.
    os.kill(servers[0], signal.SIGKILL)
    assert gone(servers[0])
    assert ve.exec(["/bin/sh", "-c", "exit 5"])[0] == 5
    replaced = servers_of(os.getpid())
    assert len(replaced) == 1 and replaced != servers
    ve.stop(fast=True)


def children_of_a_caller(root, ctid, env=None):
    """The children a new Python process has after one exec into VE `ctid`, which runs."""
    script = (
        "import ovz, os, sys\n"
        "v = ovz.VE(int(sys.argv[2]), sys.argv[1])\n"
        "assert v.exec(['/bin/sh', '-c', 'exit 6'])[0] == 6\n"
        "for t in os.listdir('/proc/self/task'):\n"
        "    print(open('/proc/self/task/%s/children' % t).read().strip())\n"
    )
    return subprocess.run([sys.executable, "-c", script, str(root), str(ctid)], check=True,
                          capture_output=True, text=True, env=env).stdout.split()


@needs_root
def test_the_server_ends_with_its_caller(root):
    ve = ovz.VE(9481, root)
    ve.create()
    ve.start()
    out = children_of_a_caller(root, 9481)
    assert out, "the caller had no server"
    for pid in out:
        assert gone(int(pid)), "server {} outlived its caller".format(pid)
    ve.stop(fast=True)


@needs_root
def test_a_caller_that_chose_to_fork_starts_no_server(root):
    """OVZ_SPAWN_HELPER=none, as ovzctl sets it: the first child is a fork of the caller."""
    ve = ovz.VE(9482, root)
    ve.create()
    ve.start()
    out = children_of_a_caller(root, 9482, dict(os.environ, OVZ_SPAWN_HELPER="none"))
    assert out == [], "the caller started a server: {}".format(out)
    ve.stop(fast=True)
