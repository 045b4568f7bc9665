#!/usr/bin/env bash
# Makes `boxlab` a command: a symbolic link DIR/boxlab -> this checkout's bin/boxlab.js
# (DIR is /usr/local/bin unless given; it is on root's PATH and on sudo's secure_path).
# Like `npm link`, without npm's global prefix. Idempotent: a link already pointing here is
# left alone, one pointing to another checkout is moved here, and a file that is not a link
# (another program called boxlab) is never replaced.
set -euo pipefail
dir=${1:-/usr/local/bin}
target="$(cd "$(dirname "$0")/.." && pwd -P)/bin/boxlab.js"
link="$dir/boxlab"

if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
  echo "link-command: boxlab is a command already ($link -> $target)"
  exit 0
fi
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "link-command: $link exists and is not a link, so it is left as it is; run $target instead" >&2
  exit 1
fi
[ -x "$target" ] || chmod +x "$target"
mkdir -p "$dir"
# A new link renamed over the old one: the command is never missing, even for a moment.
ln -s "$target" "$link.new.$$"
mv -fT "$link.new.$$" "$link"
echo "link-command: boxlab is now a command ($link -> $target)"
if [ "$(command -v boxlab || true)" != "$link" ]; then
  echo "link-command: note: this shell's PATH does not find $link first as boxlab; run it by that path" >&2
fi
