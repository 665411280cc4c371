"""VE networking from Python: routed addresses and bridged devices.

Every test runs in a child process that first moves into a network namespace of its own
(Python 3.11 has no os.unshare: libc's, through ctypes), the stand-in host, so nothing it
does reaches a real interface. CTIDs 9450-9499, 11730.
"""

import ctypes
import functools
import os
import traceback

import pytest

import ovz

CLONE_NEWNET = 0x40000000

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs and network namespaces: needs root"
)


def in_own_netns(test):
    """Runs the test in a forked child inside a new network namespace; its failure, with
    the traceback, fails the test here."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            status = 0
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.unshare(CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
                test(*args, **kwargs)
            except BaseException:
                os.write(write_end, traceback.format_exc().encode())
                status = 1
            os._exit(status)
        os.close(write_end)
        report = b""
        while chunk := os.read(read_end, 65536):
            report += chunk
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            pytest.fail("in the test's own network namespace:\n" + report.decode())

    return run


def sh(ve, line):
    code, out, err = ve.exec(["/bin/sh", "-c", line])
    return code, out + err


@needs_root
@in_own_netns
def test_routed_addresses_between_two_ves(root):
    a, b = ovz.VE(9450, root), ovz.VE(9451, root)
    a.create()
    b.create()
    a.add_ip("10.94.50.1", save=True)
    a.add_ip("fd00:94::1", save=True)
    b.add_ip("10.94.51.1", save=True)
    assert a.network() == {"ip_addresses": ["10.94.50.1", "fd00:94::1"], "netifs": []}
    assert a.config["IP_ADDRESS"] == "10.94.50.1 fd00:94::1"
    with a.started(), b.started():
        code, out = sh(a, "ip addr show venet0")
        assert code == 0 and "10.94.50.1/32" in out and "fd00:94::1/128" in out
        assert "10.94.51.1" not in out
        code, out = sh(b, "nc -ll -p 9451 -e /bin/cat </dev/null >/dev/null 2>&1 & "
                          "for i in $(seq 100); do netstat -ltn | grep -q ':9451 ' && exit 0; "
                          "sleep 0.1; done; exit 1")
        assert code == 0, out
        code, out = sh(a, "echo routed | nc -w 5 10.94.51.1 9451")
        assert (code, out) == (0, "routed\n")
        a.add_ip("10.94.50.2")
        assert sh(b, "ping -c 1 -W 5 10.94.50.2")[0] == 0
        a.del_ip("10.94.50.2")
        assert "10.94.50.2" not in sh(a, "ip addr show venet0")[1]
        assert a.network()["ip_addresses"] == ["10.94.50.1", "fd00:94::1"]
    a.del_all_ips(save=True)
    assert a.network()["ip_addresses"] == []


@needs_root
@in_own_netns
def test_bridged_devices(root):
    a, b = ovz.VE(9452, root), ovz.VE(9453, root)
    a.create()
    b.create()
    a.add_netif("eth0", bridge="br945", save=True)
    b.add_netif("eth0,02:00:00:00:94:53,vethpy9453,,br945", save=True)
    (dev,) = a.network()["netifs"]
    assert dev["host_ifname"] == "veth9452.0" and dev["bridge"] == "br945"
    assert dev["mac"].startswith("02:")
    with a.started(), b.started():
        assert sh(a, "ip addr add 10.94.52.1/24 dev eth0")[0] == 0
        assert sh(b, "ip addr add 10.94.52.2/24 dev eth0")[0] == 0
        code, out = sh(a, "ping -c 1 -W 5 10.94.52.2")
        assert code == 0, out
        assert "02:00:00:00:94:53" in sh(a, "ip neigh show 10.94.52.2")[1]
        a.del_netif("eth0")
        assert sh(a, "ip link show eth0")[0] != 0


@needs_root
@in_own_netns
def test_bad_network_input_changes_nothing(root):
    a, b = ovz.VE(9454, root), ovz.VE(9455, root)
    a.create()
    b.create()
    b.add_ip("10.94.55.1", save=True)
    before = a.config
    with pytest.raises(ovz.InvalidArgument, match="Invalid IP address"):
        a.add_ip("10.94.300.1")
    with pytest.raises(ovz.InvalidArgument, match="loopback"):
        a.add_ip("127.0.0.9", save=True)
    with pytest.raises(ovz.Exists, match="already used by VE 9455"):
        a.add_ip("10.94.55.1", save=True)
    with pytest.raises(ovz.NotFound, match="no network device eth3"):
        a.del_netif("eth3", save=True)
    with pytest.raises(ovz.NotFound, match="no address 10.94.54.9"):
        a.del_ip("10.94.54.9", save=True)
    with pytest.raises(ovz.InvalidArgument, match="MAC"):
        a.add_netif("eth0", mac="nonsense", save=True)
    with pytest.raises(ovz.InvalidArgument, match="not a bridge"):
        a.add_netif("eth0", bridge="lo", save=True)
    assert a.config == before


@needs_root
@in_own_netns
def test_network_changes_in_one_apply(root):
    ve = ovz.VE(11730, root)
    ve.create()
    with ve.started():
        ve.apply(hostname="pynet", numproc=200, ipadd=["10.117.30.1", "fd00:117:30::1"],
                 netif_add=["eth0"], save=True)
        code, out = sh(ve, "hostname; ip addr show venet0; ip link show eth0")
        assert code == 0 and "pynet" in out and "10.117.30.1/32" in out, out
        assert ve.network()["ip_addresses"] == ["10.117.30.1", "fd00:117:30::1"]
        assert [d["ifname"] for d in ve.network()["netifs"]] == ["eth0"]
        before = ve.config
        with pytest.raises(ovz.InvalidArgument, match="Invalid IP address"):
            ve.apply(ipadd=["10.117.300.1"], save=True)
        # lo is no bridge: refused after the deletions were made live, which are undone.
        with pytest.raises(ovz.InvalidArgument, match="not a bridge"):
            ve.apply(hostname="other", ipdel=["all"], netif_del=["eth0"],
                     netif_add=["eth1,,,,lo"], save=True)
        code, out = sh(ve, "hostname; ip addr show venet0; ip link show eth0")
        assert code == 0 and "pynet" in out and "10.117.30.1/32" in out, out
        assert "fd00:117:30::1/128" in out
        assert ve.config == before
        ve.apply(ipdel=["10.117.30.1"], netif_del=["eth0"], save=True)
        assert ve.network() == {"ip_addresses": ["fd00:117:30::1"], "netifs": []}
        assert sh(ve, "ip link show eth0")[0] != 0
