#!/usr/bin/env bash
# Prints the Debian archive this machine's apt already uses, for the scripts that run
# debootstrap (vm.sh, fresh-host.sh): the project names no mirror of its own.
#
#   bash scripts/apt-mirror.sh      (APT_ROOT=DIR reads DIR/etc/apt instead: for the tests)
#
# Reads sources.list, then sources.list.d/*.list and *.sources in apt's order (one-line and
# deb822 formats), and prints the first URI of a `deb` entry that debootstrap can fetch the main
# archive from: http or https (not cdrom:, file:), not a security archive (a -security suite or
# a .../debian-security path holds only updates). Without one: one line on stderr, exit 1.
set -euo pipefail
etc=${APT_ROOT:-}/etc/apt

# URI SUITE...: prints URI, without its trailing slash, if it is such an archive.
usable() {
  local uri=$1 suite
  shift
  while [[ $uri == */ ]]; do uri=${uri%/}; done
  [[ $uri =~ ^https?://[^/] ]] || return 1
  [[ $uri == */debian-security ]] && return 1
  for suite; do [[ $suite == *-security ]] && return 1; done
  echo "$uri"
}

# One-line format: deb [options] URI SUITE COMPONENTS... The options may hold spaces.
one_line='^[[:space:]]*deb([[:space:]]*\[[^]]*\])?[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)'
from_list() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    line=${line%%#*}
    [[ $line =~ $one_line ]] && usable "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" && return 0
  done <"$1"
  return 1
}

# deb822 format: stanzas of Field: value, separated by blank lines; a value may go on over
# lines that start with a space; URIs and Suites may each hold several.
types='' uris='' suites='' enabled=''
stanza_done() {
  local ok=1 uri list suite_list
  read -ra list <<<"$uris"
  read -ra suite_list <<<"$suites"
  # apt reads no, false, off (any case) as "no".
  if [[ " $types " == *" deb "* && ! ${enabled,,} =~ ^(no|false|off)$ ]]; then
    for uri in "${list[@]}"; do usable "$uri" "${suite_list[@]}" && { ok=0; break; }; done
  fi
  types='' uris='' suites='' enabled=''
  return "$ok"
}
from_sources() {
  local line field='' value
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    if [[ $line =~ ^[[:space:]]*$ ]]; then
      stanza_done && return 0
      field=''
      continue
    fi
    [[ $line =~ ^[[:space:]]*# ]] && continue
    if [[ $line =~ ^[[:space:]] ]]; then
      value=$line
    elif [[ $line =~ ^([^:[:space:]]+):(.*)$ ]]; then
      field=${BASH_REMATCH[1],,} value=${BASH_REMATCH[2]}
    else
      continue
    fi
    case $field in
      types) types+=" $value" ;;
      uris) uris+=" $value" ;;
      suites) suites+=" $value" ;;
      enabled) enabled=${value//[[:space:]]/} ;;
    esac
  done <"$1"
  stanza_done
}

[ -r "$etc/sources.list" ] && from_list "$etc/sources.list" && exit 0
shopt -s nullglob
while IFS= read -r file; do
  [ -r "$file" ] || continue
  case $file in
    *.list) from_list "$file" && exit 0 ;;
    *.sources) from_sources "$file" && exit 0 ;;
  esac
done < <(printf '%s\n' "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources | LC_ALL=C sort)
echo "apt-mirror: no Debian archive (a deb entry, http or https, not security) in $etc/sources.list or $etc/sources.list.d: set BOXLAB_VM_MIRROR (npm run vm) or BOXLAB_MIRROR (fresh-host.sh) to one" >&2
exit 1
