"""OCI containers from Python: ovz.OciContainer through its life on a bundle of the host's
static busybox, and its refusals. The runtime's state root is the test's own."""

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import ovz

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def make_bundle(path, script):
    rootfs = path / "fs"
    for d in ("bin", "proc", "dev"):
        (rootfs / d).mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("sh", "sleep", "echo"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    config = {
        "ociVersion": "1.0.2",
        "root": {"path": "fs"},
        "process": {"args": ["/bin/sh", "-c", script], "env": ["PATH=/bin"], "cwd": "/"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "annotations": {"org.openvz.ubc.numproc": "20:20"},
        "linux": {"namespaces": [{"type": t} for t in ("pid", "mount", "ipc", "uts")]},
    }
    (path / "config.json").write_text(json.dumps(config))
    return path


@needs_root
def test_an_oci_container_through_its_life(tmp_path):
    bundle = make_bundle(tmp_path / "bundle", "exec sleep 30")
    root = tmp_path / "oci"
    c = ovz.OciContainer.create("py-1", bundle, root)
    assert c.id == "py-1" and c.ctid > 0
    state = c.state()
    assert state["status"] == "created"
    assert state["annotations"]["org.openvz.ubc.numproc"] == "20:20"
    assert state["bundle"] == str(bundle)
    assert state["rootfs"] == str(bundle / "fs")
    assert state["ociVersion"] == "1.1.0"
    with pytest.raises(ovz.Exists):
        ovz.OciContainer.create("py-1", bundle, root)
    assert ovz.OciContainer.list(root) == ["py-1"]
    c.start()
    assert ovz.OciContainer.open("py-1", root).state()["status"] == "running"

    r, w = os.pipe()
    code = c.exec(json.dumps({"args": ["/bin/sh", "-c", "echo in >&3; exit 6"], "cwd": "/"}),
                  detach=False, pass_fds=[w])
    assert code == 6
    code = c.exec(json.dumps({"args": ["/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID >&3"],
                              "cwd": "/"}), detach=False, pass_fds=[w], listen_fds=1)
    assert code == 0
    with pytest.raises(ovz.InvalidArgument):
        c.exec(json.dumps({"args": ["/bin/true"], "cwd": "/"}), detach=False, pass_fds=[w],
               listen_fds=2)
    os.close(w)
    assert os.read(r, 100) == b"in\n1 1\n"
    os.close(r)
    pid = c.exec(json.dumps({"args": ["/bin/sleep", "30"], "cwd": "/"}))
    assert pid in c.processes() and len(c.processes()) == 2

    c.pause()
    assert c.state()["status"] == "paused"
    c.resume()
    c.update(json.dumps({"pids": {"limit": 30}}))
    with pytest.raises(ovz.BadConfig):
        c.update('{"pids": {"limit": "many"}}')
    with pytest.raises(ovz.AlreadyRunning):
        c.delete()
    c.kill(signal.SIGKILL, all=True)
    c.delete(force=True)
    with pytest.raises(ovz.NotFound):
        ovz.OciContainer.open("py-1", root)
    assert ovz.OciContainer.list(root) == []


@needs_root
def test_seccomp_notify_calls_go_to_the_agent(tmp_path):
    """SCMP_ACT_NOTIFY: the agent at listenerPath gets the process's state and its listener;
    once the agent closes it, the calls it would have answered fail with ENOSYS."""
    bundle = make_bundle(tmp_path / "bundle", "mkdir /x 2>&1; echo $?")
    (bundle / "fs" / "bin" / "mkdir").symlink_to("busybox")
    agent_path = str(tmp_path / "agent")
    config = json.loads((bundle / "config.json").read_text())
    config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": agent_path,
        "listenerMetadata": "from python",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    (bundle / "config.json").write_text(json.dumps(config))
    root = tmp_path / "oci"
    with pytest.raises(ovz.OvzSystemError) as nobody:
        ovz.OciContainer.create("py-agent", bundle, root)
    assert nobody.value.errno == errno.ENOENT and agent_path in str(nobody.value)

    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    agent.bind(agent_path)
    agent.listen(1)
    r, w = os.pipe()
    c = ovz.OciContainer.create("py-agent", bundle, root, stdout=w)
    os.close(w)
    conn, _ = agent.accept()
    message, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    agent.close()
    state = json.loads(message)
    assert state["metadata"] == "from python" and state["fds"] == ["seccompFd"]
    assert state["pid"] == c.state()["pid"] and state["state"]["status"] == "creating"
    assert len(fds) == 1
    os.close(fds[0])
    c.start()
    out = b""
    while chunk := os.read(r, 4096):
        out += chunk
    os.close(r)
    assert b"Function not implemented" in out and out.endswith(b"1\n")
    c.delete(force=True)


@needs_root
def test_oci_create_refuses_and_leaves_nothing(tmp_path):
    bundle = make_bundle(tmp_path / "bundle", "true")
    root = tmp_path / "oci"
    with pytest.raises(ovz.InvalidArgument):
        ovz.OciContainer.create("../x", bundle, root)
    with pytest.raises(ovz.OvzSystemError) as missing:
        ovz.OciContainer.create("py-2", tmp_path / "no-bundle", root)
    assert missing.value.errno == errno.ENOENT
    assert "no-bundle/config.json" in str(missing.value)
    # Refused before anything was made: no record, no CTID.conf.
    assert not list(root.glob("oci/*")) and not list(root.glob("conf/*"))


def cgroup_places(top):
    """`top` below the root of each cgroup hierarchy that has it (v2's one, v1's each)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return [p for p in ["/sys/fs/cgroup/" + top] if os.path.isdir(p)]
    return [p for p in (os.path.join("/sys/fs/cgroup", h, top) for h in os.listdir("/sys/fs/cgroup"))
            if os.path.isdir(p) and not os.path.islink(os.path.dirname(p))]


@needs_root
def test_an_oci_containers_cgroups_path(tmp_path):
    top = "ovz-pytest-cgpath-{}".format(os.getpid())
    bundle = make_bundle(tmp_path / "bundle", "exec sleep 30")
    config = json.loads((bundle / "config.json").read_text())
    config["linux"]["cgroupsPath"] = "/{}/c1".format(top)
    (bundle / "config.json").write_text(json.dumps(config))
    root = tmp_path / "oci"
    try:
        c = ovz.OciContainer.create("py-cg", bundle, root)
        c.start()
        with open("/proc/{}/cgroup".format(c.state()["pid"])) as f:
            assert ":/{}/c1\n".format(top) in f.read()
        with pytest.raises(ovz.Exists):
            ovz.OciContainer.create("py-cg2", bundle, root)
        config["linux"]["cgroupsPath"] = "/{}/../..".format(top)
        (bundle / "config.json").write_text(json.dumps(config))
        with pytest.raises(ovz.BadConfig):
            ovz.OciContainer.create("py-cg3", bundle, root)
        c.kill(signal.SIGKILL, all=True)
        c.delete(force=True)
        places = cgroup_places(top)
        assert places and not [p for p in places if os.path.exists(p + "/c1")]
    finally:
        for p in cgroup_places(top):
            for d in (p + "/c1", p):
                if os.path.isdir(d):
                    os.rmdir(d)


@needs_root
def test_an_oci_container_joins_a_user_namespace(tmp_path):
    """A pod's containers share one user namespace: a container joining it is its root."""
    holder = subprocess.Popen(["unshare", "--user", "sleep", "60"])
    bundles = Path(tempfile.mkdtemp(prefix="ovz-pytest-userns-"))
    root = tmp_path / "oci"
    try:
        userns = "/proc/{}/ns/user".format(holder.pid)
        while os.readlink(userns) == os.readlink("/proc/self/ns/user"):
            time.sleep(0.01)
        for name in ("uid_map", "gid_map"):
            with open("/proc/{}/{}".format(holder.pid, name), "w") as f:
                f.write("0 330000 65536\n")
        # Its root, host uid 330000, walks to the bundle's root.
        os.chmod(bundles, 0o755)
        bundle = make_bundle(bundles / "bundle", "exec sleep 30")
        config = json.loads((bundle / "config.json").read_text())
        config["linux"]["namespaces"].append({"type": "user", "path": userns})
        (bundle / "config.json").write_text(json.dumps(config))
        c = ovz.OciContainer.create("py-userns", bundle, root)
        with open("/proc/{}/status".format(c.state()["pid"])) as f:
            assert "Uid:\t330000\t330000\t330000\t330000\n" in f.read()
        c.start()
        r, w = os.pipe()
        script = "read a b c < /proc/self/uid_map; echo $a $b $c >&3"
        assert c.exec(json.dumps({"args": ["/bin/sh", "-c", script], "cwd": "/"}),
                      detach=False, pass_fds=[w]) == 0
        os.close(w)
        assert os.read(r, 100) == b"0 330000 65536\n"
        os.close(r)
        c.kill(signal.SIGKILL, all=True)
        c.delete(force=True)
        # Maps in config.json that are not the namespace's are refused.
        config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 1}]
        (bundle / "config.json").write_text(json.dumps(config))
        with pytest.raises(ovz.BadConfig):
            ovz.OciContainer.create("py-userns2", bundle, root)
        assert ovz.OciContainer.list(root) == []
    finally:
        holder.kill()
        holder.wait()
        shutil.rmtree(bundles)


