// What the files of _ovz share: the conversion of the library's results and errors to
// Python, and of the arguments several of them take.

#pragma once

#include <ovz/beancounter.hpp>
#include <ovz/error.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

// Every file of _ovz includes this header, so that all see the same type casters: pybind11
// wants the casters of stl.h in every translation unit of a module or in none.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ovz_python {

namespace py = pybind11;

// The Python counterpart of an ovz::error: its class by code, with .code, .errno and the
// message as str(e).
py::object to_exception(const ovz::error& e);

[[noreturn]] void raise_error(const ovz::error& e);

[[noreturn]] void raise_invalid(const std::string& message);

template <class T>
T unwrap(ovz::result<T>&& r) {
  if (!r) raise_error(r.error());
  return std::move(*r);
}

inline void unwrap(ovz::result<void>&& r) {
  if (!r) raise_error(r.error());
}

// Runs a library call without the GIL, so other Python threads run while it waits on the
// kernel or a child process. `f` must not touch Python objects.
template <class F>
auto without_gil(F&& f) {
  py::gil_scoped_release release;
  return f();
}

std::filesystem::path to_root(const std::optional<std::filesystem::path>& root);

ovz::stop_options to_stop_options(bool fast, std::optional<double> timeout);

// What a command printed. Invalid UTF-8 is replaced rather than raised: the output of a
// command inside a VE is not ours to vouch for, and losing the exit code over it is worse.
py::str decode_output(const std::string& bytes);

// {ctid: [Beancounter]}, as all_beancounters() and BeancounterReader.read() give them.
py::dict by_ctid(std::vector<ovz::ubc_snapshot>&& all);

}  // namespace ovz_python
