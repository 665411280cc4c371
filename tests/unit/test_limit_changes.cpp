// The count of limit changes a ubc_reader reads instead of every VE's limits: a change
// counted, by this process or another, moves the generation a reader sees next, and nothing
// else does.

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/limit_changes.hpp"

#include <sys/wait.h>
#include <unistd.h>

using namespace ovz;

TEST_CASE("a count of limit changes moves a reader's generation once per change, from any "
          "process", "[ubc][ubc-reader]") {
  test::temp_dir root;
  const auto file = detail::limit_changes_file(root.path);
  detail::limit_changes reader(file);
  // None counted yet, not even the run/ directory: the same generation each time.
  const auto none = reader.generation();
  CHECK(reader.generation() == none);

  REQUIRE(detail::count_limit_change(file));
  const auto one = reader.generation();
  CHECK(one != none);
  CHECK(reader.generation() == one);

  // Another process's change, as a panel's reader sees an ovzctl set.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(detail::count_limit_change(file) ? 0 : 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto two = reader.generation();
  CHECK(two != one);
  CHECK(reader.generation() == two);

  // Counted past a power of ten: the longer number is written over the shorter in place.
  for (int i = 0; i < 8; ++i) REQUIRE(detail::count_limit_change(file));
  CHECK(reader.generation() != two);
  CHECK(detail::read_file(file.string()).value() == "10\n");
}
