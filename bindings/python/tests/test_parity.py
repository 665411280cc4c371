"""Every public operation of libovz's C++ headers has a Python and a C counterpart, or is
listed below as deliberately absent with the reason; and the options and records the
operations take and give have the same fields in all three.

The operations are read from the headers themselves (include/ovz/*.hpp: every OVZ_API free
function, and the result-returning members of the operation classes), the Python signatures
from ovz/__init__.pyi (which test_stubs.py holds to the module) and the C ones from ovz.h.
A new operation or field fails this test until it is named here, so the bindings cannot fall
behind the C++ API silently.
"""

import ast
import os
import pathlib
import re

import pytest

import ovz

SOURCE_DIR = pathlib.Path(
    os.environ.get("OVZ_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3])
)
INCLUDE = SOURCE_DIR / "include" / "ovz"
C_HEADER = SOURCE_DIR / "bindings" / "c" / "include" / "ovz.h"
STUB = SOURCE_DIR / "bindings" / "python" / "ovz" / "__init__.pyi"

# The classes whose members are operations; the others (ctid, ve_config, error, unique_fd,
# ns_handle, process, ip_address, netif_spec, ...) are values that the bindings carry as
# ints, strings, dicts and records.
OPERATION_CLASSES = ("ve", "template_store", "ubc_watcher", "ubc_event_queue", "ubc_reader",
                     "oci_container")

# "class::member" or free function -> (dotted Python name, C function).
BOTH = {
    "ve::open": ("VE", "ovz_ve_open"),
    "ve::create": ("VE.create", "ovz_ve_create"),
    "ve::start": ("VE.start", "ovz_ve_start_with"),
    "ve::plan": ("VE.plan", "ovz_ve_plan_with"),
    "ve::run": ("VE.run", "ovz_ve_run"),
    "ve::stop": ("VE.stop", "ovz_ve_stop"),
    "ve::restart": ("VE.restart", "ovz_ve_restart_with"),
    "ve::destroy": ("VE.destroy", "ovz_ve_destroy"),
    "ve::suspend": ("VE.suspend", "ovz_ve_suspend"),
    "ve::resume": ("VE.resume", "ovz_ve_resume"),
    "ve::checkpoint": ("VE.checkpoint", "ovz_ve_checkpoint"),
    "ve::restore": ("VE.restore", "ovz_ve_restore"),
    "ve::migrate": ("VE.migrate", "ovz_ve_migrate"),
    "ve::status": ("VE.status", "ovz_ve_get_status"),
    "ve::config": ("VE.config", "ovz_ve_config"),
    "ve::exec": ("VE.exec", "ovz_ve_exec_with"),
    "ve::enter": ("VE.enter", "ovz_ve_enter_with"),
    "ve::open_console": ("VE.open_console", "ovz_ve_console_open"),
    "ve::console": ("VE.console", "ovz_ve_console"),
    "ve::apply": ("VE.apply", "ovz_ve_apply"),
    "ve::set": ("VE.set", "ovz_ve_set_param"),
    "ve::params": ("VE.params", "ovz_ve_get_ubc_limit"),
    "ve::beancounters": ("VE.beancounters", "ovz_ve_beancounters"),
    "ve::cpu_time": ("VE.cpu_time", "ovz_ve_cpu_time"),
    "ve::quota": ("VE.quota", "ovz_ve_quota"),
    "ve::set_ugid_quota": ("VE.set_ugid_quota", "ovz_ve_set_ugid_quota"),
    "ve::ugid_quotas": ("VE.ugid_quotas", "ovz_ve_ugid_quotas"),
    "ve::set_hostname": ("VE.set_hostname", "ovz_ve_set_hostname"),
    "ve::set_user_password": ("VE.set_user_password", "ovz_ve_set_user_password"),
    "ve::security": ("VE.security", "ovz_ve_get_capability"),
    "ve::set_security": ("VE.set_security", "ovz_ve_set_security"),
    "ve::add_ip": ("VE.add_ip", "ovz_ve_add_ip"),
    "ve::del_ip": ("VE.del_ip", "ovz_ve_del_ip"),
    "ve::del_all_ips": ("VE.del_all_ips", "ovz_ve_del_all_ips"),
    "ve::add_netif": ("VE.add_netif", "ovz_ve_add_netif"),
    "ve::del_netif": ("VE.del_netif", "ovz_ve_del_netif"),
    "ve::network": ("VE.network", "ovz_ve_get_ip"),
    "list_ves": ("list_ves", "ovz_ves_open"),
    "oci_container::create": ("OciContainer.create", "ovz_oci_create"),
    "oci_container::open": ("OciContainer.open", "ovz_oci_open"),
    "oci_container::list": ("OciContainer.list", "ovz_oci_list"),
    "oci_container::state": ("OciContainer.state", "ovz_oci_state"),
    "oci_container::start": ("OciContainer.start", "ovz_oci_start"),
    "oci_container::kill": ("OciContainer.kill", "ovz_oci_kill"),
    "oci_container::destroy": ("OciContainer.delete", "ovz_oci_delete"),
    "oci_container::pause": ("OciContainer.pause", "ovz_oci_pause"),
    "oci_container::resume": ("OciContainer.resume", "ovz_oci_resume"),
    "oci_container::update": ("OciContainer.update", "ovz_oci_update"),
    "oci_container::exec": ("OciContainer.exec", "ovz_oci_exec"),
    "oci_container::processes": ("OciContainer.processes", "ovz_oci_pids"),
    "start_all": ("start_all", "ovz_start_all"),
    "stop_all": ("stop_all", "ovz_stop_all"),
    "all_beancounters": ("all_beancounters", "ovz_ubc_report"),
    "ubc_reader::open": ("BeancounterReader", "ovz_ubc_reader_open"),
    "ubc_reader::read": ("BeancounterReader.read", "ovz_ubc_reader_read"),
    "format_user_beancounters": ("user_beancounters", "ovz_ubc_report"),
    "template_store::list": ("templates", "ovz_template_list"),
    "template_store::import": ("import_template", "ovz_template_import"),
    "template_store::create": ("create_template", "ovz_template_create"),
    "set_log_handler": ("set_log_handler", "ovz_set_log_handler"),
    "kernel_keeps_disk_quota": ("kernel_keeps_disk_quota", "ovz_has_feature"),
    "view_backends_here": ("view_backends", "ovz_view_backend"),
    "checkpoint_supported": ("checkpoint_supported", "ovz_checkpoint_supported"),
    "tune_host": ("tune_host", "ovz_tune_host"),
    "checkpoint_tools_here": ("checkpoint_tools_here", "ovz_checkpoint_tools_here"),
    "receive_ve": ("receive_ve", "ovz_receive_ve"),
    "parse_setting": ("VE.apply", "ovz_changes_add"),
    # The bindings watch through the queued watcher: C and Python have no io_context.
    "ubc_watcher::start": ("VE.watch_beancounters", "ovz_ubc_watch_open"),
    "ubc_event_queue::start": ("VE.watch_beancounters", "ovz_ubc_watch_open"),
    "ubc_event_queue::next": ("BeancounterWatcher.next", "ovz_ubc_watch_next"),
}

# Operations with no binding on purpose, and why.
ABSENT = {
    "template_store::find": "C++ embedders' lookup; create() finds the template by name",
    "template_store::check_name": "checked by import_template and create",
    "resolve_state_root": "Python has it; C passes NULL for the same choice",
    "setting_kind_of": "what parse_setting dispatches on; the bindings take names directly",
    "category": "C++ error plumbing: C has ovz_error_last(), Python the exception classes",
    "make_error_code": "C++ error plumbing, as category",
    "to_string": "enum names: C and Python get the strings themselves",
    "check_bootable": "applied by create, set and apply",
    "check_cpu_params": "applied by parse_setting and set",
    "all_ubc_resources": "the names come with every beancounter (resource)",
    "conf_key": "CTID.conf spelling, internal to the config readers",
    "counts_pages": "a unit rule applied by parse_setting",
    "format_ubc_value": "CTID.conf text; the bindings give barrier and limit as numbers",
    "parse_ubc_resource": "reached through parse_setting",
    "parse_ubc_value": "reached through parse_setting",
    "parse_capabilities": "reached through parse_setting",
    "parse_devnodes": "reached through parse_setting",
    "parse_cpumask": "reached through parse_setting",
    "parse_disk_limit": "reached through parse_setting",
    "check_disk_params": "applied by parse_setting, create and set",
    "format_disk_limit": "CTID.conf text; quota() gives soft and hard as numbers",
    "resource_name": "the bindings' event carries the name as its resource",
    "format_ugid_quotas": "the text ovzctl quota --ugid prints; the bindings give its numbers",
    "format_disk_quota": "the text ovzctl quota prints; the bindings give its numbers (and "
                         "str() of Python's DiskQuota is this text)",
    "parse_ip_addresses": "CTID.conf text; the bindings take one address at a time",
    "parse_netifs": "CTID.conf text; the bindings take one device at a time",
    "format_ip_addresses": "CTID.conf text; network() gives the addresses",
    "format_netifs": "CTID.conf text; network() gives the devices",
    "parse_user_beancounters": "parses the report the library writes; for C++ tools",
    "params_from_config": "CTID.conf conversion behind params(); C's ovz_ve_params gives text",
    "params_to_config": "CTID.conf conversion behind set()",
    "security_from_config": "CTID.conf conversion behind security()",
    "security_to_config": "CTID.conf conversion behind set_security()",
    "with_changes": "the merge behind set_security()",
    "default_seccomp_profile": "the built-in profile, named 'default' in every binding",
    "clone_flag": "low-level namespaces for C++ embedders; the VE operations are the API",
    "ns_name": "low-level namespaces, as clone_flag",
    "spawn": "low-level process spawning, as clone_flag",
    "spawn_in": "low-level process spawning, as clone_flag",
    "oci_container::check_id": "applied by create and open",
    "oci_container::config": "config.json as create kept it, for ovz-oci's exec of a command; "
                             "the bindings' exec takes a whole process",
    "load_oci_bundle": "config.json is read by create; the bindings pass the bundle's directory",
    "parse_oci_config": "as load_oci_bundle",
    "parse_oci_process": "exec takes the process as JSON text and parses it",
    "parse_oci_resources": "update takes the LinuxResources object as JSON text and parses it",
    "oci_params": "the mapping of resources and annotations behind create and update",
    "oci_openvz_annotations": "what ovz-oci features lists",
    "oci_capability_names": "what ovz-oci features lists",
    "oci_seccomp_actions": "what ovz-oci features lists",
    "oci_seccomp_operators": "what ovz-oci features lists",
    "default_oci_root": "NULL (C) and None (Python) as the root mean it",
    "to_json": "the state's JSON: C's ovz_oci_state gives it, Python's state() as a dict",
}

# Fields of an options struct that hold a struct of their own, whose fields the C struct and
# the Python signature carry flat, by their names.
NESTED = {"disk": "disk_params"}

# Options: C++ struct -> (C struct; {C++ field: Python name}, {C++ field: C name}). Every
# operation of BOTH whose C++ parameters take one is checked: its C function takes the C
# struct, and its Python function has a parameter for each field. No C struct: the C function
# takes each field as a parameter of its own, by its C name.
OPTIONS = {
    "create_options": ("ovz_create_options", {}, {}),
    "start_options": ("ovz_start_options", {}, {}),
    "stop_options": ("ovz_stop_options", {}, {"timeout": "timeout_ms"}),
    "exec_options": (
        "ovz_exec_options",
        {"stdin_fd": "stdin", "stdout_fd": "stdout", "stderr_fd": "stderr"},
        {},
    ),
    "enter_options": ("ovz_enter_options", {}, {}),
    "debootstrap_options": ("ovz_debootstrap_options", {}, {}),
    "console_options": ("ovz_console_options", {}, {}),
    "checkpoint_options": ("ovz_checkpoint_options", {}, {}),
    "migrate_options": ("ovz_migrate_options", {}, {"timeout": "timeout_ms"}),
}

# Records: C++ struct -> (Python function whose parameters, or class whose properties,
# carry it; C struct; {C++ field: Python name}, {C++ field: C name}, fields absent from the
# bindings with the reason).
FIELDS = {
    "ve_status": ("VEStatus", "ovz_ve_status", {"id": "ctid"}, {"id": "ctid"}, {}),
    "ubc_stat": ("Beancounter", "ovz_ubc_stat", {}, {}, {}),
    "cpu_params": ("VE.set", "ovz_cpu_params", {}, {}, {}),
    "ubc_event": ("BeancounterEvent", "ovz_ubc_event", {"id": "ctid"}, {"id": "ctid"},
                  {"disk": "named by resource: 'diskspace' or 'diskinodes'"}),
    "disk_quota": ("DiskQuota", "ovz_disk_quota", {}, {}, {}),
    "disk_usage": ("DiskUsage", "ovz_disk_usage", {}, {}, {}),
    "ugid_quota": ("UgidQuota", "ovz_ugid_quota", {}, {}, {}),
    "checkpoint_tools": ("CheckpointTools", "ovz_checkpoint_tools", {}, {}, {}),
}
# Python's set() takes every setting as a keyword (**changes), so its fields are checked by
# name in parse_setting instead.
PYTHON_KEYWORD_BAGS = {"VE.set"}

_MEMBER = re.compile(r"^\s*(?:static\s+)?result<.*?>\s+(\w+)\s*\(([^;]*?)\)[^;(]*;", re.M | re.S)
_FREE = re.compile(r"^OVZ_API\s+[^;{(]*?\b(\w+)\s*\(([^;]*?)\)[^;(]*;", re.M | re.S)
_FIELD = re.compile(r"^\s+(?:[\w:<>,]+(?:<[^;]*>)?[\s*&]+)+(\w+)\s*(?:\{[^;]*\}|=[^;]*)?;", re.M)


def headers():
    return sorted(INCLUDE.glob("*.hpp"))


def class_body(text, name):
    m = re.search(rf"(?:class|struct) OVZ_API {name} \{{", text)
    if not m:
        return None
    end = text.index("\n};", m.end())
    body = text[m.end():end]
    return body.split("\n private:")[0]


def cpp_operations():
    """Every public operation of include/ovz, as 'class::member' or 'function'."""
    return set(cpp_parameters())


def cpp_parameters():
    """Every public operation of include/ovz -> the text of its parameter list."""
    ops = {}
    for h in headers():
        text = h.read_text()
        ops.update((m.group(1), m.group(2)) for m in _FREE.finditer(text))
        for cls in OPERATION_CLASSES:
            body = class_body(text, cls)
            if body:
                ops.update((f"{cls}::{m.group(1)}", m.group(2)) for m in _MEMBER.finditer(body))
    ops.pop("__attribute__", None)
    return ops


def struct_fields(name):
    for h in headers():
        text = h.read_text()
        m = re.search(rf"^struct {name} \{{(.*?)^\}};", text, re.M | re.S)
        if m:
            body = re.sub(r"///.*|//.*", "", m.group(1))
            body = re.sub(r"^\s*(bool operator|static|inline).*$", "", body, flags=re.M)
            return [f for f in _FIELD.findall(body)]
    raise AssertionError(f"struct {name} not found in include/ovz")


def flat_fields(name):
    """The fields of struct `name`, those of NESTED replaced by the fields they hold."""
    out = []
    for f in struct_fields(name):
        out += struct_fields(NESTED[f]) if f in NESTED else [f]
    return out


def c_text():
    return C_HEADER.read_text()


def c_struct_fields(name):
    m = re.search(rf"typedef struct {name} \{{(.*?)\}}", c_text(), re.S)
    assert m, f"struct {name} not in ovz.h"
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return re.findall(r"(\w+)(?:\[\w+\])?;", body)


def c_parameters(fn):
    m = re.search(rf"\b{fn}\s*\(([^;]*?)\);", c_text(), re.S)
    assert m, f"{fn} not declared in ovz.h"
    return m.group(1)


def stub_signatures():
    """Dotted name -> parameter names (or property names of a class) from the .pyi."""
    tree = ast.parse(STUB.read_text())
    sigs = {}

    def params(fn):
        a = fn.args
        names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
        return [n for n in names if n != "self"]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            sigs[node.name] = params(node)
        elif isinstance(node, ast.ClassDef):
            props = []
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    sigs[f"{node.name}.{item.name}"] = params(item)
                    if any(getattr(d, "id", None) == "property" for d in item.decorator_list):
                        props.append(item.name)
            sigs[node.name] = props
    return sigs


def resolves(dotted):
    obj = ovz
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def test_headers_parse_to_the_known_core():
    ops = cpp_operations()
    assert {"ve::open", "ve::create", "ve::start", "ve::exec", "list_ves",
            "template_store::import", "set_log_handler", "parse_setting"} <= ops
    assert struct_fields("create_options") == ["ostemplate", "hostname", "config", "userns",
                                               "disk"]
    assert flat_fields("create_options")[-4:] == ["diskspace", "diskinodes", "quotatime",
                                                  "quotaugidlimit"]


def test_every_operation_is_bound_or_absent_on_purpose():
    ops = cpp_operations()
    unlisted = sorted(ops - BOTH.keys() - ABSENT.keys())
    assert not unlisted, f"operations in include/ovz with no entry in BOTH or ABSENT: {unlisted}"
    stale = sorted((BOTH.keys() | ABSENT.keys()) - ops)
    assert not stale, f"BOTH or ABSENT name operations no header declares: {stale}"


def test_python_has_every_bound_operation():
    missing = [f"{op} -> ovz.{py}" for op, (py, _) in BOTH.items() if not resolves(py)]
    assert not missing, f"Python counterparts missing: {missing}"


def test_c_has_every_bound_operation():
    text = c_text()
    missing = [f"{op} -> {c}" for op, (_, c) in BOTH.items()
               if not re.search(rf"\b{c}\s*\(", text)]
    assert not missing, f"C counterparts missing from ovz.h: {missing}"


def taking(options):
    """The operations of BOTH whose C++ parameters take `options`."""
    params = cpp_parameters()
    return sorted(op for op in BOTH if re.search(rf"\b{options}\b", params.get(op, "")))


def test_every_options_struct_is_checked():
    known = set()
    for h in headers():
        known.update(re.findall(r"^struct (\w+_options) \{", h.read_text(), re.M))
    assert known == OPTIONS.keys(), f"options structs of include/ovz vs OPTIONS: {known}"
    unused = [o for o in OPTIONS if not taking(o)]
    assert not unused, f"OPTIONS no operation of BOTH takes: {unused}"


@pytest.mark.parametrize("cpp", sorted(OPTIONS))
def test_options_have_the_same_fields_where_they_are_taken(cpp):
    c, py_names, c_names = OPTIONS[cpp]
    fields = flat_fields(cpp)
    if c:
        c_fields = c_struct_fields(c)
        missing_c = [f for f in fields if c_names.get(f, f) not in c_fields]
        assert not missing_c, f"{cpp} fields missing from C's {c}: {missing_c}"
    sigs = stub_signatures()
    for op in taking(cpp):
        py, c_fn = BOTH[op]
        if c:
            assert re.search(rf"\b{c}\b", c_parameters(c_fn)), f"{c_fn} ({op}) does not take {c}"
        else:
            missing_c = [f for f in fields
                         if not re.search(rf"\b{c_names.get(f, f)}\b", c_parameters(c_fn))]
            assert not missing_c, f"{op}'s {cpp} fields not parameters of {c_fn}: {missing_c}"
        missing_py = [f for f in fields if py_names.get(f, f) not in sigs[py]]
        assert not missing_py, f"{op}'s {cpp} fields missing from Python's {py}: {missing_py}"


@pytest.mark.parametrize("cpp", sorted(FIELDS))
def test_records_have_the_same_fields(cpp):
    py, c, py_names, c_names, absent = FIELDS[cpp]
    fields = [f for f in struct_fields(cpp) if f not in absent]
    c_fields = c_struct_fields(c)
    missing_c = [f for f in fields if c_names.get(f, f) not in c_fields]
    assert not missing_c, f"{cpp} fields missing from C's {c}: {missing_c}"
    if py in PYTHON_KEYWORD_BAGS:
        from ovz._ovz import VE  # noqa: F401  (set() takes **changes)
        unknown = [f for f in fields if not _is_setting(f)]
        assert not unknown, f"{cpp} fields that are not settings of VE.set(): {unknown}"
        return
    sigs = stub_signatures()
    assert py in sigs, f"{py} not in the stub"
    missing_py = [f for f in fields if py_names.get(f, f) not in sigs[py]]
    assert not missing_py, f"{cpp} fields missing from Python's {py}: {missing_py}"


def _is_setting(name):
    """True when VE.set() takes `name`: its value is refused, not the name."""
    try:
        ovz.VE(1, "/nonexistent-ovz-parity").set(**{name: object()})
    except TypeError:
        return True  # the name was known, the value's type was not
    except ovz.Error as e:
        return "unknown parameter" not in str(e)
    return True
