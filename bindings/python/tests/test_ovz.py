"""The ovz Python module against real VEs on this kernel.

Each test has a state root of its own under pytest's tmp_path and CTIDs of its own in
9400-9449, 9490-9499 for user namespaces, 11390-11399 for config samples, 11610-11619 for
threads, 13830-13839 for exec and restart options, 14620-14629 for the console (cgroups are named by CTID, so the ranges
keep clear of the C++ suites). Tests that make VEs need root and are skipped without it.
"""

import errno
import fcntl
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


# No root needed: these fail before anything needs privileges.


def test_bad_ctid_is_invalid_argument(tmp_path):
    for bad in (0, -1, 2**31, "abc", "0101"):
        with pytest.raises(ovz.InvalidArgument) as info:
            ovz.VE(bad, tmp_path)
        assert info.value.code == "invalid_argument"
        assert info.value.errno == 0
        assert "CTID" in str(info.value)
    with pytest.raises(TypeError):
        ovz.VE(1.5, tmp_path)


def test_ctid_from_str_and_handle_paths(tmp_path):
    ve = ovz.VE("9400", tmp_path)
    assert ve.ctid == 9400
    assert ve.root == tmp_path
    assert ve.conf_path == tmp_path / "conf" / "9400.conf"
    assert ve.private_path == tmp_path / "private" / "9400"
    assert ve.status.state == "absent"


def test_error_hierarchy():
    names = [
        "InvalidArgument", "NotFound", "Exists", "AlreadyRunning", "NotRunning", "Locked",
        "BadConfig", "Unsupported", "TimedOut", "ChildFailed", "OvzSystemError",
    ]
    for name in names:
        assert issubclass(getattr(ovz, name), ovz.Error), name
    assert issubclass(ovz.OvzSystemError, OSError)
    assert not issubclass(ovz.NotFound, OSError)


def test_names_that_shadowed_builtins_are_kept_as_aliases():
    assert ovz.list is ovz.list_ves
    assert ovz.SystemError is ovz.OvzSystemError
    assert ovz.OvzSystemError.__name__ == "OvzSystemError"
    star = {}
    exec("from ovz import *", star)
    assert "list" not in star and "SystemError" not in star
    assert star["list_ves"] is ovz.list_ves


def test_bad_config_is_bad_config(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "9401.conf").write_text("not a KEY=value line\n")
    with pytest.raises(ovz.BadConfig) as info:
        ovz.VE(9401, tmp_path).config
    assert info.value.code == "bad_config"
    assert info.value.errno == 0
    assert "line 1" in str(info.value)


