// The parts of _ovz, each defining its classes and functions in the module; module.cpp
// calls them in this order.

#pragma once

#include <pybind11/pybind11.h>

namespace ovz_python {

void define_errors(pybind11::module_& m);     // errors.cpp
void define_records(pybind11::module_& m);    // records.cpp
void define_watcher(pybind11::module_& m);    // watch.cpp
void define_reader(pybind11::module_& m);     // watch.cpp
void define_ve(pybind11::module_& m);         // ve.cpp
void define_functions(pybind11::module_& m);  // functions.cpp
void define_oci(pybind11::module_& m);        // oci.cpp

}  // namespace ovz_python
