#include <ovz/oci_bundle.hpp>

#include <ovz/beancounter.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "oci/json_fields.hpp"

#include <sys/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace ovz::inline v0 {
namespace {

using detail::json::field;

// Reads an optional value into `out` when present.
template <class T, class Read>
result<void> take(const field& f, Read read, T& out) {
  BOOST_OUTCOME_TRY(v, (f.*read)());
  if (v) out = static_cast<T>(*v);
  return success();
}

template <class T, class Read>
result<void> take_opt(const field& f, Read read, std::optional<T>& out) {
  BOOST_OUTCOME_TRY(v, (f.*read)());
  if (v) out = static_cast<T>(*v);
  return success();
}

result<std::vector<int>> capability_set(const field& f) {
  BOOST_OUTCOME_TRY(names, f.texts());
  std::vector<int> caps;
  for (const auto& name : names) {
    cap_value_t cap = 0;
    // A capability newer than this libcap: what the runtime cannot name it cannot grant.
    if (cap_from_name(name.c_str(), &cap) == 0) caps.push_back(cap);
  }
  return caps;
}

result<oci_capabilities> capabilities(const field& f) {
  oci_capabilities c;
  c.bounding = BOOST_OUTCOME_TRYX(capability_set(f["bounding"]));
  c.effective = BOOST_OUTCOME_TRYX(capability_set(f["effective"]));
  c.permitted = BOOST_OUTCOME_TRYX(capability_set(f["permitted"]));
  c.inheritable = BOOST_OUTCOME_TRYX(capability_set(f["inheritable"]));
  c.ambient = BOOST_OUTCOME_TRYX(capability_set(f["ambient"]));
  return c;
}

constexpr std::array<std::pair<std::string_view, int>, 16> rlimit_names{{
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
}};

result<oci_rlimit> rlimit(const field& f) {
  BOOST_OUTCOME_TRY(type, f["type"].text());
  if (!type) return f["type"].bad("missing");
  auto known = std::find_if(rlimit_names.begin(), rlimit_names.end(),
                            [&](const auto& n) { return n.first == *type; });
  if (known == rlimit_names.end())
    return f["type"].bad(fmt::format("unknown resource \"{}\"", detail::excerpt(*type)));
  oci_rlimit r;
  r.resource = known->second;
  BOOST_OUTCOME_TRY(take(f["soft"], &field::unsigned_integer, r.soft));
  BOOST_OUTCOME_TRY(take(f["hard"], &field::unsigned_integer, r.hard));
  return r;
}

result<oci_process> read_process(const field& f) {
  oci_process p;
  BOOST_OUTCOME_TRY(take(f["terminal"], &field::boolean, p.terminal));
  BOOST_OUTCOME_TRY(take(f["consoleSize"]["height"], &field::unsigned_integer, p.console_height));
  BOOST_OUTCOME_TRY(take(f["consoleSize"]["width"], &field::unsigned_integer, p.console_width));
  const field user = f["user"];
  BOOST_OUTCOME_TRY(take(user["uid"], &field::unsigned_integer, p.user.uid));
  BOOST_OUTCOME_TRY(take(user["gid"], &field::unsigned_integer, p.user.gid));
  BOOST_OUTCOME_TRY(take_opt(user["umask"], &field::unsigned_integer, p.user.umask));
  for (const auto& g : user["additionalGids"].elements()) {
    BOOST_OUTCOME_TRY(gid, g.unsigned_integer());
    if (gid) p.user.additional_gids.push_back(static_cast<gid_t>(*gid));
  }
  p.args = BOOST_OUTCOME_TRYX(f["args"].texts());
  if (p.args.empty()) return f["args"].bad("missing or empty: the container runs nothing");
  p.env = BOOST_OUTCOME_TRYX(f["env"].texts());
  BOOST_OUTCOME_TRY(cwd, f["cwd"].text());
  if (cwd) p.cwd = *cwd;
  if (p.cwd.empty() || p.cwd[0] != '/')
    return f["cwd"].bad(fmt::format("must be an absolute path, found \"{}\"", p.cwd));
  if (f["capabilities"].present()) {
    BOOST_OUTCOME_TRY(caps, capabilities(f["capabilities"]));
    p.capabilities = std::move(caps);
  }
  for (const auto& r : f["rlimits"].elements()) {
    BOOST_OUTCOME_TRY(limit, rlimit(r));
    p.rlimits.push_back(limit);
  }
  BOOST_OUTCOME_TRY(take(f["noNewPrivileges"], &field::boolean, p.no_new_privileges));
  BOOST_OUTCOME_TRY(take_opt(f["oomScoreAdj"], &field::integer, p.oom_score_adj));
  return p;
}

result<std::vector<id_map>> id_mappings(const field& f) {
  std::vector<id_map> out;
  for (const auto& m : f.elements()) {
    id_map map;
    BOOST_OUTCOME_TRY(take(m["containerID"], &field::unsigned_integer, map.inside));
    BOOST_OUTCOME_TRY(take(m["hostID"], &field::unsigned_integer, map.outside));
    BOOST_OUTCOME_TRY(take(m["size"], &field::unsigned_integer, map.count));
    out.push_back(map);
  }
  return out;
}

result<std::vector<oci_mount>> mounts(const field& f) {
  std::vector<oci_mount> out;
  for (const auto& m : f.elements()) {
    oci_mount mount;
    BOOST_OUTCOME_TRY(dest, m["destination"].text());
    if (!dest || dest->empty()) return m["destination"].bad("missing");
    mount.destination = *dest;
    BOOST_OUTCOME_TRY(take(m["type"], &field::text, mount.type));
    BOOST_OUTCOME_TRY(take(m["source"], &field::text, mount.source));
    mount.options = BOOST_OUTCOME_TRYX(m["options"].texts());
    mount.uid_mappings = BOOST_OUTCOME_TRYX(id_mappings(m["uidMappings"]));
    mount.gid_mappings = BOOST_OUTCOME_TRYX(id_mappings(m["gidMappings"]));
    if (mount.uid_mappings.empty() != mount.gid_mappings.empty())
      return m["uidMappings"].bad("an idmapped mount needs both uidMappings and gidMappings");
    out.push_back(std::move(mount));
  }
  return out;
}

result<std::vector<oci_hook>> hook_list(const field& f) {
  std::vector<oci_hook> out;
  for (const auto& h : f.elements()) {
    oci_hook hook;
    BOOST_OUTCOME_TRY(path, h["path"].text());
    if (!path || path->empty() || (*path)[0] != '/')
      return h["path"].bad("must be an absolute path");
    hook.path = *path;
    hook.args = BOOST_OUTCOME_TRYX(h["args"].texts());
    hook.env = BOOST_OUTCOME_TRYX(h["env"].texts());
    BOOST_OUTCOME_TRY(timeout, h["timeout"].integer());
    if (timeout && *timeout <= 0) return h["timeout"].bad("must be more than zero");
    if (timeout) hook.timeout = static_cast<int>(*timeout);
    out.push_back(std::move(hook));
  }
  return out;
}

result<oci_hooks> hooks(const field& f) {
  oci_hooks h;
  h.prestart = BOOST_OUTCOME_TRYX(hook_list(f["prestart"]));
  h.create_runtime = BOOST_OUTCOME_TRYX(hook_list(f["createRuntime"]));
  h.create_container = BOOST_OUTCOME_TRYX(hook_list(f["createContainer"]));
  h.start_container = BOOST_OUTCOME_TRYX(hook_list(f["startContainer"]));
  h.poststart = BOOST_OUTCOME_TRYX(hook_list(f["poststart"]));
  h.poststop = BOOST_OUTCOME_TRYX(hook_list(f["poststop"]));
  return h;
}

constexpr std::array<std::pair<std::string_view, ns_type>, 8> namespace_names{{
    {"pid", ns_type::pid},   {"network", ns_type::net}, {"mount", ns_type::mnt},
    {"ipc", ns_type::ipc},   {"uts", ns_type::uts},     {"user", ns_type::user},
    {"cgroup", ns_type::cgroup}, {"time", ns_type::time},
}};

result<std::vector<oci_namespace>> namespaces(const field& f) {
  std::vector<oci_namespace> out;
  for (const auto& n : f.elements()) {
    BOOST_OUTCOME_TRY(type, n["type"].text());
    auto known = std::find_if(namespace_names.begin(), namespace_names.end(),
                              [&](const auto& k) { return type && k.first == *type; });
    if (known == namespace_names.end())
      return n["type"].bad(fmt::format("unknown namespace type \"{}\"", type ? *type : ""));
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.type == known->second; }))
      return n["type"].bad(fmt::format("the {} namespace is named twice", *type));
    oci_namespace ns{known->second, {}};
    BOOST_OUTCOME_TRY(path, n["path"].text());
    if (path) ns.path = *path;
    out.push_back(std::move(ns));
  }
  return out;
}

