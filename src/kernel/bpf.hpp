#pragma once
// The bpf(2) system call for the programs libovz writes by hand (no compiler, no libbpf at
// run time): instruction builders, program loading, hash maps and finding the map of a
// program that is already attached.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ovz::detail::bpf {

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm);
/// r0 = v; exit.
std::vector<bpf_insn> return_value(std::int32_t v);

/// Loads a program (licence GPL); `what` names it in an error, `name` in the kernel's
/// listings (at most 15 characters).
result<unique_fd> load_program(bpf_prog_type type, const char* name,
                               const std::vector<bpf_insn>& insns, const std::string& what);

/// A hash map whose entries are allocated as they are added.
result<unique_fd> create_hash_map(const char* name, std::uint32_t key_size,
                                  std::uint32_t value_size, std::uint32_t max_entries);
/// Adds or replaces one entry (key and value of the map's sizes).
result<void> map_update(int map, const void* key, const void* value);
/// Removes one entry; one already absent is not an error.
result<void> map_delete(int map, const void* key);

/// The first map used by the loaded program with that ID, when the program's name is `name`
/// (an ID may have been reused by another program since it was read).
result<unique_fd> map_of_program(std::uint32_t prog_id, const char* name);

}  // namespace ovz::detail::bpf
