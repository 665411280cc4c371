"""OpenVZ-style Virtual Environments (VEs, containers) from Python, over libovz.

    import ovz

    ve = ovz.VE(101)                  # state root: $OVZ_ROOT or /var/lib/ovz
    ve.create(hostname="web1")        # from the built-in busybox template
    with ve.started():                # started here, stopped (fast) on the way out
        code, out, err = ve.exec("uname -n")
    ve.destroy()

Every failure raises an ovz.Error subclass with .code (the libovz error name, or
'system' for an errno) and .errno (0 unless the kernel refused).
"""

import atexit
import contextlib
from typing import Iterator

from ovz._ovz import (
    UNLIMITED,
    AlreadyRunning,
    BadConfig,
    BatchEntry,
    Beancounter,
    BeancounterEvent,
    BeancounterReader,
    BeancounterWatcher,
    ChildFailed,
    DiskQuota,
    UgidQuota,
    DiskUsage,
    Error,
    Exists,
    InDoubt,
    InvalidArgument,
    Locked,
    NotFound,
    NotRunning,
    OciContainer,
    OvzSystemError,
    PeerFailed,
    Suspended,
    Template,
    TimedOut,
    Unsupported,
    VEStatus,
    all_beancounters,
    cgroup_manager,
    kernel_keeps_disk_quota,
    view_backends,
    checkpoint_supported,
    tune_host,
    checkpoint_tools_here,
    CheckpointTools,
    list_ves,
    receive_ve,
    resolve_state_root,
    set_log_handler,
    start_all,
    stop_all,
    templates,
    import_template,
    create_template,
    user_beancounters,
    version,
)
from ovz._ovz import VE as _VE

__all__ = [
    "UNLIMITED",
    "AlreadyRunning",
    "BadConfig",
    "BatchEntry",
    "Beancounter",
    "BeancounterEvent",
    "BeancounterReader",
    "BeancounterWatcher",
    "ChildFailed",
    "DiskQuota",
    "UgidQuota",
    "DiskUsage",
    "Error",
    "Exists",
    "InDoubt",
    "InvalidArgument",
    "Locked",
    "NotFound",
    "NotRunning",
    "OciContainer",
    "OvzSystemError",
    "PeerFailed",
    "Suspended",
    "Template",
    "TimedOut",
    "Unsupported",
    "VE",
    "VEStatus",
    "all_beancounters",
    "cgroup_manager",
    "kernel_keeps_disk_quota",
    "view_backends",
    "checkpoint_supported",
    "tune_host",
    "checkpoint_tools_here",
    "CheckpointTools",
    "list_ves",
    "receive_ve",
    "resolve_state_root",
    "set_log_handler",
    "start_all",
    "stop_all",
    "templates",
    "import_template",
    "create_template",
    "user_beancounters",
    "version",
]

# The names of libovz before 0.2, which shadow builtins: kept working, but out of __all__, so
# that `from ovz import *` does not replace list() and SystemError.
list = list_ves
SystemError = OvzSystemError

# A handler left installed would be called, and released, after the interpreter has gone.
atexit.register(set_log_handler, None)


class VE(_VE):
    """One VE under a state root: a light handle (CTID and paths).

    VE(ctid, root=None): ctid is an int or a decimal str; root None means
    $OVZ_ROOT or /var/lib/ovz. The VE need not exist yet.
    """

    @contextlib.contextmanager
    def started(self) -> Iterator["VE"]:
        """Start the VE for a with-block and stop it (fast) when the block ends.

        The stop runs however the block ends, an exception included, so a
        failing block leaves no VE running behind it.
        """
        self.start()
        try:
            yield self
        finally:
            # The block may have stopped the VE itself (or its init exited);
            # there is nothing left to stop then, and that is not an error.
            with contextlib.suppress(NotRunning):
                self.stop(fast=True)