result<std::vector<oci_device>> devices(const field& f) {
  std::vector<oci_device> out;
  for (const auto& d : f.elements()) {
    oci_device dev;
    BOOST_OUTCOME_TRY(type, d["type"].text());
    if (!type || type->size() != 1 || std::string_view("cbup").find((*type)[0]) == std::string_view::npos)
      return d["type"].bad("must be c, b, u or p");
    dev.type = (*type)[0];
    BOOST_OUTCOME_TRY(path, d["path"].text());
    if (!path || path->empty() || (*path)[0] != '/') return d["path"].bad("must be an absolute path");
    dev.path = *path;
    BOOST_OUTCOME_TRY(take(d["major"], &field::integer, dev.major));
    BOOST_OUTCOME_TRY(take(d["minor"], &field::integer, dev.minor));
    BOOST_OUTCOME_TRY(take(d["fileMode"], &field::unsigned_integer, dev.file_mode));
    BOOST_OUTCOME_TRY(take(d["uid"], &field::unsigned_integer, dev.uid));
    BOOST_OUTCOME_TRY(take(d["gid"], &field::unsigned_integer, dev.gid));
    out.push_back(std::move(dev));
  }
  return out;
}

result<oci_resources> resources(const field& f) {
  oci_resources r;
  const field memory = f["memory"], cpu = f["cpu"];
  BOOST_OUTCOME_TRY(take_opt(memory["limit"], &field::integer, r.memory_limit));
  BOOST_OUTCOME_TRY(take_opt(memory["reservation"], &field::integer, r.memory_reservation));
  BOOST_OUTCOME_TRY(take_opt(memory["swap"], &field::integer, r.memory_swap));
  BOOST_OUTCOME_TRY(take_opt(cpu["shares"], &field::unsigned_integer, r.cpu_shares));
  BOOST_OUTCOME_TRY(take_opt(cpu["quota"], &field::integer, r.cpu_quota));
  BOOST_OUTCOME_TRY(take_opt(cpu["period"], &field::unsigned_integer, r.cpu_period));
  BOOST_OUTCOME_TRY(cpus, cpu["cpus"].text());
  if (cpus && !cpus->empty()) r.cpu_cpus = *cpus;
  BOOST_OUTCOME_TRY(take_opt(f["pids"]["limit"], &field::integer, r.pids_limit));
  for (const auto& [name, value] : f["unified"].members()) {
    BOOST_OUTCOME_TRY(text, value.text());
    r.unified[name] = text.value_or("");
  }
  for (const auto& d : f["devices"].elements()) {
    oci_device_rule rule;
    BOOST_OUTCOME_TRY(allow, d["allow"].boolean());
    if (!allow) return d["allow"].bad("missing");
    rule.allow = *allow;
    BOOST_OUTCOME_TRY(type, d["type"].text());
    if (type && (type->size() != 1 || std::string_view("acb").find((*type)[0]) == std::string_view::npos))
      return d["type"].bad("must be a, c or b");
    if (type) rule.type = (*type)[0];
    BOOST_OUTCOME_TRY(take_opt(d["major"], &field::integer, rule.major));
    BOOST_OUTCOME_TRY(take_opt(d["minor"], &field::integer, rule.minor));
    BOOST_OUTCOME_TRY(access, d["access"].text());
    if (access) {
      if (access->empty() || access->find_first_not_of("rwm") != std::string::npos)
        return d["access"].bad("must be letters of rwm");
      rule.access = *access;
    }
    r.devices.push_back(std::move(rule));
  }
  return r;
}

