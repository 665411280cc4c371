// OciContainer: an OCI container run as a VE, as runc's commands handle one.

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ovz_python {

using namespace py::literals;

namespace {

ovz::oci_io to_oci_io(int stdin_fd, int stdout_fd, int stderr_fd, int console_socket,
                      std::vector<int> pass_fds, unsigned listen_fds) {
  ovz::oci_io io;
  io.pass_fds = std::move(pass_fds);
  io.listen_fds = listen_fds;
  io.stdin_fd = stdin_fd;
  io.stdout_fd = stdout_fd;
  io.stderr_fd = stderr_fd;
  io.console_socket = console_socket;
  return io;
}

std::filesystem::path oci_root(const std::optional<std::filesystem::path>& root) {
  return root ? *root : ovz::default_oci_root();
}

}  // namespace

void define_oci(py::module_& m) {
  py::class_<ovz::oci_container>(
      m, "OciContainer",
      "An OCI container run as a VE (runc's create, start, state, kill, delete, exec), under "
      "a runtime's state root (None: /run/ovz-oci).")
      .def_static(
          "create",
          [](const std::string& id, const std::filesystem::path& bundle,
             const std::optional<std::filesystem::path>& root, int stdin_fd, int stdout_fd,
             int stderr_fd, int console_socket, std::vector<int> pass_fds, unsigned listen_fds) {
            const auto io = to_oci_io(stdin_fd, stdout_fd, stderr_fd, console_socket,
                                      std::move(pass_fds), listen_fds);
            return unwrap(without_gil(
                [&] { return ovz::oci_container::create(oci_root(root), id, bundle, io); }));
          },
          "id"_a, "bundle"_a, "root"_a = py::none(), py::kw_only(), "stdin"_a = 0,
          "stdout"_a = 1, "stderr"_a = 2, "console_socket"_a = -1,
          "pass_fds"_a = std::vector<int>{}, "listen_fds"_a = 0u,
          "Creates the container from the bundle directory's config.json, its process waiting "
          "for start(). pass_fds become its 3, 4, ...; the first listen_fds of them are "
          "sockets of systemd's socket activation (LISTEN_FDS, LISTEN_PID=1).")
      .def_static(
          "open",
          [](const std::string& id, const std::optional<std::filesystem::path>& root) {
            return unwrap(ovz::oci_container::open(oci_root(root), id));
          },
          "id"_a, "root"_a = py::none(), "The existing container `id`; NotFound otherwise.")
      .def_static(
          "list",
          [](const std::optional<std::filesystem::path>& root) {
            return unwrap(ovz::oci_container::list(oci_root(root)));
          },
          "root"_a = py::none(), "The IDs of the containers under the state root, sorted.")
      .def_property_readonly("id", &ovz::oci_container::id)
      .def_property_readonly("ctid", [](const ovz::oci_container& c) { return c.ve().value(); })
      .def(
          "state",
          [](const ovz::oci_container& c) {
            auto s = unwrap(c.state());
            py::dict d;
            d["ociVersion"] = ovz::oci_spec_version;
            d["id"] = s.id;
            d["status"] = ovz::to_string(s.status);
            d["pid"] = s.pid;
            d["bundle"] = s.bundle.string();
            d["rootfs"] = s.rootfs.string();
            d["created"] = s.created;
            d["annotations"] = s.annotations;
            return d;
          },
          "The runtime-spec state, as runc state prints it.")
      .def("start", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.start(); })); })
      .def(
          "kill",
          [](ovz::oci_container& c, int signal, bool all) {
            unwrap(without_gil([&] { return c.kill(signal, all); }));
          },
          "signal"_a = 15, "all"_a = false)
      .def(
          "delete",
          [](ovz::oci_container& c, bool force) {
            unwrap(without_gil([&] { return c.destroy(force); }));
          },
          "force"_a = false)
      .def("pause", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.pause(); })); })
      .def("resume", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.resume(); })); })
      .def(
          "update",
          [](ovz::oci_container& c, const std::string& resources) {
            auto r = unwrap(ovz::parse_oci_resources(resources));
            unwrap(without_gil([&] { return c.update(r); }));
          },
          "resources"_a, "Changes the limits as a LinuxResources object (JSON text) names them.")
      .def(
          "exec",
          [](ovz::oci_container& c, const std::string& process, bool detach, int stdin_fd,
             int stdout_fd, int stderr_fd, int console_socket, std::vector<int> pass_fds,
             unsigned listen_fds) {
            auto proc = unwrap(ovz::parse_oci_process(process));
            const auto io = to_oci_io(stdin_fd, stdout_fd, stderr_fd, console_socket,
                                      std::move(pass_fds), listen_fds);
            auto p = unwrap(without_gil([&] { return c.exec(proc, io, detach); }));
            if (detach) return static_cast<int>(p.pid());
            return unwrap(without_gil([&] { return p.wait(); }));
          },
          "process"_a, py::kw_only(), "detach"_a = true, "stdin"_a = 0, "stdout"_a = 1,
          "stderr"_a = 2, "console_socket"_a = -1, "pass_fds"_a = std::vector<int>{},
          "listen_fds"_a = 0u,
          "Starts a runtime-spec process (JSON text) in the container: detached, returns its "
          "PID; else waits and returns its exit status.")
      .def("processes", [](const ovz::oci_container& c) { return unwrap(c.processes()); });
}

}  // namespace ovz_python
