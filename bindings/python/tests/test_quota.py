"""Disk quota through the ovz module: create with a diskspace, VE.quota(), set() of the disk
settings (grown live, shrunk stopped, refused without an image or for what the kernel cannot
enforce), df inside. CTIDs 9820-9839."""

import os

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def df_blocks(ve):
    """The 1024-blocks column of `df -P /` inside the running VE."""
    code, out, err = ve.exec("df -P / | tail -n 1")
    assert code == 0, err
    return int(out.split()[1])


def loops_under(root):
    """The loop devices whose backing file lies under `root`."""
    found = []
    for name in os.listdir("/sys/block"):
        try:
            with open(f"/sys/block/{name}/loop/backing_file") as f:
                if f.read().startswith(str(root)):
                    found.append(name)
        except OSError:
            pass
    return found


# No root needed: these are refused before anything is touched.


def test_bad_disk_values_are_refused_naming_the_setting(tmp_path):
    ve = ovz.VE(9820, tmp_path)
    for kwargs, match in [
        ({"diskspace": "2G:1G"}, "diskspace: .*above hard limit"),
        ({"diskspace": (2048, 1024)}, "diskspace"),
        ({"diskspace": "1M"}, "diskspace: .*below the minimum"),
        ({"diskinodes": 100}, "diskinodes: .*below the minimum"),
        ({"diskinodes": "1K"}, "diskinodes: .*unknown suffix"),
        ({"diskspace": "unlimited"}, "diskspace"),
    ]:
        with pytest.raises(ovz.InvalidArgument, match=match):
            ve.set(**kwargs)
        with pytest.raises(ovz.InvalidArgument, match=match):
            ve.create(**kwargs)
    with pytest.raises(TypeError, match="quotatime"):
        ve.set(quotatime="1h")
    with pytest.raises(TypeError, match="quotaugidlimit"):
        ve.create(quotaugidlimit=1.5)
    assert ve.status.state == "absent"


def test_quota_records_are_not_constructible():
    for cls in (ovz.DiskQuota, ovz.DiskUsage, ovz.UgidQuota):
        with pytest.raises(TypeError):
            cls()