constexpr std::array<std::pair<std::string_view, oci_seccomp_op>, 7> seccomp_ops{{
    {"SCMP_CMP_NE", oci_seccomp_op::ne},
    {"SCMP_CMP_LT", oci_seccomp_op::lt},
    {"SCMP_CMP_LE", oci_seccomp_op::le},
    {"SCMP_CMP_EQ", oci_seccomp_op::eq},
    {"SCMP_CMP_GE", oci_seccomp_op::ge},
    {"SCMP_CMP_GT", oci_seccomp_op::gt},
    {"SCMP_CMP_MASKED_EQ", oci_seccomp_op::masked_eq},
}};

result<oci_seccomp_op> seccomp_op(const field& f) {
  BOOST_OUTCOME_TRY(op, f.text());
  for (const auto& [name, value] : seccomp_ops)
    if (op && name == *op) return value;
  return f.bad(fmt::format("unknown operator \"{}\"", op ? *op : ""));
}

result<oci_seccomp> seccomp(const field& f) {
  oci_seccomp s;
  BOOST_OUTCOME_TRY(action, f["defaultAction"].text());
  if (!action || action->empty()) return f["defaultAction"].bad("missing");
  s.default_action = *action;
  BOOST_OUTCOME_TRY(take_opt(f["defaultErrnoRet"], &field::unsigned_integer, s.default_errno_ret));
  s.architectures = BOOST_OUTCOME_TRYX(f["architectures"].texts());
  s.flags = BOOST_OUTCOME_TRYX(f["flags"].texts());
  BOOST_OUTCOME_TRY(take(f["listenerPath"], &field::text, s.listener_path));
  BOOST_OUTCOME_TRY(take(f["listenerMetadata"], &field::text, s.listener_metadata));
  for (const auto& c : f["syscalls"].elements()) {
    oci_seccomp_rule rule;
    rule.names = BOOST_OUTCOME_TRYX(c["names"].texts());
    BOOST_OUTCOME_TRY(act, c["action"].text());
    if (!act || act->empty()) return c["action"].bad("missing");
    rule.action = *act;
    BOOST_OUTCOME_TRY(take_opt(c["errnoRet"], &field::unsigned_integer, rule.errno_ret));
    for (const auto& a : c["args"].elements()) {
      oci_seccomp_arg arg;
      BOOST_OUTCOME_TRY(take(a["index"], &field::unsigned_integer, arg.index));
      if (arg.index > 5) return a["index"].bad("a system call has arguments 0 to 5");
      BOOST_OUTCOME_TRY(take(a["value"], &field::unsigned_integer, arg.value));
      BOOST_OUTCOME_TRY(take(a["valueTwo"], &field::unsigned_integer, arg.value_two));
      arg.op = BOOST_OUTCOME_TRYX(seccomp_op(a["op"]));
      rule.args.push_back(arg);
    }
    s.syscalls.push_back(std::move(rule));
  }
  return s;
}

