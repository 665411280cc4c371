#include "kernel/source_filter.hpp"

#include "fail.hpp"
#include "kernel/bpf.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <array>
#include <cstddef>
#include <cstring>

namespace ovz::detail {
namespace {

using bpf::insn;

constexpr const char* prog_name = "ovz_venet_src";  // also the map's
// Addresses one VE may have; entries are allocated as they are added.
constexpr std::uint32_t max_addresses = 4096;

// The map's key: the family (4 or 6, host order) and the address, IPv4 in its first 4 bytes.
struct source_key {
  std::uint32_t family = 0;
  std::array<std::uint8_t, 16> addr{};
};
static_assert(sizeof(source_key) == 20);

source_key key_of(const ip_address& a) {
  source_key k;
  k.family = a.family == AF_INET ? 4 : 6;
  std::memcpy(k.addr.data(), a.bytes.data(), a.family == AF_INET ? 4 : 16);
  return k;
}

// At tc ingress skb->data is the Ethernet header of the frame the VE sent.
constexpr int eth_len = ETH_HLEN;
constexpr int ipv4_saddr = eth_len + 12;
constexpr int ipv6_saddr = eth_len + 8;
constexpr std::int16_t key_at = -24;  // on the stack, 8-aligned

// A forward-only assembler: jumps name a label and are patched when it is placed.
class program {
 public:
  enum label { ipv4, lookup, pass, drop, labels };
  void add(bpf_insn i) { p_.push_back(i); }
  void jump(std::uint8_t op, std::uint8_t reg, std::int32_t imm, label to) {
    fixups_.push_back({p_.size(), to});
    add(insn(BPF_JMP | op | BPF_K, reg, 0, 0, imm));
  }
  void place(label l) { at_[l] = p_.size(); }
  std::vector<bpf_insn> done() {
    for (auto [from, to] : fixups_)
      p_[from].off = static_cast<std::int16_t>(at_[to] - from - 1);
    return std::move(p_);
  }

 private:
  std::vector<bpf_insn> p_;
  std::vector<std::pair<std::size_t, label>> fixups_;
  std::array<std::size_t, labels> at_{};
};

// r6 = skb, r7 = its protocol (network order); the key is built on the stack and looked up.
std::vector<bpf_insn> source_check(int map_fd) {
  program p;
  const auto addr_at =
      static_cast<std::int16_t>(key_at + static_cast<int>(offsetof(source_key, addr)));
  auto load_source = [&](int offset, std::int32_t size) {
    // bpf_skb_load_bytes(skb, offset, key.addr, size): fails on a frame too short.
    p.add(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0));
    p.add(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, offset));
    p.add(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0));
    p.add(insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, addr_at));
    p.add(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, size));
    p.add(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes));
    p.jump(BPF_JNE, BPF_REG_0, 0, program::drop);
  };
  auto store_family = [&](std::int32_t family) {
    p.add(insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, key_at, family));
  };

  p.add(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0));
  p.add(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_6,
             offsetof(__sk_buff, protocol), 0));
  p.jump(BPF_JEQ, BPF_REG_7, htons(ETH_P_ARP), program::pass);
  for (std::int16_t off = key_at; off < 0; off += 8)
    p.add(insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, off, 0));
  p.jump(BPF_JEQ, BPF_REG_7, htons(ETH_P_IP), program::ipv4);
  p.jump(BPF_JNE, BPF_REG_7, htons(ETH_P_IPV6), program::drop);
  store_family(6);
  load_source(ipv6_saddr, 16);
  // fe80::/10
  p.add(insn(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_1, BPF_REG_10, addr_at, 0));
  p.jump(BPF_JNE, BPF_REG_1, 0xfe, program::lookup);
  p.add(insn(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_1, BPF_REG_10,
             static_cast<std::int16_t>(addr_at + 1), 0));
  p.add(insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, 0xc0));
  p.jump(BPF_JEQ, BPF_REG_1, 0x80, program::pass);
  p.jump(BPF_JA, 0, 0, program::lookup);
  p.place(program::ipv4);
  store_family(4);
  load_source(ipv4_saddr, 4);
  p.place(program::lookup);
  // r1 = the map (a 16-byte load of its fd, which the kernel turns into the map)
  p.add(insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd));
  p.add(insn(0, 0, 0, 0, 0));
  p.add(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
  p.add(insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, key_at));
  p.add(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  p.jump(BPF_JEQ, BPF_REG_0, 0, program::drop);
  p.place(program::pass);
  for (auto i : bpf::return_value(TC_ACT_OK)) p.add(i);
  p.place(program::drop);
  for (auto i : bpf::return_value(TC_ACT_SHOT)) p.add(i);
  return p.done();
}

result<unique_fd> map_of(netlink::socket& host, int index) {
  BOOST_OUTCOME_TRY(ids, host.ingress_bpf_programs(index));
  for (auto id : ids) {
    auto map = bpf::map_of_program(id, prog_name);
    if (map) return std::move(*map);
    if (!map.error().is(errc::not_found)) return map.error();  // not merely someone else's
  }
  return fail(errc::not_found,
              "the host end has no source address filter (made by an older libovz?): restart "
              "the VE");
}

}  // namespace

result<void> attach_source_filter(netlink::socket& host, int index) {
  BOOST_OUTCOME_TRY(map, bpf::create_hash_map(prog_name, sizeof(source_key), 1, max_addresses));
  BOOST_OUTCOME_TRY(prog, bpf::load_program(BPF_PROG_TYPE_SCHED_CLS, prog_name,
                                            source_check(map.get()), "venet source check"));
  BOOST_OUTCOME_TRY(host.add_clsact(index));
  return host.add_ingress_bpf(index, prog.get(), prog_name);
}

result<void> allow_source(netlink::socket& host, int index, const ip_address& a, bool allowed) {
  auto found = map_of(host, index);
  // A pair made before libovz filtered sources forbids nothing, and cannot allow either.
  if (!found && !allowed && found.error().is(errc::not_found)) return success();
  BOOST_OUTCOME_TRY(map, std::move(found));
  const auto key = key_of(a);
  const std::uint8_t yes = 1;
  if (allowed) return bpf::map_update(map.get(), &key, &yes);
  return bpf::map_delete(map.get(), &key);
}

}  // namespace ovz::detail
