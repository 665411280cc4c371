#!/usr/bin/env python3
"""crun's own test suite (tests/test_*.py of Debian's crun source) run against ovz-oci.

Each test of each file runs as crun's tests_main would run it, with its state root and bundles
in a temporary directory of ours instead of the suite's directory. A test listed in the
exclusions file is not run and is reported as skipped with the reason written there. After
every test the containers it left are deleted (a test that fails part-way leaves its
container running), so the run leaves nothing behind.

Prints TAP; exits 0 when every test that ran passed or skipped itself, 1 otherwise, and 2 when
the exclusions name a test the suite does not have (a list gone stale with a new crun).
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile


def cgroup_version():
    return "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"


def read_exclusions(path):
    """'file:test  reason' lines, 'file:test@v1' (or @v2) for one cgroup version only; '#'
    starts a comment. Returns those that apply here, and every test named."""
    excluded, named = {}, set()
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, reason = line.partition(" ")
            key, _, only = key.partition("@")
            if ":" not in key or not reason.strip() or only not in ("", "v1", "v2"):
                sys.exit(f"{path}:{number}: expected 'test_file.py:test-name[@v1|@v2]  reason'")
            named.add(key)
            if only in ("", cgroup_version()):
                excluded[key] = reason.strip()
    return excluded, named


def delete_leftovers(runtime, state_root):
    """Deletes what a test left under its state root: the IDs it deleted, and those it could
    not delete with why."""
    if not os.path.isdir(state_root):
        return [], []
    ids = subprocess.run([runtime, "--root", state_root, "list", "-q"], capture_output=True,
                         text=True, check=True).stdout.split()
    stuck = []
    for cid in ids:
        r = subprocess.run([runtime, "--root", state_root, "delete", "-f", cid],
                           capture_output=True, text=True)
        if r.returncode != 0:
            stuck.append(f"{cid}: {r.stderr.strip()}")
    return ids, stuck


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", required=True, help="crun's tests directory")
    p.add_argument("--runtime", required=True, help="the ovz-oci program")
    p.add_argument("--init", required=True, help="crun's tests/init.c, built static")
    p.add_argument("--exclusions", required=True)
    p.add_argument("--only", action="append", default=[], metavar="FILE:TEST",
                   help="run only this test (repeatable); the others are not counted")
    args = p.parse_args()

    runtime = os.path.abspath(args.runtime)
    os.environ["OCI_RUNTIME"] = runtime
    os.environ["INIT"] = os.path.abspath(args.init)
    os.environ["LANG"] = "C"
    excluded, named = read_exclusions(args.exclusions)

    work = tempfile.mkdtemp(prefix="ovz-crun-suite-")
    state_root = os.path.join(work, "root")
    sys.path.insert(0, args.suite)
    import tests_utils  # noqa: E402 (crun's)

    # Before any test file imports these by name.
    tests_utils.get_tests_root = lambda: work
    tests_utils.get_tests_root_status = lambda: state_root

    files = sorted(f for f in os.listdir(args.suite) if f.startswith("test_") and f.endswith(".py"))
    modules = []
    unloadable = []  # files that end themselves on import (test_mounts.py without libmount)
    for f in files:
        spec = importlib.util.spec_from_file_location(f[:-3], os.path.join(args.suite, f))
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except SystemExit:
            unloadable.append(f)
            continue
        modules.append((f, module))

    known = {f"{f}:{name}" for f, m in modules for name in m.all_tests}
    stale = sorted(named - known - {f"{f}:*" for f in unloadable})
    if stale:
        print(f"the exclusions name tests this suite does not have: {', '.join(stale)}")
        return 2
    unknown = sorted(set(args.only) - known)
    if unknown:
        print(f"--only names tests this suite does not have: {', '.join(unknown)}")
        return 2
    if args.only:
        for f, m in modules:
            m.all_tests = {n: t for n, t in m.all_tests.items() if f"{f}:{n}" in args.only}
        known = set(args.only)
        unloadable = []

    total = len(known) + len(unloadable)
    print(f"1..{total}", flush=True)
    print(f"# cgroup {cgroup_version()}", flush=True)
    counts = {"passed": 0, "skipped": 0, "excluded": 0, "failed": 0}
    failed = []
    number = 0
    for f in unloadable:
        number += 1
        key = f"{f}:*"
        if key not in excluded:
            counts["failed"] += 1
            failed.append(key)
            print(f"not ok {number} - {f}: it ended on import, and no exclusion says why")
        else:
            counts["excluded"] += 1
            print(f"ok {number} - {f} # SKIP excluded: {excluded[key]}", flush=True)
    old_cwd = os.getcwd()
    try:
        for f, module in modules:
            for name, test in module.all_tests.items():
                number += 1
                key = f"{f}:{name}"
                if key in excluded:
                    counts["excluded"] += 1
                    print(f"ok {number} - {key} # SKIP excluded: {excluded[key]}", flush=True)
                    continue
                os.chdir(work)
                try:
                    ret = test()
                except Exception as e:  # what crun's run_all_tests does with it
                    if hasattr(e, "output") and e.output:
                        sys.stderr.write(f"{e.output!r}\n")
                    sys.stderr.write(f"{key}: {e}\n")
                    ret = -1
                finally:
                    os.chdir(old_cwd)
                left, stuck = delete_leftovers(runtime, state_root)
                if left:
                    sys.stderr.write(f"{key}: deleted the containers it left: {' '.join(left)}\n")
                for why in stuck:
                    sys.stderr.write(f"{key}: cannot delete what it left: {why}\n")
                    ret = -1
                if ret == 0:
                    counts["passed"] += 1
                    print(f"ok {number} - {key}", flush=True)
                elif ret == 77:
                    counts["skipped"] += 1
                    print(f"ok {number} - {key} # SKIP by the test itself", flush=True)
                else:
                    counts["failed"] += 1
                    failed.append(key)
                    print(f"not ok {number} - {key}", flush=True)
    finally:
        _, stuck = delete_leftovers(runtime, state_root)
        if not stuck:
            shutil.rmtree(work, ignore_errors=True)

    print("# " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if failed:
        print("# failed: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
