#!/usr/bin/env bats
# shellcheck disable=SC2154 # stderr: set by run --separate-stderr
# scripts/apt-mirror.sh: the Debian archive vm.sh and fresh-host.sh debootstrap from, read from
# apt's sources (fixture trees under APT_ROOT here; no root needed, nothing fetched).
load helpers
bats_require_minimum_version 1.5.0

setup() {
  apt=$BATS_TEST_TMPDIR/etc/apt
  mkdir -p "$apt/sources.list.d"
}

apt_mirror() { APT_ROOT=$BATS_TEST_TMPDIR bash "$ROOT/scripts/apt-mirror.sh"; }

@test "sources.list, one-line format: the first deb line's URI, without its trailing slash" {
  cat >"$apt/sources.list" <<'EOF'
# deb http://commented.example/debian trixie main
deb-src http://src.example/debian trixie main
deb cdrom:[Debian GNU/Linux 13 _Trixie_]/ trixie main
deb file:/srv/debian trixie main
deb file:///srv/debian trixie main
deb ftp://ftp.example/debian trixie main
deb mirror+http://list.example/mirrors.txt trixie main
deb http://sec.example/debian-security bookworm/updates main
deb http://sec.example/debian trixie-security main
   deb http://mirror.example/debian/ trixie main contrib # a comment
deb http://later.example/debian trixie main
EOF
  run --separate-stderr apt_mirror
  assert_success
  assert_output 'http://mirror.example/debian'
  assert_equal "$stderr" ''
}

@test "options in brackets, with or without spaces inside" {
  echo 'deb [arch=amd64 signed-by=/x] https://opts.example/debian trixie main' >"$apt/sources.list"
  run apt_mirror
  assert_success
  assert_output 'https://opts.example/debian'

  echo 'deb [ arch=amd64 signed-by=/usr/share/keyrings/x.gpg ] http://spaced.example/debian/ trixie main' >"$apt/sources.list"
  run apt_mirror
  assert_success
  assert_output 'http://spaced.example/debian'
}

@test "deb822: disabled, deb-src and security stanzas skipped; of two URIs, the first" {
  cat >"$apt/sources.list.d/debian.sources" <<'EOF'
# The machine's archive, in deb822.
Types: deb
URIs: http://disabled.example/debian
Suites: trixie
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: trixie
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: trixie-security
Components: main

Types: deb
URIs: http://security.example/debian
Suites: trixie-security
Components: main

Types: deb deb-src
# a comment inside a stanza
URIs: http://one.example/debian/ http://two.example/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  run --separate-stderr apt_mirror
  assert_success
  assert_output 'http://one.example/debian'
  assert_equal "$stderr" ''
}

@test "deb822: a URI that is not http(s) gives way to the next; field names in any case, values over lines" {
  cat >"$apt/sources.list.d/mirrors.sources" <<'EOF'
types: deb
uris: file:/srv/debian
 cdrom:/media/cdrom
    https://next.example/debian
suites: trixie
ENABLED: yes
EOF
  run apt_mirror
  assert_success
  assert_output 'https://next.example/debian'
}

@test "order: sources.list first, then sources.list.d's .list and .sources by name" {
  echo '# nothing here' >"$apt/sources.list"
  printf 'Types: deb\nURIs: http://a.example/debian\nSuites: trixie\n' >"$apt/sources.list.d/10-a.sources"
  echo 'deb http://b.example/debian trixie main' >"$apt/sources.list.d/20-b.list"
  echo 'deb http://ignored.example/debian trixie main' >"$apt/sources.list.d/00-c.list.disabled"
  run apt_mirror
  assert_success
  assert_output 'http://a.example/debian'

  echo 'deb http://first.example/debian trixie main' >"$apt/sources.list"
  run apt_mirror
  assert_success
  assert_output 'http://first.example/debian'
}

@test "only deb-src and cdrom: entries: one line on stderr naming the overrides, exit 1" {
  cat >"$apt/sources.list" <<'EOF'
deb cdrom:[Debian GNU/Linux 13 _Trixie_ - Official amd64 DVD]/ trixie main
deb-src http://src.example/debian trixie main
EOF
  printf 'Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\n' >"$apt/sources.list.d/src.sources"
  run --separate-stderr apt_mirror
  assert_failure 1
  assert_output ''
  assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
  assert_regex "$stderr" '^apt-mirror: no Debian archive .*BOXLAB_VM_MIRROR.*BOXLAB_MIRROR'
}

@test "no apt sources at all: the same one line, exit 1" {
  rm -rf "$apt"
  run --separate-stderr apt_mirror
  assert_failure 1
  assert_output ''
  assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
}

@test "this machine's own apt sources give an http(s) archive" {
  [ -d /etc/apt ] || skip "no /etc/apt here (not a Debian machine)"
  run --separate-stderr bash "$ROOT/scripts/apt-mirror.sh"
  assert_success
  assert_output --regexp '^https?://[^[:space:]]+$'
  assert_equal "${#lines[@]}" 1
}