result<std::map<std::string, std::string>> string_map(const field& f) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : f.members()) {
    BOOST_OUTCOME_TRY(v, value.text());
    out[key] = v.value_or("");
  }
  return out;
}

result<void> read_linux(const field& f, oci_bundle& b) {
  b.namespaces = BOOST_OUTCOME_TRYX(namespaces(f["namespaces"]));
  b.uid_mappings = BOOST_OUTCOME_TRYX(id_mappings(f["uidMappings"]));
  b.gid_mappings = BOOST_OUTCOME_TRYX(id_mappings(f["gidMappings"]));
  b.devices = BOOST_OUTCOME_TRYX(devices(f["devices"]));
  b.resources = BOOST_OUTCOME_TRYX(resources(f["resources"]));
  BOOST_OUTCOME_TRY(take(f["cgroupsPath"], &field::text, b.cgroups_path));
  b.sysctl = BOOST_OUTCOME_TRYX(string_map(f["sysctl"]));
  if (f["seccomp"].present()) {
    BOOST_OUTCOME_TRY(s, seccomp(f["seccomp"]));
    b.seccomp = std::move(s);
  }
  b.masked_paths = BOOST_OUTCOME_TRYX(f["maskedPaths"].texts());
  b.readonly_paths = BOOST_OUTCOME_TRYX(f["readonlyPaths"].texts());
  BOOST_OUTCOME_TRY(take(f["rootfsPropagation"], &field::text, b.rootfs_propagation));
  const bool has_user = b.find(ns_type::user) != nullptr;
  if (!has_user && (!b.uid_mappings.empty() || !b.gid_mappings.empty()))
    return f["uidMappings"].bad("id mappings need a user namespace");
  return success();
}

}  // namespace

