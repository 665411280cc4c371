"""Host -> VE settings as vzctl's through the ovz module: the hostname in /etc, the resolver,
a user's password, ONBOOT and every VE started and stopped at once. CTIDs 9600-9619."""

import os

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def sh(ve, script):
    code, out, err = ve.exec(script)
    assert code == 0, err
    return out


@needs_root
def test_hostname_resolver_and_password_reach_the_ve(root):
    ve = ovz.VE(9600, root)
    ve.create(hostname="py.example.com")
    ve.apply(nameserver=["192.0.2.53"], searchdomain=["example.com"], onboot=True)
    conf = ve.config
    assert conf["NAMESERVER"] == "192.0.2.53"
    assert conf["SEARCHDOMAIN"] == "example.com"
    assert conf["ONBOOT"] == "yes"
    ve.set_user_password("erin", "py secret")
    with ve.started():
        assert sh(ve, "hostname -f") == "py.example.com\n"
        assert sh(ve, "cat /etc/resolv.conf") == "search example.com\nnameserver 192.0.2.53\n"
        assert sh(ve, "grep ^erin: /etc/passwd") == "erin:x:1000:1000::/home/erin:/bin/sh\n"
        assert sh(ve, "grep -c '^erin:\\$y\\$' /etc/shadow") == "1\n"
        # Live, not saved.
        ve.apply(hostname="live", nameserver=["2001:db8::1"])
        assert sh(ve, "hostname; cat /etc/hostname") == "live\nlive\n"
        assert sh(ve, "grep nameserver /etc/resolv.conf") == "nameserver 2001:db8::1\n"
        assert ve.config["NAMESERVER"] == "192.0.2.53"
        # Bad input changes nothing.
        with pytest.raises(ovz.InvalidArgument, match="nameserver"):
            ve.apply(nameserver=["1.2.3"], save=True)
        with pytest.raises(ovz.InvalidArgument, match="userpasswd"):
            ve.set_user_password("bad user", "x")
        assert sh(ve, "grep nameserver /etc/resolv.conf") == "nameserver 2001:db8::1\n"
        # ONBOOT is kept in CTID.conf only: unsaved on a running VE it is refused.
        with pytest.raises(ovz.InvalidArgument, match="onboot"):
            ve.apply(onboot=False)
    # An empty list removes the key.
    ve.apply(nameserver=[])
    assert "NAMESERVER" not in ve.config


@needs_root
def test_start_all_and_stop_all_report_each_ve(root):
    on, off = ovz.VE(9610, root), ovz.VE(9611, root)
    on.create()
    off.create()
    on.apply(onboot=True)
    started = ovz.start_all(root)
    assert [(e.ctid, e.done, e.failure) for e in started] == [(9610, True, None)]
    assert off.status.state == "stopped"
    again = ovz.start_all(root, onboot_only=False)
    assert [(e.ctid, e.done, e.failure) for e in again] == [(9610, False, None), (9611, True, None)]
    assert "BatchEntry(ctid=9611, done=True)" == repr(again[1])
    stopped = ovz.stop_all(root, fast=True)
    assert [(e.ctid, e.done) for e in stopped] == [(9610, True), (9611, True)]
    assert ovz.stop_all(root) == []

    # A VE that cannot start is reported with the error its own start raises; the others go on.
    conf_path = root / "conf" / "9611.conf"
    conf_path.write_text(conf_path.read_text() + 'OSTEMPLATE="no-such-template"\n')
    result = ovz.start_all(root, onboot_only=False)
    assert [(e.ctid, e.done) for e in result] == [(9610, True), (9611, False)]
    assert isinstance(result[1].failure, ovz.NotFound)
    assert "no-such-template" in str(result[1].failure)
    ovz.stop_all(root, fast=True)
