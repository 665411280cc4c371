// The shared conversions convert.hpp declares (the error ones are in errors.cpp).

#include "convert.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/ve.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ovz_python {

std::filesystem::path to_root(const std::optional<std::filesystem::path>& root) {
  return root.value_or(std::filesystem::path{});
}

ovz::stop_options to_stop_options(bool fast, std::optional<double> timeout) {
  ovz::stop_options opts{.fast = fast};
  if (!timeout) return opts;  // the VE's STOP_TIMEOUT, else 10 s
  if (!std::isfinite(*timeout) || *timeout < 0 || *timeout > 1e9)
    raise_invalid("the stop timeout must be a non-negative number of seconds, or None");
  opts.timeout = std::chrono::milliseconds(std::llround(*timeout * 1000.0));
  return opts;
}

py::str decode_output(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()),
                                     "replace");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

py::dict by_ctid(std::vector<ovz::ubc_snapshot>&& all) {
  py::dict d;
  for (auto& snap : all) d[py::int_(snap.id.value())] = py::cast(std::move(snap.stats));
  return d;
}

}  // namespace ovz_python
