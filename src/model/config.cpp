#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cerrno>
#include <ovz/config.hpp>
#include <ovz/fd.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"

namespace ovz {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

bool is_valid_key(std::string_view key) {
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; };
  auto tail = [&](char c) { return head(c) || (c >= '0' && c <= '9'); };
  return !key.empty() && head(key.front()) && std::all_of(key.begin() + 1, key.end(), tail);
}

// A line read: its key and value, no key for a comment or blank line, or why it is malformed.
struct parsed_line {
  std::string key{};
  std::string value{};
  const char* problem = nullptr;
};

parsed_line parse_line(std::string_view s) {
  s = skip_blanks(s);
  if (s.empty() || s.front() == '#') return {};
  if (s.starts_with("export") && s.size() > 6 && is_blank(s[6])) s = skip_blanks(s.substr(6));
  auto eq = s.find('=');
  if (eq == std::string_view::npos) return {.problem = "expected KEY=value"};
  std::string_view key = s.substr(0, eq);
  if (!is_valid_key(key)) return {.problem = "invalid key (must match [A-Z_][A-Z0-9_]*)"};

  std::string_view rest = s.substr(eq + 1);
  std::string_view value;
  if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
    // Backslashes are taken literally, as vzctl reads them.
    auto close = rest.find(rest.front(), 1);
    if (close == std::string_view::npos) return {.problem = "unterminated quote"};
    value = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
  } else {
    auto end = std::find_if(rest.begin(), rest.end(), is_blank) - rest.begin();
    value = rest.substr(0, end);
    // A shell would join `a"b c"` into one word; rather than guess, refuse it.
    if (value.find_first_of("\"'") != std::string_view::npos)
      return {.problem = "quote inside an unquoted value"};
    rest.remove_prefix(end);
  }
  rest = skip_blanks(rest);
  if (!rest.empty() && rest.front() != '#') return {.problem = "unexpected text after the value"};
  return {.key = std::string(key), .value = std::string(value)};
}

// Comments and blank lines have an empty key, which no caller's key may match.
bool has_key(const auto& l, std::string_view key) { return !key.empty() && l.key == key; }

// Removes the temporary file of a save unless it was renamed into place.
struct temp_file {
  std::filesystem::path path;
  bool renamed = false;
  ~temp_file() {
    if (!renamed) ::unlink(path.c_str());
  }
};

// A save killed between naming its file and the rename leaves ".NAME.PID.N.tmp": removed by
// the next save of NAME once process PID is gone (a live one may be saving right now).
void remove_stale_temps(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (!entry.starts_with(prefix) || !entry.ends_with(".tmp")) continue;
    pid_t pid = 0;
    const char* digits = entry.data() + prefix.size();
    auto [end_of_pid, bad] = std::from_chars(digits, entry.data() + entry.size(), pid);
    if (bad != std::errc() || *end_of_pid != '.' || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    (void)::unlink(it->path().c_str());
  }
}

result<void> write_all(int fd, std::string_view data, const std::filesystem::path& file,
                       const std::filesystem::path& tmp) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return detail::sys_fail(errno, "Cannot save {}: write {}", file.string(), tmp.string());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return success();
}

}  // namespace

// lines_ holds the text split at every '\n', so a text ending in a newline has an empty last
// element, and joining the elements gives the text back byte for byte.
result<ve_config> ve_config::parse(std::string_view text, std::string_view origin) {
  ve_config cfg;
  std::size_t number = 0;
  for (;;) {
    ++number;
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    auto p = parse_line(raw);
    if (p.problem)
      return detail::fail(errc::bad_config, "{} line {}: {} in: {}", origin, number, p.problem,
                          detail::excerpt(raw));
    cfg.lines_.push_back({std::string(raw), std::move(p.key), std::move(p.value)});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return cfg;
}

result<ve_config> ve_config::load(const std::filesystem::path& file) {
  auto text = detail::read_file(file.string(), O_NOFOLLOW);
  if (!text) return detail::with_context(text.error(), "Cannot read CTID.conf");
  return parse(*text, file.string());
}

std::string ve_config::serialize() const {
  std::string out;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (i) out += '\n';
    out += lines_[i].raw;
  }
  return out;
}

