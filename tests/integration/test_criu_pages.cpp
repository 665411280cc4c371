// CRIU's page server spoken to by descriptor (kernel/criu_service): a pre-dump of a running
// VE sends its memory over a socket to a page server that writes it into another directory,
// as a migration's target will; the VE runs on. Where CRIU cannot work the test says so.
// CTID 17105.

#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include "kernel/criu_service.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace ovz;

namespace {

// The bytes of the memory images (pages-*.img) in `dir`.
std::uintmax_t page_bytes(const std::filesystem::path& dir) {
  std::uintmax_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("pages-") && name.ends_with(".img")) bytes += e.file_size();
  }
  return bytes;
}

}  // namespace

TEST_CASE("a pre-dump sends its memory to a page server over a socket, and the VE runs on",
          "[checkpoint][pages]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17105);
  // A process holding a few MiB it wrote.
  MUST(r.v.exec({"sh", "-c",
                 "(v=$(head -c 3000000 /dev/zero | tr '\\0' x); touch /filled; "
                 "while :; do sleep 1000; done) </dev/null >/dev/null 2>&1 &"}));
  // Dumped before the variable is whole (the lab's emulated CPU is slow), the process would
  // hold less than the pages checked below; the loop keeps the shell (a last command alone
  // would be exec'd in its place, dropping the variable).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (MUST(r.v.exec({"test", "-e", "/filled"})).exit_code != 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto here = r.root.path() / "pages-here", there = r.root.path() / "pages-there";
  std::filesystem::create_directories(here);
  std::filesystem::create_directories(there);
  unique_fd here_fd(::open(here.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  unique_fd there_fd(::open(there.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  unique_fd dump_end(ends[0]), server_end(ends[1]);

  detail::criu_page_server_request server;
  server.images_dir = there_fd.get();
  server.log_file = "page-server.log";
  server.socket = server_end.get();
  MUST(detail::criu_page_server(server));
  server_end.reset();

  detail::criu_dump_request dump;
  dump.images_dir = here_fd.get();
  dump.log_file = "pre-dump.log";
  dump.pid = MUST(r.v.status()).init_pid;
  dump.pre_dump = true;
  dump.track_mem = true;
  dump.page_server = dump_end.get();
  auto dumped = detail::criu_dump(dump, {});
  dump_end.reset();
  INFO("the page server's log:\n" << test::read_text(there / "page-server.log"));
  REQUIRE(dumped);

  INFO("pages here: " << page_bytes(here) << " bytes, there: " << page_bytes(there));
  // Every page went to the server; the rest of the images stayed here.
  CHECK(page_bytes(here) == 0);
  CHECK(page_bytes(there) > 1000000);
  CHECK(std::filesystem::exists(here / "inventory.img"));
  CHECK(MUST(r.v.status()).state == ve_state::running);
  CHECK(MUST(r.v.exec({"true"})).exit_code == 0);
}
