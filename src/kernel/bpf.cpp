#include "kernel/bpf.hpp"

#include "fail.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace ovz::detail::bpf {
namespace {

long sys_bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

bpf_attr zeroed() {
  bpf_attr a;
  std::memset(&a, 0, sizeof a);
  return a;
}

std::uint64_t ptr(const void* p) { return reinterpret_cast<std::uint64_t>(p); }

}  // namespace

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

std::vector<bpf_insn> return_value(std::int32_t v) {
  return {insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v),
          insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
}

result<unique_fd> load_program(bpf_prog_type type, const char* name,
                               const std::vector<bpf_insn>& insns, const std::string& what) {
  static const char license[] = "GPL";
  auto a = zeroed();
  a.prog_type = type;
  a.insns = ptr(insns.data());
  a.insn_cnt = static_cast<std::uint32_t>(insns.size());
  a.license = ptr(license);
  std::strncpy(a.prog_name, name, sizeof a.prog_name - 1);
  unique_fd fd(static_cast<int>(sys_bpf(BPF_PROG_LOAD, a)));
  if (!fd) return sys_fail(errno, "load the BPF program {}", what);
  return fd;
}

result<unique_fd> create_hash_map(const char* name, std::uint32_t key_size,
                                  std::uint32_t value_size, std::uint32_t max_entries) {
  auto a = zeroed();
  a.map_type = BPF_MAP_TYPE_HASH;
  a.key_size = key_size;
  a.value_size = value_size;
  a.max_entries = max_entries;
  a.map_flags = BPF_F_NO_PREALLOC;
  std::strncpy(a.map_name, name, sizeof a.map_name - 1);
  unique_fd fd(static_cast<int>(sys_bpf(BPF_MAP_CREATE, a)));
  if (!fd) return sys_fail(errno, "create the BPF map {}", name);
  return fd;
}

result<void> map_update(int map, const void* key, const void* value) {
  auto a = zeroed();
  a.map_fd = static_cast<std::uint32_t>(map);
  a.key = ptr(key);
  a.value = ptr(value);
  a.flags = BPF_ANY;
  if (sys_bpf(BPF_MAP_UPDATE_ELEM, a) != 0) return sys_fail(errno, "add an entry to a BPF map");
  return success();
}

result<void> map_delete(int map, const void* key) {
  auto a = zeroed();
  a.map_fd = static_cast<std::uint32_t>(map);
  a.key = ptr(key);
  if (sys_bpf(BPF_MAP_DELETE_ELEM, a) != 0 && errno != ENOENT)
    return sys_fail(errno, "remove an entry from a BPF map");
  return success();
}

result<unique_fd> map_of_program(std::uint32_t prog_id, const char* name) {
  auto a = zeroed();
  a.prog_id = prog_id;
  unique_fd prog(static_cast<int>(sys_bpf(BPF_PROG_GET_FD_BY_ID, a)));
  if (!prog) return sys_fail(errno, "open the BPF program with ID {}", prog_id);
  std::uint32_t map_id = 0;
  bpf_prog_info info{};
  info.nr_map_ids = 1;
  info.map_ids = ptr(&map_id);
  a = zeroed();
  a.info.bpf_fd = static_cast<std::uint32_t>(prog.get());
  a.info.info_len = sizeof info;
  a.info.info = ptr(&info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, a) != 0)
    return sys_fail(errno, "read the BPF program with ID {}", prog_id);
  if (std::strncmp(info.name, name, sizeof info.name) != 0 || info.nr_map_ids < 1)
    return fail(errc::not_found, "the BPF program with ID {} is not {}", prog_id, name);
  a = zeroed();
  a.map_id = map_id;
  unique_fd map(static_cast<int>(sys_bpf(BPF_MAP_GET_FD_BY_ID, a)));
  if (!map) return sys_fail(errno, "open the BPF map with ID {}", map_id);
  return map;
}

}  // namespace ovz::detail::bpf