result<void> ve_config::save(const std::filesystem::path& file) const {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const std::string text = serialize();
  const std::string name = file.filename().string();
  remove_stale_temps(dir, name);

  // The text goes to an unnamed file (O_TMPFILE) that gets a name only when complete and
  // flushed, just before the rename: a save killed before that leaves nothing. Where the
  // filesystem has no O_TMPFILE the file is named from the start. 0644 less the umask, as
  // any editor's.
  static std::atomic<unsigned> counter{0};
  auto temp_name = [&] { return dir / fmt::format(".{}.{}.{}.tmp", name, ::getpid(), counter++); };
  temp_file tmp{temp_name()};
  unique_fd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  const bool unnamed = bool(fd);
  if (!unnamed && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return detail::sys_fail(errno, "Cannot save {}: create a file in {}", file.string(), dir.string());
  while (!fd) {
    fd.reset(::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd) break;
    if (errno != EEXIST)
      return detail::sys_fail(errno, "Cannot save {}: create {}", file.string(), tmp.path.string());
    tmp.path = temp_name();
  }
  tmp.renamed = unnamed;  // nothing to remove until it is linked

  // Replacing a file must not change who may read it.
  struct stat st;
  if (::stat(file.c_str(), &st) == 0 && ::fchmod(fd.get(), st.st_mode & 07777) != 0)
    return detail::sys_fail(errno, "Cannot save {}: chmod {}", file.string(), tmp.path.string());

  BOOST_OUTCOME_TRY(write_all(fd.get(), text, file, tmp.path));
  if (::fsync(fd.get()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: fsync {}", file.string(), tmp.path.string());
  if (unnamed) {
    // rename(2) takes names only; linkat through /proc needs no privilege, unlike AT_EMPTY_PATH.
    const auto self = fmt::format("/proc/self/fd/{}", fd.get());
    while (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno != EEXIST)
        return detail::sys_fail(errno, "Cannot save {}: link {}", file.string(), tmp.path.string());
      tmp.path = temp_name();
    }
    tmp.renamed = false;
  }
  fd.reset();
  if (::rename(tmp.path.c_str(), file.c_str()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: rename {}", file.string(), tmp.path.string());
  tmp.renamed = true;

  // Without this the rename itself may not survive a crash.
  unique_fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd || ::fsync(dfd.get()) != 0)
    return detail::sys_fail(errno, "Cannot save {}: fsync directory {}", file.string(),
                            dir.string());
  return success();
}

std::optional<std::string> ve_config::get(std::string_view key) const {
  auto it =
      std::find_if(lines_.rbegin(), lines_.rend(), [&](const line& l) { return has_key(l, key); });
  if (it == lines_.rend()) return std::nullopt;
  return it->value;
}

result<void> ve_config::set(std::string_view key, std::string_view value) {
  if (!is_valid_key(key))
    return detail::fail(errc::invalid_argument,
                        "Invalid config key \"{}\": must match [A-Z_][A-Z0-9_]*", detail::excerpt(key));
  if (value.find_first_of("\n\"\\") != std::string_view::npos)
    return detail::fail(errc::invalid_argument,
                        "Invalid value for {}: must not contain a newline, a double quote or a "
                        "backslash",
                        key);

  line changed{fmt::format("{}=\"{}\"", key, value), std::string(key), std::string(value)};
  auto last =
      std::find_if(lines_.rbegin(), lines_.rend(), [&](const line& l) { return has_key(l, key); });
  if (last == lines_.rend()) {
    // Before the empty element that stands for the final newline; a text without one gains
    // it, so the new line ends like every other.
    if (lines_.empty() || !lines_.back().raw.empty()) lines_.emplace_back();
    lines_.insert(lines_.end() - 1, std::move(changed));
    return success();
  }
  auto keep = std::prev(last.base());
  // The same value keeps the line as written, with its quoting and trailing comment.
  if (keep->value != value) *keep = std::move(changed);
  lines_.erase(std::remove_if(lines_.begin(), keep, [&](const line& l) { return has_key(l, key); }),
               keep);
  return success();
}

bool ve_config::erase(std::string_view key) {
  return std::erase_if(lines_, [&](const line& l) { return has_key(l, key); }) > 0;
}

std::vector<std::string> ve_config::keys() const {
  // A key given twice is listed where it last appears, the definition that counts.
  std::vector<std::string> out;
  for (auto it = lines_.rbegin(); it != lines_.rend(); ++it)
    if (!it->key.empty() && std::find(out.begin(), out.end(), it->key) == out.end())
      out.push_back(it->key);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace ovz
