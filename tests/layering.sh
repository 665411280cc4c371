#!/bin/bash
# The rooms of src/ keep to README's Design: model/ makes no system call (it includes nothing
# of kernel/, ve/ or template/, no header whose functions are system calls, and no
# std::filesystem call that reaches the disk), and kernel/ knows nothing of the rooms above it.
# Usage: layering.sh SRC_DIR
set -u
src=${1:?usage: layering.sh SRC_DIR}
status=0
complain() { echo "$1"; status=1; }

syscall_headers='unistd\.h|fcntl\.h|dirent\.h|poll\.h|spawn\.h|signal\.h|csignal|fstream|sys/(stat|mount|syscall|wait|ioctl|socket|resource|prctl|file|mman|epoll|inotify|timerfd|eventfd)\.h'
while IFS= read -r hit; do
  complain "model/ must make no system call: $hit"
done < <(grep -nE "#include [<\"](kernel|ve|template)/|#include <($syscall_headers)>" \
           "$src"/model/* 2>/dev/null)
while IFS= read -r hit; do
  complain "model/ must not touch the disk: $hit"
done < <(grep -nE 'std::filesystem::(directory_iterator|recursive_directory_iterator|exists|status|symlink_status|create_[a-z_]+|remove[a-z_]*|rename|copy[a-z_]*|file_size|canonical|weakly_canonical|absolute|current_path|temp_directory_path|last_write_time|permissions|is_[a-z_]+)\b' \
           "$src"/model/* 2>/dev/null)
while IFS= read -r hit; do
  complain "kernel/ must not depend on the rooms above it: $hit"
done < <(grep -nE '#include "(model|ve|template)/' "$src"/kernel/* 2>/dev/null)

[ $status = 0 ] && echo "layering: model/ pure, kernel/ self-contained"
exit $status
