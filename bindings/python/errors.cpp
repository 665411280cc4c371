// The Python exceptions of _ovz: ovz.Error and a subclass per ovz::errc, made once at
// import, and the conversion of an ovz::error to them.

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/error.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ovz_python {

namespace {

// The exception classes, made once at import; module attributes keep them alive.
struct error_classes {
  py::handle base;
  py::handle system;
  std::vector<std::pair<ovz::errc, py::handle>> by_code;
};
error_classes classes;

// The names of ovz::errc as Python sees them in Error.code, and the class each raises.
struct errc_entry {
  ovz::errc code;
  const char* code_name;
  const char* class_name;
  const char* doc;
};
constexpr errc_entry errc_table[] = {
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  {ovz::errc::name, #name, #py_class, py_doc},
#include <ovz/errc.def>
};

}  // namespace

py::object to_exception(const ovz::error& e) {
  py::handle cls = classes.base;
  std::string code_name = "system";
  const int err_no = e.sys_errno();
  if (err_no != 0) {
    cls = classes.system;
  } else {
    for (const auto& entry : errc_table) {
      if (e.is(entry.code)) {
        code_name = entry.code_name;
        for (const auto& [code, c] : classes.by_code)
          if (code == entry.code) cls = c;
      }
    }
  }
  py::object exc = cls(e.message());
  exc.attr("code") = code_name;
  // Set after construction: OSError(errno, msg) would prefix the message with "[Errno N]".
  exc.attr("errno") = err_no;
  return exc;
}

[[noreturn]] void raise_error(const ovz::error& e) {
  py::object exc = to_exception(e);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raise_invalid(const std::string& message) {
  raise_error(ovz::error(ovz::make_error_code(ovz::errc::invalid_argument), message));
}

void define_errors(py::module_& m) {
  auto make = [&](const char* name, py::handle bases, const char* doc) {
    const std::string qualified = std::string("ovz.") + name;
    PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!cls) throw py::error_already_set();
    m.add_object(name, py::handle(cls));
    return py::handle(cls);
  };
  classes.base = make("Error", PyExc_Exception,
                      "Every error of libovz. .code is the ovz errc name ('not_found', ...) "
                      "or 'system'; .errno is the errno behind it, or 0.");
  for (const auto& entry : errc_table)
    classes.by_code.emplace_back(entry.code, make(entry.class_name, classes.base, entry.doc));
  auto bases = py::make_tuple(classes.base, py::handle(PyExc_OSError));
  classes.system = make("OvzSystemError", bases,
                        "The kernel refused: .errno is the errno (also an OSError).");
}

}  // namespace ovz_python