def test_kernel_refusal_is_system_error(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(ovz.OvzSystemError) as info:
        ovz.VE(9402, not_a_dir).create()
    assert info.value.code == "system"
    assert info.value.errno == errno.ENOTDIR
    assert isinstance(info.value, OSError)


def test_set_refuses_bad_names_and_values(tmp_path):
    ve = ovz.VE(9403, tmp_path)
    for changes in ({"bogus": 1}, {"numproc": -1}, {"numproc": (5, 2)}, {"numproc": "x"},
                    {"cpuunits": -1}, {"cpuunits": 2**40}):
        with pytest.raises(ovz.InvalidArgument):
            ve.set(**changes)
    with pytest.raises(TypeError):
        ve.set(numproc=1.5)


def test_module_functions(tmp_path):
    assert ovz.version.count(".") == 2
    assert ovz.UNLIMITED == 2**63 - 1
    assert ovz.list_ves(tmp_path) == []
    assert "busybox" in [t.name for t in ovz.templates(tmp_path)]
    assert ovz.user_beancounters(tmp_path).startswith("Version: 2.5")
    assert ovz.all_beancounters(tmp_path) == {}
    # systemd makes them only where it is the init (its runtime directory exists).
    if not os.path.isdir("/run/systemd/system"):
        assert ovz.cgroup_manager() == "cgroupfs"
    else:
        assert ovz.cgroup_manager() in ("cgroupfs", "systemd")


# Real VEs.


@needs_root
def test_whole_life(root):
    ve = ovz.VE(9410, root)
    ve.create(hostname="py-life")
    st = ve.status
    assert (st.ctid, st.state) == (9410, "stopped")
    assert (st.hostname, st.ostemplate) == ("py-life", "busybox")
    assert ve.config["HOSTNAME"] == "py-life"
    assert [s.ctid for s in ovz.list_ves(root)] == [9410]

    ve.start()
    st = ve.status
    assert st.state == "running"
    assert st.init_pid > 0
    assert st.nproc >= 1
    assert ve.exec(["hostname"])[1].strip() == "py-life"

    ve.set_hostname("py-renamed", save=True)
    assert ve.exec("hostname")[1].strip() == "py-renamed"
    assert ve.config["HOSTNAME"] == "py-renamed"

    ve.restart()
    assert ve.status.state == "running"
    assert ve.exec("hostname")[1].strip() == "py-renamed"

    ve.stop(timeout=5.0)
    assert ve.status.state == "stopped"
    assert ve.run(["/bin/sh", "-c", "exit 7"]) == 7
    assert ve.status.state == "stopped"

    ve.destroy()
    assert ve.status.state == "absent"
    assert ovz.list_ves(root) == []


@needs_root
def test_plan_is_what_start_would_do(root):
    ve = ovz.VE(13620, root)
    ve.create(hostname="py-plan")
    plan = ve.plan()
    assert "hostname     py-plan\n" in plan
    assert "init         /sbin/init\n" in plan
    assert "init         /bin/sh -c sleep 1\n" in ve.plan("sleep 1")
    assert ve.status.state == "stopped"
    ve.destroy()
    with pytest.raises(ovz.NotFound):
        ve.plan()


@needs_root
def test_exec_exit_code_and_output(root):
    ve = ovz.VE(9411, root)
    ve.create()
    with ve.started():
        assert ve.exec("echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")
        assert ve.exec(["echo", "a  b"]) == (0, "a  b\n", "")
        code, _, _ = ve.exec(["/bin/sh", "-c", "kill -9 $$"])
        assert code == 128 + 9
        with pytest.raises(ovz.InvalidArgument):
            ve.exec([])
        # started: the command's PID, for the caller to signal it meanwhile.
        told = []

        def terminate(pid):
            told.append(pid)
            os.kill(pid, signal.SIGTERM)

        assert ve.exec("exec sleep 30", started=terminate)[0] == 128 + signal.SIGTERM
        assert len(told) == 1 and told[0] > 0
        # A callable that raises: the command runs to its end, then the error comes.
        with pytest.raises(ZeroDivisionError):
            ve.exec("true", started=lambda pid: 1 / 0)


@needs_root
def test_root_of_a_ve_sets_its_hostname_and_mounts_tmpfs(root):
    ve = ovz.VE(9500, root)
    ve.create()
    host = socket.gethostname()
    with ve.started():
        # Its monitor does both for it: from a process of an embedding program too.
        assert ve.exec(["hostname", "py-renamed"])[0] == 0
        assert ve.exec("hostname") == (0, "py-renamed\n", "")
        code, out, _ = ve.exec("mkdir -p /srv/t && mount -t tmpfs -o size=1M tmpfs /srv/t && "
                               "grep -c ' /srv/t ' /proc/self/mountinfo && umount /srv/t")
        assert (code, out) == (0, "1\n")
        assert ve.exec("mount --bind /etc /srv/t")[0] != 0
    assert socket.gethostname() == host


@needs_root
def test_console_gets_what_the_ve_writes_and_detaches(root):
    ve = ovz.VE(14620, root)
    ve.create()
    with pytest.raises(ovz.NotRunning):
        ve.open_console()
    with ve.started():
        with socket.socket(fileno=ve.open_console()) as console:
            assert ve.exec("echo console-$((6*7)) > /dev/console")[0] == 0
            console.settimeout(10)
            seen = b""
            while b"console-42" not in seen:
                chunk = console.recv(4096)
                assert chunk, f"console closed after {seen!r}"
                seen += chunk
        typed_r, typed_w = os.pipe()
        shown_r, shown_w = os.pipe()
        os.write(typed_w, b"\x1b.")
        try:
            assert ve.console(in_fd=typed_r, out_fd=shown_w) is True
        finally:
            for fd in (typed_r, typed_w, shown_r, shown_w):
                os.close(fd)


@needs_root
def test_exec_with_environment_directory_and_descriptors(root, tmp_path):
    ve = ovz.VE(13830, root)
    ve.create()
    with ve.started():
        script = "echo $GREETING $HOME; pwd; echo oops >&2"
        assert ve.exec(script, env={"GREETING": "hello"}, cwd="/etc") == (
            0, "hello\n/etc\n", "oops\n")
        with open(tmp_path / "out", "w+") as f:
            assert ve.exec(script, env={"GREETING": "hi"}, stdout=f) == (0, "", "oops\n")
            f.seek(0)
            assert f.read() == "hi\n/\n"
        r, w = os.pipe()
        os.write(w, b"from the host\n")
        os.close(w)
        try:
            assert ve.exec("cat", stdin=r)[1] == "from the host\n"
        finally:
            os.close(r)
        with pytest.raises(ovz.OvzSystemError) as info:
            ve.exec("true", cwd="/no/such/dir")
        assert info.value.errno == errno.ENOENT
        with pytest.raises(ovz.InvalidArgument):
            ve.exec("true", env={"A=B": "c"})
        with pytest.raises(TypeError):
            ve.exec("true", stdout="not a file")

        ve.restart(fast=True, init="exec sleep 1000")
        assert ve.exec(["cat", "/proc/1/comm"])[1] == "sleep\n"


@needs_root
def test_set_numproc_shows_in_beancounters(root):
    ve = ovz.VE(9412, root)
    ve.create()
    with ve.started():
        ve.set(numproc=64, save=True)
        numproc = {b.resource: b for b in ve.beancounters()}["numproc"]
        assert (numproc.barrier, numproc.limit) == (64, 64)
        assert numproc.held >= 1
        assert ve.config["NUMPROC"] == "64:64"
        assert ve.params()["numproc"] == (64, 64)
        assert "numproc" in ovz.user_beancounters(root)
        assert [b.resource for b in ovz.all_beancounters(root)[9412]][:1] == ["kmemsize"]

        ve.set(numproc=(32, 48), cpuunits=500, save=True)
        numproc = {b.resource: b for b in ve.beancounters()}["numproc"]
        assert (numproc.barrier, numproc.limit) == (32, 48)
        assert ve.params()["cpuunits"] == 500

        # Live only: the kernel's limit, a barrier no higher; CTID.conf unchanged.
        ve.set(numproc=24, physpages="0:128M")
        live = {b.resource: b for b in ve.beancounters()}
        assert (live["numproc"].barrier, live["numproc"].limit) == (24, 24)
        assert live["physpages"].limit == 32768
        assert ve.params()["numproc"] == (32, 48)
    # A stopped VE keeps what it is given in CTID.conf, save or not.
    ve.set(physpages="0:256M")
    assert ve.params()["physpages"] == (0, 65536)
    ve.set(**ve.params())
    assert ve.config["NUMPROC"] == "32:48"


@needs_root
def test_cpu_time_counts_what_the_ve_ran(root):
    ve = ovz.VE(9491, root)
    with pytest.raises(ovz.NotFound):
        ve.cpu_time()
    ve.create()
    assert ve.cpu_time() == 0.0
    with ve.started():
        before = ve.cpu_time()
        t0 = time.monotonic()
        code, _, _ = ve.exec(["/bin/sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"])
        wall = time.monotonic() - t0
        assert code == 0
        used = ve.cpu_time() - before
        # One process on one CPU: a good part of the wall time, never more than it.
        assert wall / 4 < used <= wall + 0.02, (used, wall)
    assert ve.cpu_time() == 0.0


def _lxcfs_runs():
    meminfo = os.path.join(os.environ.get("OVZ_LXCFS") or "/var/lib/lxcfs", "proc", "meminfo")
    # FUSE underneath: LXCFS runs there.
    r = subprocess.run(["stat", "-f", "-c", "%t", meminfo], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == "65735546"


def test_view_backends_name_what_serves_each_view():
    b = ovz.view_backends()
    timens = os.path.exists("/proc/self/ns/time")
    lxcfs = _lxcfs_runs()
    assert b["module_loaded"] == os.path.exists("/dev/ovz")
    if b["module_loaded"]:
        assert (b["uptime"], b["proc"]) == ("ovz module", "ovz module")
    else:
        assert b["uptime"] == ("time namespace" if timens else "LXCFS" if lxcfs else "host")
        assert b["proc"] == ("LXCFS" if lxcfs else "host")
    assert b["beancounters"] == "cgroup files"
    if b["module_loaded"]:
        assert b["module"].startswith("ABI 1.")
    else:
        assert b["module"] == "not loaded"


@needs_root
def test_tune_host_tunes_once():
    try:
        ovz.tune_host()
    except ovz.Unsupported as e:
        pytest.skip(str(e))
    assert ovz.tune_host() is False
    with open("/proc/self/mountinfo") as f:
        cgroup2 = [line.split(" - ")[1].split() for line in f if " - cgroup2 " in line]
    if cgroup2:
        assert "favordynmods" in cgroup2[0][2].split(",")


def numproc_settled(reader, ctid):
    for _ in range(250):
        held = {b.resource: b for b in reader.read()[ctid]}["numproc"].held
        if held <= 1:
            break
        time.sleep(0.02)
    return held


@needs_root
def test_beancounter_reader_follows_the_ves(root):
    module = ovz.view_backends()["module"].startswith("ABI 1.")
    with ovz.BeancounterReader(root) as reader:
        assert reader.backend == ("ovz module + cgroup files" if module else "cgroup files")
        assert reader.read() == {}
        ve = ovz.VE(9420, root)
        ve.create()
        with ve.started():
            # Counted from when the template's rcS has ended and init is alone.
            before = numproc_settled(reader, 9420)
            ve.exec(["/bin/sh", "-c", "for i in 1 2 3; do sleep 300 </dev/null >/dev/null 2>&1 & done"])
            ve.set(numproc=80)
            numproc = {b.resource: b for b in reader.read()[9420]}["numproc"]
            assert numproc.held >= before + 3
            assert (numproc.barrier, numproc.limit) == (80, 80)
        assert reader.read() == {}
    assert reader.closed
    with pytest.raises(ValueError):
        reader.read()
    with ovz.BeancounterReader(root, files_only=True) as files:
        assert files.backend == "cgroup files"


@needs_root
def test_create_from_a_sample_and_apply_several_settings(root):
    with pytest.raises(ovz.NotFound):
        ovz.VE(11391, root).create(config="nosuch")
    ve = ovz.VE(11390, root)
    ve.create(config="light")
    assert ve.config["NUMPROC"] == "100:100"
    assert ve.config["ORIGIN_SAMPLE"] == "light"
    with ve.started():
        ve.apply(hostname="both", numproc=200, save=True)
        assert ve.exec("hostname")[1] == "both\n"
        assert (ve.config["HOSTNAME"], ve.config["NUMPROC"]) == ("both", "200:200")
        with pytest.raises(ovz.InvalidArgument):
            ve.apply(hostname="neither", numproc=0, save=True)
        assert ve.exec("hostname")[1] == "both\n"
        assert ve.config["NUMPROC"] == "200:200"


@needs_root
def test_security_settings(root):
    ve = ovz.VE(9418, root)
    ve.create()
    assert ve.security() == {
        "capability": {},
        "devnodes": {},
        "seccomp_profile": "default",
        "no_new_privs": False,
    }
    with ve.started():
        ve.set_security(devnodes={"kmsg": "w"})
        assert ve.exec("test -c /dev/kmsg")[0] == 0
        assert ve.exec("head -c 1 /dev/kmsg")[0] != 0  # granted write-only
        with pytest.raises(ovz.InvalidArgument):
            ve.set_security(no_new_privs=True)  # running processes cannot change
        ve.set_security(no_new_privs=True, capability={"CAP_CHOWN": False}, save=True)
        assert ve.exec("grep NoNewPrivs /proc/self/status")[1].split() == ["NoNewPrivs:", "1"]
        assert ve.exec("touch /f && chown 1 /f")[0] != 0
        with pytest.raises(ovz.InvalidArgument):
            ve.set_security(devnodes={"../etc/passwd": "r"})
        with pytest.raises(ovz.InvalidArgument):
            ve.set_security(capability={"bogus": True}, save=True)
        with pytest.raises(TypeError):
            ve.set_security(capability={"chown": "on"}, save=True)
    settings = ve.security()
    assert settings["capability"] == {"chown": False}
    assert settings["devnodes"] == {}  # the live grant was not saved
    assert settings["no_new_privs"] is True
    ve.set_security(**settings)
    assert ve.security() == settings


@needs_root
def test_errors_of_the_life_cycle(root):
    ve = ovz.VE(9413, root)
    with pytest.raises(ovz.NotFound) as info:
        ve.start()
    assert (info.value.code, info.value.errno) == ("not_found", 0)
    assert "9413" in str(info.value)

    ve.create()
    with pytest.raises(ovz.Exists) as info:
        ve.create()
    assert (info.value.code, info.value.errno) == ("already_exists", 0)

    with pytest.raises(ovz.NotRunning) as info:
        ve.exec(["true"])
    assert (info.value.code, info.value.errno) == ("not_running", 0)
    with pytest.raises(ovz.NotRunning):
        ve.stop()

    with pytest.raises(ovz.NotFound) as info:
        ovz.VE(9414, root).create(ostemplate="no-such-template")
    assert info.value.code == "not_found"

    with ve.started():
        with pytest.raises(ovz.AlreadyRunning) as info:
            ve.start()
        assert (info.value.code, info.value.errno) == ("already_running", 0)
        with pytest.raises(ovz.AlreadyRunning):
            ve.destroy()


@needs_root
def test_locked_while_another_holds_the_lock(root):
    ve = ovz.VE(9415, root)
    ve.create()
    # The library's lock is an flock on lock/CTID.lck; holding it stands in for another
    # process in the middle of an operation.
    with open(root / "lock" / "9415.lck", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(ovz.Locked) as info:
            ve.start()
        assert (info.value.code, info.value.errno) == ("locked", 0)
    assert ve.status.state == "stopped"


@needs_root
def test_started_stops_on_exception(root):
    ve = ovz.VE(9416, root)
    ve.create()
    with pytest.raises(RuntimeError, match="inside"):
        with ve.started() as inside:
            assert inside is ve
            assert ve.status.state == "running"
            raise RuntimeError("inside")
    assert ve.status.state == "stopped"

    # A block that stops the VE itself is fine too.
    with ve.started():
        ve.stop(fast=True)
    assert ve.status.state == "stopped"


@pytest.mark.tsan
@needs_root
def test_exec_releases_the_gil(root):
    ve = ovz.VE(9417, root)
    ve.create()
    with ve.started():
        ticks = []
        done = threading.Event()

        def count():
            while not done.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.005)

        window = {}

        def run_sleep():
            window["start"] = time.monotonic()
            window["result"] = ve.exec(["sleep", "1"])
            window["end"] = time.monotonic()

        counter = threading.Thread(target=count)
        counter.start()
        worker = threading.Thread(target=run_sleep)
        worker.start()
        worker.join(timeout=30)
        done.set()
        counter.join()

        assert window["result"][0] == 0
        assert window["end"] - window["start"] >= 0.9
        # With the GIL held through exec, the counter could not run at all in the middle
        # of the second; released, it ticks every few milliseconds (~100 times), and still
        # several times on a machine loaded enough to starve it.
        middle = [t for t in ticks if window["start"] + 0.25 < t < window["end"] - 0.25]
        assert len(middle) >= 5, f"{len(middle)} ticks while exec ran"


@needs_root
def test_import_template_and_create_from_it(root):
    busybox = next(t for t in ovz.templates(root) if t.name == "busybox")
    ovz.VE(9440, root).create()  # builds the busybox template
    tarball = root / "mini-1.0.tar.gz"
    subprocess.run(["tar", "-C", str(busybox.path), "-czf", str(tarball), "."], check=True)
    imported = ovz.import_template(tarball, root=root)
    assert imported.name == "mini-1.0"
    assert "mini-1.0" in [t.name for t in ovz.templates(root)]
    with pytest.raises(ovz.Exists):
        ovz.import_template(tarball, root=root)
    ve = ovz.VE(9441, root)
    ve.create(ostemplate="mini-1.0")
    assert ve.status.ostemplate == "mini-1.0"


@needs_root
def test_stop_timeout_is_saved_and_used_by_stop(root):
    ve = ovz.VE(14230, root)
    ve.create()
    with pytest.raises(ovz.InvalidArgument, match="stop_timeout"):
        ve.apply(stop_timeout=86401)
    ve.apply(stop_timeout=3)
    assert ve.config["STOP_TIMEOUT"] == "3"
    ve.start()
    ve.stop()  # busybox init powers off at once, whatever the timeout
    assert ve.status.state == "stopped"


def test_create_template_refuses_bad_requests_before_running_anything(tmp_path):
    with pytest.raises(ovz.InvalidArgument, match="bad package name '-x'"):
        ovz.create_template("deb", suite="bookworm", mirror="http://deb.debian.org/debian",
                            include=["cron", "-x"], root=tmp_path)
    with pytest.raises(ovz.InvalidArgument, match="bad mirror"):
        ovz.create_template("deb", suite="bookworm", mirror="--foreign", root=tmp_path)
    assert "deb" not in [t.name for t in ovz.templates(tmp_path)]


@needs_root
def test_userns_ve_is_root_inside_and_unprivileged_outside(root):
    # The VE's root walks to its mount point as an unprivileged host uid: pytest's 0700
    # directories must let it through.
    for d in [root, *root.parents]:
        if not d.stat().st_mode & 0o001:
            d.chmod(d.stat().st_mode | 0o001)
    ve = ovz.VE(9490, root)
    ve.create(userns=True)
    assert ve.config["USERNS"] == "yes"
    base, count = (int(n) for n in ve.config["USERNS_MAP"].split(":"))
    assert base >= 100000 and count == 65536
    ve.start()
    code, out, _ = ve.exec("id -u; cat /proc/self/uid_map")
    assert code == 0
    assert out.split() == ["0", "0", str(base), str(count)]
    uid_line = next(
        line for line in open(f"/proc/{ve.status.init_pid}/status") if line.startswith("Uid:")
    )
    assert int(uid_line.split()[1]) == base
    ve.stop(fast=True)
    ve.destroy()


@pytest.mark.tsan
@needs_root
def test_ves_live_their_whole_life_on_several_threads_at_once(root):
    failures = {}

    def life(ctid):
        try:
            ve = ovz.VE(ctid, root)
            ve.create()
            ve.start()
            for i in range(5):
                code, out, _ = ve.exec(f"echo $(({i} + 1))")
                assert (code, out) == (0, f"{i + 1}\n"), (code, out)
            assert ve.status.state == "running"
            ve.stop(fast=True)
            ve.destroy()
        except Exception as e:  # reported below, with the thread's VE
            failures[ctid] = repr(e)

    threads = [threading.Thread(target=life, args=(ctid,)) for ctid in range(11610, 11614)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a thread is still running its VE"
    assert failures == {}
    assert ovz.list_ves(root) == []