@needs_root
def test_quota_of_a_ve_with_an_image(root):
    ve = ovz.VE(9821, root)
    ve.create(diskspace="100M:120M", diskinodes=(20000, 24000), quotatime=600)
    conf = ve.config
    assert conf["DISKSPACE"] == "102400:122880"
    assert conf["DISKINODES"] == "20000:24000"
    assert conf["QUOTATIME"] == "600"
    params = ve.params()
    assert params["diskspace"] == (102400, 122880)
    assert params["diskinodes"] == (20000, 24000)
    assert params["quotatime"] == 600

    q = ve.quota()
    assert (q.blocks.soft, q.blocks.hard) == (102400, 122880)
    assert (q.inodes.soft, q.inodes.hard) == (20000, 24000)
    assert 0 < q.blocks.usage < q.blocks.hard
    assert 0 < q.inodes.usage < q.inodes.hard
    assert q.blocks.grace is None and q.inodes.grace is None
    assert q.quotatime == 600
    assert q.soft_enforced == ovz.kernel_keeps_disk_quota()
    lines = str(q).splitlines()
    assert lines[0].split() == ["resource", "usage", "softlimit", "hardlimit", "grace"]
    assert lines[1].split() == ["1k-blocks", str(q.blocks.usage), "102400", "122880"]
    assert lines[2].split() == ["inodes", str(q.inodes.usage), "20000", "24000"]
    assert repr(q).startswith("DiskQuota(blocks=DiskUsage(usage=")

    with ve.started():
        before = df_blocks(ve)
        assert 122880 * 0.8 < before <= 122880, "df inside shows the image, not the host"
        try:
            ve.set(diskspace="150M:180M", save=True)
        except ovz.Unsupported as e:
            # The kernel grows a mounted ext4 only for a caller with CAP_SYS_RESOURCE.
            print("no CAP_SYS_RESOURCE: the disk grows only while the VE is stopped")
            assert "CAP_SYS_RESOURCE" in str(e)
            assert ve.config["DISKSPACE"] == "102400:122880"
            assert df_blocks(ve) == before
            ve.stop(fast=True)
            ve.set(diskspace="150M:180M")
            ve.start()
        after = df_blocks(ve)
        assert before + 50 * 1024 < after <= 184320, "grown"
        assert ve.quota().blocks.hard == 184320
        assert ve.config["DISKSPACE"] == "153600:184320"
        # Shrinking needs the VE stopped; refused, it changes nothing.
        with pytest.raises(ovz.Error) as refused:
            ve.set(diskspace="60M:70M", save=True)
        assert not isinstance(refused.value, ovz.InvalidArgument)
        assert ve.config["DISKSPACE"] == "153600:184320"
        assert ve.quota().blocks.hard == 184320
        assert df_blocks(ve) == after
        needs = "QUOTAUGIDLIMIT" if ovz.kernel_keeps_disk_quota() else "quota feature"
        with pytest.raises(ovz.Unsupported, match=needs):
            ve.set_ugid_quota(user=1000, blocks="1M")
        with pytest.raises(ovz.InvalidArgument):
            ve.set_ugid_quota(user=1000, group=1000, blocks=1024)
        if ve.quota().soft_enforced:
            owners = [q.owner for q in ve.ugid_quotas()]
            assert ("user", 0) in owners and ("group", 0) in owners
        else:
            with pytest.raises(ovz.Unsupported):
                ve.ugid_quotas()
            with pytest.raises(ovz.Unsupported, match="(?i)quotaugidlimit"):
                ve.set(quotaugidlimit=100, save=True)
            assert "QUOTAUGIDLIMIT" not in ve.config

    ve.set(diskspace=(61440, 71680))
    q = ve.quota()
    assert q.blocks.hard == 71680 and q.blocks.usage < q.blocks.hard
    assert ve.config["DISKSPACE"] == "61440:71680"
    ve.apply(diskspace="80M:90M", quotatime=60, save=True)
    q = ve.quota()
    assert (q.blocks.hard, q.quotatime) == (92160, 60)
    assert ve.config["QUOTATIME"] == "60"
    # set(**params()) changes nothing.
    ve.set(**ve.params())
    assert ve.quota().blocks.hard == 92160

    ve.destroy()
    assert loops_under(root) == []
    with pytest.raises(ovz.Error):
        ve.quota()


@needs_root
def test_a_ve_without_an_image_has_no_quota_until_a_diskspace(root):
    ve = ovz.VE(9830, root)
    ve.create()
    with pytest.raises(ovz.Unsupported):
        ve.quota()
    for kwargs in ({"diskinodes": 100000}, {"quotatime": 60}):
        with pytest.raises(ovz.Unsupported):
            ve.set(save=True, **kwargs)
    conf = ve.config
    assert not {"DISKSPACE", "DISKINODES", "QUOTATIME"} & conf.keys()
    assert "diskspace" not in ve.params()
    # A diskspace moves the stopped VE's files onto a disk image of its own.
    ve.set(diskspace="64M", save=True)
    assert ve.quota().blocks.hard == 65536


@needs_root
def test_a_watcher_reports_disk_usage_above_the_soft_limits(root):
    ve = ovz.VE(9822, root)
    ve.create(diskspace="16M:64M", diskinodes=(1100, 4096))
    with ve.started(), ve.watch_beancounters(poll_interval=0.1) as watcher:
        assert watcher.next(timeout=0.3) is None
        ve.exec("dd if=/dev/zero of=/big bs=1M count=24; sync")
        event = watcher.next(timeout=5)
        assert event is not None, "no event within 5 s of going above the soft diskspace"
        assert (event.ctid, event.resource, event.failcnt, event.previous) == (
            9822, "diskspace", 1, 0)
        assert "diskspace" in repr(event)
        ve.exec("mkdir /many && cd /many && seq 1 1200 | xargs touch")
        event = watcher.next(timeout=5)
        assert event is not None and event.resource == "diskinodes"
