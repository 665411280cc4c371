#include "kernel/spawn_wire.hpp"

#include <algorithm>

#include <cstring>

namespace ovz::detail {
namespace {

using spawning::plan;

// Numbers as 8 bytes, strings as their length and bytes; a null string as the length ~0.
class writer {
 public:
  void num(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const char* s) {
    if (!s) return num(~std::uint64_t{0});
    const std::size_t n = std::strlen(s);
    num(n);
    out_.append(s, n);
  }
  void bytes(const void* data, std::size_t n) {
    num(n);
    out_.append(static_cast<const char*>(data), n);
  }
  // A null-terminated array, without its terminator.
  void strs(const std::vector<const char*>& v, std::size_t skip_last) {
    num(v.size() - skip_last);
    for (std::size_t i = 0; i + skip_last < v.size(); ++i) str(v[i]);
  }
  void ints(const std::vector<int>& v) {
    num(v.size());
    for (int i : v) num(static_cast<std::uint64_t>(i));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what writer wrote; the strings live in `text`, which the plan points into. Past the
// end it reads zeros and empty strings, and is no longer whole().
class reader {
 public:
  reader(std::string_view in, std::deque<std::string>& text) : in_(in), text_(text) {}
  std::uint64_t num() {
    std::uint64_t v = 0;
    if (in_.size() < sizeof v) {
      short_ = true;
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  int integer() { return static_cast<int>(num()); }
  bool flag() { return num() != 0; }
  const char* str() {
    const std::uint64_t n = num();
    if (n == ~std::uint64_t{0}) return nullptr;
    return text_.emplace_back(take(n)).c_str();
  }
  std::string raw_bytes() { return std::string(take(num())); }
  std::vector<const char*> strs() {
    std::vector<const char*> v(count());
    for (auto& s : v) s = str();
    return v;
  }
  std::vector<int> ints() {
    std::vector<int> v(count());
    for (int& i : v) i = integer();
    return v;
  }
  // A count of items of at least 8 bytes each, no more than what is left could hold.
  std::size_t count() {
    const std::uint64_t n = num();
    if (n > in_.size() / sizeof n) {
      short_ = true;
      return 0;
    }
    return n;
  }
  bool whole() const { return !short_ && in_.empty(); }

 private:
  std::string_view take(std::uint64_t n) {
    if (n > in_.size()) short_ = true;
    auto part = in_.substr(0, n);
    in_.remove_prefix(part.size());
    return part;
  }
  std::string_view in_;
  bool short_ = false;
  std::deque<std::string>& text_;
};

}  // namespace

bool decode_plan(std::string_view in, received_plan& r) {
  reader rd(in, r.text);
  plan& p = r.p;
  r.detach = rd.flag();
  p.exec_paths = rd.strs();
  p.argv = rd.strs();
  p.argv.push_back(nullptr);
  p.envp = rd.strs();
  p.envp.push_back(nullptr);
  p.steps.resize(rd.count());
  for (auto& s : p.steps) {
    s.what = static_cast<fs_step::kind>(rd.num());
    s.optional = rd.flag();
    s.in_root = rd.flag();
    s.source = rd.str();
    s.target = rd.str();
    s.fstype = rd.str();
    s.flags = rd.num();
    s.data = rd.str();
    s.mode = static_cast<mode_t>(rd.num());
    s.dev = static_cast<dev_t>(rd.num());
    s.uid = static_cast<uid_t>(rd.num());
    s.gid = static_cast<gid_t>(rd.num());
    s.fd = rd.integer();
  }
  p.hostname = rd.str();
  p.hostname_len = p.hostname ? std::strlen(p.hostname) : 0;
  p.new_root = rd.str();
  p.cwd = rd.str();
  p.clone_flags = rd.num();
  p.cgroup_ns = rd.flag();
  p.new_mnt = rd.flag();
  p.userns = rd.flag();
  p.new_session = rd.flag();
  for (int& fd : p.stdio) fd = rd.integer();
  p.pty_socket = rd.integer();
  p.console = rd.flag();
  p.monitor_socket = rd.integer();
  p.monitor_path = rd.str();
  p.monitor_argv = rd.strs();
  p.monitor_argv.push_back(p.monitor_init_arg);
  p.monitor_argv.push_back(nullptr);
  p.monitor_envp = rd.strs();
  p.monitor_envp.push_back(nullptr);
  p.monitor_fds = rd.ints();
  p.sync_r = rd.integer();
  p.report_w = rd.integer();
  p.hold_r = rd.integer();
  p.devnull = rd.integer();
  p.target_pidfd = rd.integer();
  p.target_root = rd.integer();
  p.setns_flags = rd.integer();
  p.time_ns = rd.flag();
  p.time_offsets = rd.str();
  p.time_offsets_len = p.time_offsets ? std::strlen(p.time_offsets) : 0;
  p.cgroup_fd = rd.integer();
  p.keep = rd.ints();
  r.drop_caps = rd.ints();
  p.drop_caps = &r.drop_caps;
  r.filter = rd.raw_bytes();
  p.seccomp.len = static_cast<unsigned short>(r.filter.size() / sizeof(sock_filter));
  p.seccomp.filter = reinterpret_cast<sock_filter*>(r.filter.data());
  p.listener_socket = rd.integer();
  p.no_new_privs = rd.flag();
  p.start_gate = rd.integer();
  p.set_user = rd.flag();
  p.uid = static_cast<std::uint32_t>(rd.num());
  p.gid = static_cast<std::uint32_t>(rd.num());
  p.groups = rd.ints();
  p.pass_fds = rd.ints();
  p.set_caps = rd.flag();
  p.cap_effective = rd.num();
  p.cap_permitted = rd.num();
  p.cap_inheritable = rd.num();
  p.cap_ambient = rd.num();
  p.join_fds = rd.ints();
  p.join_flags = rd.ints();
  p.pause_before_pivot = rd.flag();
  return rd.whole();
}

std::string encode_plan(const plan& p, bool detach) {
  writer w;
  w.num(detach);
  w.strs(p.exec_paths, 0);
  w.strs(p.argv, 1);
  w.strs(p.envp, 1);
  w.num(p.steps.size());
  for (const auto& s : p.steps) {
    w.num(static_cast<std::uint64_t>(s.what));
    w.num(s.optional);
    w.num(s.in_root);
    w.str(s.source);
    w.str(s.target);
    w.str(s.fstype);
    w.num(s.flags);
    w.str(s.data);
    w.num(s.mode);
    w.num(s.dev);
    w.num(s.uid);
    w.num(s.gid);
    w.num(static_cast<std::uint64_t>(s.fd));
  }
  w.str(p.hostname);
  w.str(p.new_root);
  w.str(p.cwd);
  w.num(p.clone_flags);
  w.num(p.cgroup_ns);
  w.num(p.new_mnt);
  w.num(p.userns);
  w.num(p.new_session);
  for (int fd : p.stdio) w.num(static_cast<std::uint64_t>(fd));
  w.num(static_cast<std::uint64_t>(p.pty_socket));
  w.num(p.console);
  w.num(static_cast<std::uint64_t>(p.monitor_socket));
  w.str(p.monitor_path);
  w.strs(p.monitor_argv, p.monitor_argv.empty() ? 0 : 2);  // "--init=PID" is the helper's to write
  w.strs(p.monitor_envp, p.monitor_envp.empty() ? 0 : 1);
  w.ints(p.monitor_fds);
  for (int fd : {p.sync_r, p.report_w, p.hold_r, p.devnull, p.target_pidfd, p.target_root,
                 p.setns_flags})
    w.num(static_cast<std::uint64_t>(fd));
  w.num(p.time_ns);
  w.str(p.time_offsets);
  w.num(static_cast<std::uint64_t>(p.cgroup_fd));
  w.ints(p.keep);
  w.ints(*p.drop_caps);
  w.bytes(p.seccomp.filter, p.seccomp.len * sizeof(sock_filter));
  w.num(static_cast<std::uint64_t>(p.listener_socket));
  w.num(p.no_new_privs);
  w.num(static_cast<std::uint64_t>(p.start_gate));
  w.num(p.set_user);
  w.num(p.uid);
  w.num(p.gid);
  w.ints(p.groups);
  w.ints(p.pass_fds);
  w.num(p.set_caps);
  for (std::uint64_t set : {p.cap_effective, p.cap_permitted, p.cap_inheritable, p.cap_ambient})
    w.num(set);
  w.ints(p.join_fds);
  w.ints(p.join_flags);
  w.num(p.pause_before_pivot);
  return w.take();
}

std::vector<int> passed_fds(const spawning::plan& p) {
  std::vector<int> fds;
  for (int fd : p.keep)
    if (fd >= 0) fds.push_back(fd);
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  return fds;
}

}  // namespace ovz::detail
