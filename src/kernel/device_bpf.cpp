#include "kernel/device_bpf.hpp"

#include "fail.hpp"
#include "kernel/bpf.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace ovz::detail {
namespace {

using bpf::insn;
using bpf::return_value;

bpf_insn load_word(std::uint8_t dst, std::int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn jump_unless(std::uint8_t reg, std::int32_t value, std::int16_t skip) {
  return insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, skip, value);
}

// r2 = device type, r3 = access asked (BPF_DEVCG_ACC_*), r4 = major, r5 = minor (struct
// bpf_cgroup_dev_ctx); then one block per rule that returns 1 (allow) on a match, and 0
// (deny) after the last. device_rule's access bits are the kernel's BPF_DEVCG_ACC_* values.
std::vector<bpf_insn> program(const std::vector<device_rule>& allowed) {
  static_assert(unsigned{device_rule::mknod} == BPF_DEVCG_ACC_MKNOD &&
                unsigned{device_rule::read} == BPF_DEVCG_ACC_READ &&
                unsigned{device_rule::write} == BPF_DEVCG_ACC_WRITE);
  std::vector<bpf_insn> p = {
      load_word(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0),
      insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff),
      insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16),
      load_word(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major)),
      load_word(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (const auto& r : allowed) {
    const bool some_access = (r.access & device_rule::all) != device_rule::all;
    // Instructions in this rule's block, so that a failed test jumps past its end.
    const std::int16_t size = static_cast<std::int16_t>(4 + (r.minor >= 0) + 3 * some_access);
    std::int16_t left = size;
    const std::int32_t type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    p.push_back(jump_unless(BPF_REG_2, type, static_cast<std::int16_t>(--left)));
    p.push_back(jump_unless(BPF_REG_4, static_cast<std::int32_t>(r.major),
                            static_cast<std::int16_t>(--left)));
    if (r.minor >= 0) p.push_back(jump_unless(BPF_REG_5, r.minor, static_cast<std::int16_t>(--left)));
    if (some_access) {
      // Allowed only when the access asked has no bit outside the rule's.
      p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0));
      --left;
      p.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_6, 0, 0,
                       static_cast<std::int32_t>(~r.access & device_rule::all)));
      --left;
      p.push_back(jump_unless(BPF_REG_6, 0, static_cast<std::int16_t>(--left)));
    }
    std::ranges::copy(return_value(1), std::back_inserter(p));
  }
  std::ranges::copy(return_value(0), std::back_inserter(p));
  return p;
}

}  // namespace

result<void> attach_device_program(const cgroup_dir& dir,
                                   const std::vector<device_rule>& allowed) {
  BOOST_OUTCOME_TRY(prog, bpf::load_program(BPF_PROG_TYPE_CGROUP_DEVICE, "ovz_devices",
                                             program(allowed), "device program for " + dir.path()));
  union bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<std::uint32_t>(dir.fd());
  attach.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) != 0)
    return sys_fail(errno, "attach the BPF device program to {}", dir.path());
  return success();
}

}  // namespace ovz::detail