@needs_root
def test_an_idmapped_bind_mount(tmp_path):
    """A bind whose files' owners the container's user namespace maps: its root owns them."""
    place = Path(tempfile.mkdtemp(prefix="ovz-pytest-idmap-"))
    try:
        os.chmod(place, 0o755)
        data = place / "data"
        data.mkdir()
        (data / "f").write_text("f\n")
        bundle = make_bundle(place / "bundle", "exec sleep 30")
        (bundle / "fs" / "data").mkdir()
        config = json.loads((bundle / "config.json").read_text())
        config["linux"]["namespaces"].append({"type": "user"})
        maps = [{"containerID": 0, "hostID": 330000, "size": 65536}]
        config["linux"]["uidMappings"] = config["linux"]["gidMappings"] = maps
        config["mounts"].append({"destination": "/data", "type": "bind", "source": str(data),
                                 "options": ["bind", "idmap"]})
        (bundle / "config.json").write_text(json.dumps(config))
        try:
            c = ovz.OciContainer.create("py-idmap", bundle, tmp_path / "oci")
        except ovz.Unsupported as e:
            pytest.skip("no idmapped mounts here: {}".format(e))
        c.start()
        r, w = os.pipe()
        script = "echo x > /data/g && set -- $(busybox ls -ln /data/f) && echo $3 $4 >&3"
        try:
            assert c.exec(json.dumps({"args": ["/bin/sh", "-c", script], "cwd": "/"}),
                          detach=False, pass_fds=[w]) == 0
        finally:
            os.close(w)
            c.kill(signal.SIGKILL, all=True)
            c.delete(force=True)
        assert os.read(r, 100) == b"0 0\n"
        os.close(r)
        assert os.stat(data / "g").st_uid == 0
    finally:
        shutil.rmtree(place)
