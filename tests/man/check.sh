#!/usr/bin/env bash
# A program's manual page against the program: every command its --help lists has an entry
# in the page, every option a command line names (--word) is in it too, and groff reads the page
# without a warning.
#
#   check.sh PROGRAM PAGE
set -euo pipefail
program=${1:?usage: check.sh PROGRAM PAGE}
page=${2:?usage: check.sh PROGRAM PAGE}
fail=0

warnings=$(groff -man -ww -z "$page" 2>&1) || true
if [ -n "$warnings" ]; then
  echo "groff warns about $page:"; echo "$warnings"; fail=1
fi

# The page's text as man shows it, without its fonts: entries are lines of their own.
text=$(MANWIDTH=200 man -l -P cat "$page" 2>/dev/null | col -b)
help=$("$program" --help)
# Command lines: two spaces and a lower-case word, in ovzctl's "Commands:" section, or all
# of ovz-oci's usage (which has no such heading).
commands=$(awk '/^Commands:/ { c = 1; next } /^Options:/ { c = 0 }
                (c || !seen_heading) && /^  [a-z]/ { print }
                /^Commands:/ { seen_heading = 1 }' <<<"$help")
# A first word on several lines with lower-case second words is a group of two-word
# commands (template list, template import); elsewhere the second word is a placeholder or
# the start of the command's description.
groups=$(awk '{ print $1 }' <<<"$commands" | sort | uniq -d)
while read -r first second _; do
  name=$first
  if grep -qx "$first" <<<"$groups" && [[ $second =~ ^[a-z] ]]; then name="$first $second"; fi
  grep -qE "^ {0,8}$name( |$)" <<<"$text" || { echo "$page: no entry for '$name'"; fail=1; }
done <<<"$commands"
for option in $(grep -oE -- '--[a-z][a-z_-]*' <<<"$help" | sort -u); do
  grep -qF -- "$option" <<<"$text" || { echo "$page: option $option is not described"; fail=1; }
done
[ $fail -eq 0 ] && echo "$page: every command and option of $(basename "$program") is in it"
exit $fail