const oci_namespace* oci_bundle::find(ns_type t) const noexcept {
  for (const auto& n : namespaces)
    if (n.type == t) return &n;
  return nullptr;
}

result<oci_bundle> parse_oci_config(std::string_view json, const std::filesystem::path& dir) {
  BOOST_OUTCOME_TRY(doc, detail::json::parse(json, "config.json"));
  const field top(&doc, "");
  oci_bundle b;
  std::error_code ec;
  b.dir = std::filesystem::absolute(dir, ec);
  if (ec) return detail::sys_fail(ec.value(), "the bundle {}", dir.string());
  BOOST_OUTCOME_TRY(version, top["ociVersion"].text());
  if (!version || version->empty()) return top["ociVersion"].bad("missing");
  b.oci_version = *version;
  if (top["process"].present()) {
    BOOST_OUTCOME_TRY(p, read_process(top["process"]));
    b.process = std::move(p);
  }
  BOOST_OUTCOME_TRY(root, top["root"]["path"].text());
  if (!root || root->empty()) return top["root"]["path"].bad("missing");
  b.root = (b.dir / *root).lexically_normal();
  BOOST_OUTCOME_TRY(take(top["root"]["readonly"], &field::boolean, b.root_readonly));
  BOOST_OUTCOME_TRY(take(top["hostname"], &field::text, b.hostname));
  b.mounts = BOOST_OUTCOME_TRYX(mounts(top["mounts"]));
  b.hooks = BOOST_OUTCOME_TRYX(hooks(top["hooks"]));
  b.annotations = BOOST_OUTCOME_TRYX(string_map(top["annotations"]));
  BOOST_OUTCOME_TRY(read_linux(top["linux"], b));
  return b;
}

result<oci_bundle> load_oci_bundle(const std::filesystem::path& dir) {
  const auto file = dir / "config.json";
  BOOST_OUTCOME_TRY(text, detail::read_file(file.string()));
  auto b = parse_oci_config(text, dir);
  if (!b) return detail::with_context(b.error(), file.string());
  return b;
}

result<oci_process> parse_oci_process(std::string_view json) {
  BOOST_OUTCOME_TRY(doc, detail::json::parse(json, "process"));
  return read_process(field(&doc, "process"));
}

result<oci_resources> parse_oci_resources(std::string_view json) {
  BOOST_OUTCOME_TRY(doc, detail::json::parse(json, "resources"));
  return resources(field(&doc, "resources"));
}

std::vector<std::string> oci_capability_names() {
  std::vector<std::string> names;
  for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap) {
    char* name = ::cap_to_name(static_cast<cap_value_t>(cap));
    std::string upper = name ? name : "";
    ::cap_free(name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    names.push_back(std::move(upper));
  }
  return names;
}

std::vector<std::string> oci_seccomp_operators() {
  std::vector<std::string> names;
  for (const auto& op : seccomp_ops) names.emplace_back(op.first);
  return names;
}

std::vector<std::string> oci_openvz_annotations() {
  std::vector<std::string> names;
  for (const auto& r : all_ubc_resources()) names.push_back("org.openvz.ubc." + std::string(to_string(r)));
  for (const char* n : {"cpuunits", "cpulimit", "cpus", "diskspace", "diskinodes"})
    names.push_back(std::string("org.openvz.") + n);
  return names;
}

}  // namespace ovz::inline v0
