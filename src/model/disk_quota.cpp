#include <ovz/disk_quota.hpp>

#include "fail.hpp"
#include "model/text.hpp"

#include <charconv>

namespace ovz::inline v0 {
namespace {

// One side of "SOFT:HARD": digits, and with `blocks` a K/M/G/T suffix turning bytes into
// 1 KiB blocks (rounded up, so a limit never ends below what was asked).
result<std::uint64_t> parse_side(std::string_view whole, std::string_view text, bool blocks) {
  auto refuse = [&](std::string_view why) {
    return detail::fail(errc::invalid_argument, "Invalid value \"{}\": {}", detail::excerpt(whole),
                        why);
  };
  if (text.empty()) return refuse("missing number");
  if (text == "unlimited")
    return refuse("a VE's disk has a size: give one, or leave DISKSPACE unset for no image");
  if (text.front() < '0' || text.front() > '9') return refuse("not a number");
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) return refuse("too large");
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (suffix.empty()) return n;
  const std::uint64_t mul =
      blocks && suffix.size() == 1 ? detail::binary_multiple(suffix.front()).value_or(0) : 0;
  if (mul == 0) return refuse(fmt::format("unknown suffix '{}'", suffix));
  if (n > ~std::uint64_t{0} / mul) return refuse("too large");
  const std::uint64_t bytes = n * mul;
  return bytes / 1024 + (bytes % 1024 != 0);
}

}  // namespace

result<disk_limit> parse_disk_limit(std::string_view text, bool blocks) {
  auto colon = text.find(':');
  auto soft_text = text.substr(0, colon);
  auto hard_text = colon == std::string_view::npos ? soft_text : text.substr(colon + 1);
  if (hard_text.find(':') != std::string_view::npos)
    return detail::fail(errc::invalid_argument, "Invalid value \"{}\": expected SOFT or SOFT:HARD",
                        detail::excerpt(text));
  BOOST_OUTCOME_TRY(soft, parse_side(text, soft_text, blocks));
  BOOST_OUTCOME_TRY(hard, parse_side(text, hard_text, blocks));
  if (soft > hard)
    return detail::fail(errc::invalid_argument,
                        "Invalid value \"{}\": soft limit {} is above hard limit {}",
                        detail::excerpt(text), soft, hard);
  return disk_limit{soft, hard};
}

std::string format_disk_limit(const disk_limit& l) { return fmt::format("{}:{}", l.soft, l.hard); }

result<void> check_disk_params(const disk_params& p) {
  auto check = [](const char* key, const std::optional<disk_limit>& l, std::uint64_t minimum,
                  const char* unit) -> result<void> {
    if (!l) return success();
    if (l->soft > l->hard)
      return detail::fail(errc::invalid_argument, "{}: soft limit {} is above hard limit {}", key,
                          l->soft, l->hard);
    if (l->hard < minimum)
      return detail::fail(errc::invalid_argument, "{}: hard limit {} is below the minimum, {} {}",
                          key, l->hard, minimum, unit);
    return success();
  };
  BOOST_OUTCOME_TRY(check("DISKSPACE", p.diskspace, min_diskspace_kib, "1 KiB blocks (16M)"));
  BOOST_OUTCOME_TRY(check("DISKINODES", p.diskinodes, min_diskinodes, "inodes"));
  return success();
}

std::string format_disk_quota(const disk_quota& q) {
  auto row = [](std::string_view name, const disk_usage& u) {
    return fmt::format("{:>11} {:>14} {:>14} {:>14} {:>8}\n", name, u.usage, u.soft, u.hard,
                       u.grace ? std::to_string(*u.grace) : std::string());
  };
  return fmt::format("{:>11} {:>14} {:>14} {:>14} {:>8}\n", "resource", "usage", "softlimit",
                     "hardlimit", "grace") +
         row("1k-blocks", q.blocks) + row("inodes", q.inodes);
}

std::string format_ugid_quotas(const std::vector<ugid_quota>& all) {
  auto grace = [](const disk_usage& u) { return u.grace ? std::to_string(*u.grace) : ""; };
  std::string out = fmt::format("{:<12} {:>10} {:>10} {:>10} {:>6} {:>8} {:>8} {:>8} {:>6}\n",
                                "owner", "1k-blocks", "soft", "hard", "grace", "inodes", "soft",
                                "hard", "grace");
  for (const auto& q : all) {
    const auto owner = fmt::format(
        "{} {}", q.owner.type == quota_ugid::kind::user ? "user" : "group", q.owner.id);
    out += fmt::format("{:<12} {:>10} {:>10} {:>10} {:>6} {:>8} {:>8} {:>8} {:>6}\n", owner,
                       q.blocks.usage, q.blocks.soft, q.blocks.hard, grace(q.blocks),
                       q.inodes.usage, q.inodes.soft, q.inodes.hard, grace(q.inodes));
  }
  return out;
}

}  // namespace ovz::inline v0
