// A VE's refusals as events (BeancounterEvent, BeancounterWatcher) and the beancounters of
// every running VE read again and again (BeancounterReader).

#include "watch.hpp"

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/ubc_reader.hpp>
#include <ovz/ubc_watch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ovz_python {

using namespace py::literals;

namespace {

std::string repr_event(const ovz::ubc_event& e) {
  return "BeancounterEvent(ctid=" + e.id.str() + ", resource='" + ovz::resource_name(e) +
         "', failcnt=" + std::to_string(e.failcnt) + ", previous=" + std::to_string(e.previous) +
         ")";
}

}  // namespace

void define_watcher(py::module_& m) {
  py::class_<ovz::ubc_event>(m, "BeancounterEvent",
                             "The kernel refused a VE more than before: failcnt grew.")
      .def_property_readonly("ctid", [](const ovz::ubc_event& e) { return e.id.value(); },
                             "The VE's CTID.")
      .def_property_readonly(
          "resource", [](const ovz::ubc_event& e) { return ovz::resource_name(e); },
          "The beancounter: 'numproc', 'physpages', 'swappages' or 'kmemsize'; or "
          "'diskspace' or 'diskinodes' when the VE's disk usage went above that soft limit "
          "(failcnt then counts those crossings since the watch began).")
      .def_readonly("failcnt", &ovz::ubc_event::failcnt, "The count now.")
      .def_readonly("previous", &ovz::ubc_event::previous, "The count before.")
      .def("__repr__", &repr_event);

  py::class_<beancounter_watcher>(
      m, "BeancounterWatcher",
      "Events of a VE's refusals (VE.watch_beancounters()): iterate over it, or call "
      "next(timeout), or wait for fileno() to be readable in a selector. An event not read yet "
      "takes in later growth of its resource, so nothing piles up and no refusal is missed. "
      "A context manager: closed on the way out.")
      .def(
          "next",
          [](beancounter_watcher& w, std::optional<double> timeout) {
            return w.wait(timeout, false);
          },
          "timeout"_a = py::none(),
          "The oldest event, waiting up to `timeout` seconds for one (None: as long as it "
          "takes); None when none came. Raises ValueError once closed.")
      .def("fileno", &beancounter_watcher::fileno,
           "A descriptor readable while an event waits, for selectors and event loops; read "
           "the events with next(), never from it.")
      .def("close", &beancounter_watcher::close,
           "Stops watching; events not read are dropped. An iteration in another thread ends.")
      .def_property_readonly("closed", &beancounter_watcher::closed, "close() was called.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](beancounter_watcher& w, const py::args&) { w.close(); },
          "Closes the watcher.")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](beancounter_watcher& w) {
        auto e = w.wait(std::nullopt, true);
        if (!e) throw py::stop_iteration();
        return *e;
      });
}

namespace {

class beancounter_reader {
 public:
  beancounter_reader(const std::optional<std::filesystem::path>& root, bool files_only)
      : reader_(std::make_unique<ovz::ubc_reader>(unwrap(ovz::ubc_reader::open(
            to_root(root), files_only ? ovz::ubc_sources::files_only : ovz::ubc_sources::any)))) {}

  py::dict read() {
    if (!reader_) throw py::value_error("the reader is closed");
    return by_ctid(unwrap(without_gil([&] { return reader_->read(); })));
  }
  std::string backend() const {
    if (!reader_) throw py::value_error("the reader is closed");
    return std::string(reader_->backend());
  }
  void close() { reader_.reset(); }
  bool closed() const { return !reader_; }

 private:
  std::unique_ptr<ovz::ubc_reader> reader_;
};

}  // namespace

void define_reader(py::module_& m) {
  py::class_<beancounter_reader>(
      m, "BeancounterReader",
      "Beancounters of every running VE under a state root, read again and again at a small "
      "cost per VE: each VE's cgroup and /proc files stay open between reads and are read "
      "again in place. A VE started, stopped or destroyed between two reads shows in the "
      "next. Holds about 20 descriptors per running VE and 2 per process until closed. One "
      "thread at a time. A context manager: closed on the way out.")
      .def(py::init<const std::optional<std::filesystem::path>&, bool>(), "root"_a = py::none(),
           py::kw_only(), "files_only"_a = false,
           "files_only: read the cgroup and /proc files alone, holding no /dev/ovz open (which "
           "would keep the ovz module from being unloaded).")
      .def("read", &beancounter_reader::read,
           "Every running VE's beancounters now: {ctid: [Beancounter]}. Raises ValueError "
           "once closed.")
      .def_property_readonly("backend", &beancounter_reader::backend,
                             "Where the counters come from on this host: 'cgroup files', or "
                             "'ovz module + cgroup files' where the ovz kernel module gives "
                             "the memory counters.")
      .def("close", &beancounter_reader::close, "Closes what the reader holds.")
      .def_property_readonly("closed", &beancounter_reader::closed, "close() was called.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__", [](beancounter_reader& r, const py::args&) { r.close(); },
          "Closes the reader.");
}

}  // namespace ovz_python
