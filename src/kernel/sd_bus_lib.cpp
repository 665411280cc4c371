#include "kernel/sd_bus_lib.hpp"

#include "fail.hpp"

#include <dlfcn.h>

namespace ovz::detail {
namespace {

result<sd_bus_lib> load() {
  // Never unloaded: the process may hold buses and their callbacks until it ends.
  void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fail(errc::unsupported, "loading libsystemd (sd-bus): {}", ::dlerror());
  sd_bus_lib api;
#define OVZ_SD_BUS_LOAD(name)                                                                 \
  api.name = reinterpret_cast<decltype(api.name)>(::dlsym(lib, #name));                      \
  if (!api.name) return fail(errc::unsupported, "libsystemd lacks " #name);
  OVZ_SD_BUS_FUNCTIONS(OVZ_SD_BUS_LOAD)
#undef OVZ_SD_BUS_LOAD
  return api;
}

const result<sd_bus_lib>& loaded() {
  static const result<sd_bus_lib> api = load();
  return api;
}

}  // namespace

result<const sd_bus_lib*> load_sd_bus() {
  const auto& api = loaded();
  if (!api) return api.error();
  return &api.value();
}

const sd_bus_lib& sd_bus_loaded() { return loaded().value(); }

}  // namespace ovz::detail
