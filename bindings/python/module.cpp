// _ovz: the compiled half of the `ovz` Python package. It wraps the C++ API one to one;
// ovz/__init__.py re-exports it and adds what is easier to write in Python.
//
// Every result<T> is unwrapped here: a failure becomes an ovz.Error subclass, so no C++
// error or exception reaches Python unconverted. Blocking calls run without the GIL, and
// Python objects are touched only once it is held again.
//
// The parts are in the files named for what they hold: errors.cpp (ovz.Error and its
// subclasses), records.cpp, watch.cpp (beancounter events and the reader), ve.cpp (VE),
// functions.cpp, oci.cpp (OciContainer); convert.hpp holds what they share.

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/version.hpp>

PYBIND11_MODULE(_ovz, m) {
  m.doc() = "libovz's C++ API for Python; import the `ovz` package instead.";
  m.attr("version") = OVZ_VERSION_STRING;
  m.attr("UNLIMITED") = ovz::ubc_unlimited;
  ovz_python::define_errors(m);
  ovz_python::define_records(m);
  ovz_python::define_watcher(m);
  ovz_python::define_reader(m);
  ovz_python::define_ve(m);
  ovz_python::define_functions(m);
  ovz_python::define_oci(m);
}
