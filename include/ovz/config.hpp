#pragma once
/// @file
/// CTID.conf: a VE's configuration as OpenVZ writes it, `KEY="value"` lines.

#include <ovz/export.hpp>
#include <ovz/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// The configuration of one VE. Keeps comments, blank lines and the order of keys, so a file
/// a person edited reads back as they wrote it after a set(). Keys are OpenVZ's names
/// (HOSTNAME, OSTEMPLATE, …), values are stored unquoted.
class OVZ_API ve_config {
 public:
  /// Parses the text of a CTID.conf. Accepts `KEY="value"`, `KEY='value'` and `KEY=value`,
  /// `#` comments, blank lines and an optional leading `export `. A malformed line is refused
  /// with errc::bad_config naming its line number and a short, escaped excerpt of it.
  /// `origin` names the file in messages.
  static result<ve_config> parse(std::string_view text, std::string_view origin = "CTID.conf");
  /// Reads and parses a file, which must be a regular file: a symlink is refused rather than
  /// followed (a CTID.conf linked to /etc/shadow is not read), and a FIFO or device is refused
  /// at once rather than waited on.
  static result<ve_config> load(const std::filesystem::path& file);

  /// The text of the file: every line as read, changed values as `KEY="value"`.
  std::string serialize() const;
  /// Writes the file atomically (a temporary file renamed over it, fsynced). The temporary
  /// file is unnamed (O_TMPFILE) until just before the rename, so a save killed midway leaves
  /// nothing; a name left by a kill right before the rename is removed by the next save of
  /// the same file once its process is gone.
  result<void> save(const std::filesystem::path& file) const;

  std::optional<std::string> get(std::string_view key) const;
  /// Sets a key (replacing its value in place, or appending a line). Keys must match
  /// [A-Z_][A-Z0-9_]*; values may not contain a newline, a double quote or a backslash.
  result<void> set(std::string_view key, std::string_view value);
  /// Removes every line of a key; true if it was there.
  bool erase(std::string_view key);
  /// The keys in file order.
  std::vector<std::string> keys() const;

 private:
  struct line {
    std::string raw;    // the text as read, used while the line is unchanged
    std::string key;    // empty for comments and blank lines
    std::string value;  // unquoted
  };
  std::vector<line> lines_;
};

}  // namespace ovz::inline v0
