"""Every public operation of include/ovz/ve.hpp has a Python (and C) counterpart.

The operations are read from the header itself: the `result<...> NAME(` member functions
of class ve and the free functions beside it. A new one fails this test until the bindings
name it below, so they cannot fall behind the C++ API silently.
"""

import os
import pathlib
import re

import pytest

import ovz

SOURCE_DIR = pathlib.Path(
    os.environ.get("OVZ_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3])
)

# C++ operation -> dotted name under the ovz package.
PYTHON = {
    "open": "VE",  # the constructor: ovz.VE(ctid, root)
    "create": "VE.create",
    "start": "VE.start",
    "plan": "VE.plan",
    "run": "VE.run",
    "stop": "VE.stop",
    "restart": "VE.restart",
    "destroy": "VE.destroy",
    "status": "VE.status",
    "config": "VE.config",
    "exec": "VE.exec",
    "enter": "VE.enter",
    "set": "VE.set",
    "params": "VE.params",
    "beancounters": "VE.beancounters",
    "set_hostname": "VE.set_hostname",
    "security": "VE.security",
    "set_security": "VE.set_security",
    "apply": "VE.apply",
    "add_ip": "VE.add_ip",
    "del_ip": "VE.del_ip",
    "del_all_ips": "VE.del_all_ips",
    "add_netif": "VE.add_netif",
    "del_netif": "VE.del_netif",
    "network": "VE.network",
    "list_ves": "list",
    "all_beancounters": "all_beancounters",
}

# C++ operation -> function of bindings/c/include/ovz.h, where it is not ovz_ve_<name>.
C_NAMES = {
    "set": "ovz_ve_set_param",
    "beancounters": "ovz_ve_get_stats",
    "list_ves": "ovz_ve_list",
    "all_beancounters": "ovz_ubc_report",
}

_OPERATION = re.compile(r"\bresult<.*?>\s+(\w+)\s*\(")


def cpp_operations():
    """(members of class ve, free functions) declared in ve.hpp."""
    text = (SOURCE_DIR / "include" / "ovz" / "ve.hpp").read_text()
    start = text.index("class OVZ_API ve {")
    end = text.index("\n};", start)
    body = text[start:end]
    public = body.split("\n private:")[0]
    members = _OPERATION.findall(public)
    free = _OPERATION.findall(text[:start] + text[end:])
    assert members and free, "ve.hpp no longer parses: update cpp_operations()"
    return members, free


def resolves(dotted):
    obj = ovz
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def test_header_parses_to_the_known_core():
    members, free = cpp_operations()
    assert {"open", "create", "start", "stop", "destroy", "status", "exec"} <= set(members)
    assert "list_ves" in free


def test_python_covers_ve_hpp():
    members, free = cpp_operations()
    unmapped = [name for name in members + free if name not in PYTHON]
    assert not unmapped, f"C++ operations with no Python name in PYTHON: {unmapped}"
    missing = [f"{name} -> ovz.{PYTHON[name]}" for name in members + free
               if not resolves(PYTHON[name])]
    assert not missing, f"Python counterparts missing: {missing}"


def test_c_covers_ve_hpp():
    header = SOURCE_DIR / "bindings" / "c" / "include" / "ovz.h"
    if not header.exists():
        pytest.skip(f"no C ABI yet ({header} is absent)")
    text = header.read_text()
    members, free = cpp_operations()

    def declared(name):
        c_name = C_NAMES.get(name, f"ovz_ve_{name}")
        return re.search(rf"\b{c_name}\s*\(", text) is not None

    missing = [name for name in members + free if not declared(name)]
    assert not missing, f"C counterparts missing from ovz.h: {missing}"
