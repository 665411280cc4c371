#pragma once
// libsystemd's sd-bus, loaded on first use. Most programs linking libovz never talk to systemd
// (ovzctl on a cgroup v1 host, a panel on one without systemd), and linking libsystemd with
// its compression and crypto libraries cost every start of theirs 0.6 ms.

#include <ovz/result.hpp>

#include <systemd/sd-bus.h>

namespace ovz::detail {

#define OVZ_SD_BUS_FUNCTIONS(X)                                                         \
  X(sd_bus_call) X(sd_bus_call_method) X(sd_bus_error_free) X(sd_bus_error_has_name)    \
  X(sd_bus_flush_close_unref) X(sd_bus_get_property_string) X(sd_bus_match_signal)      \
  X(sd_bus_message_append) X(sd_bus_message_close_container)                            \
  X(sd_bus_message_new_method_call) X(sd_bus_message_open_container)                    \
  X(sd_bus_message_read) X(sd_bus_message_unref) X(sd_bus_new) X(sd_bus_process)        \
  X(sd_bus_set_address) X(sd_bus_slot_unref) X(sd_bus_start) X(sd_bus_wait)

/// The functions, under their own names.
struct sd_bus_lib {
#define OVZ_SD_BUS_MEMBER(name) decltype(&::name) name = nullptr;
  OVZ_SD_BUS_FUNCTIONS(OVZ_SD_BUS_MEMBER)
#undef OVZ_SD_BUS_MEMBER
};

/// libsystemd.so.0, loaded once per process; why not, when it cannot be.
result<const sd_bus_lib*> load_sd_bus();

/// The loaded library: only after load_sd_bus() has succeeded.
const sd_bus_lib& sd_bus_loaded();

}  // namespace ovz::detail
