#!/usr/bin/env bats
# Lesson 5's NAT and published-port recipes, run exactly as lesson.md prints them, inside three
# network namespaces this test makes: HOST (the bridge, the rules), BOX (behind the bridge,
# a web page on port 80) and WORLD (another machine, a web page on port 8080, no route back to
# the bridge's network). Nothing runs in the host's own network namespace: its tables, routes
# and sysctls are never touched.
load helpers

LESSON="$ROOT/lessons/05-network/lesson.md"

setup() {
  requires_root
  requires busybox
  requires curl
  PIDS=()
  NS_DIR="$BATS_TEST_TMPDIR/www"
}

teardown() {
  local p
  # Reaped quietly: bash would report each as "Killed".
  for p in "${PIDS[@]}"; do { kill -KILL "$p" && wait "$p"; } 2>/dev/null || true; done
}

# The code blocks of lesson.md's "Out to the world" section for one tool (iptables or nft),
# with those that name neither (the sysctls), in the order the lesson gives them.
recipe() {
  awk -v tool="$1" '
    function keep(b) { ip = index(b, "iptables ") > 0; nf = index(b, "nft ") > 0; return (!ip && !nf) || (tool == "iptables" ? ip : nf) }
    /^## / { on = ($0 ~ /^## Out to the world/); next }
    on && /^```/ { if (inside) { if (keep(block)) printf "%s", block; block = ""; inside = 0 } else inside = 1; next }
    on && inside { block = block $0 "\n" }
  ' "$LESSON"
}

# A process in a new network namespace, its PID kept in the variable named $1. Never ours.
new_netns() {
  unshare --net sleep infinity </dev/null >/dev/null 2>&1 3>&- &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    [ -e "/proc/$pid/ns/net" ] && [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
  done
  [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] || fail "process $pid did not get a network namespace of its own"
  printf -v "$1" %s "$pid"
}

in_ns() { local pid=$1; shift; nsenter --target "$pid" --net "$@"; }

# A web page saying WORD on PORT, served in the namespace of PID.
serve() {
  mkdir -p "$NS_DIR/$2"
  echo "$2" >"$NS_DIR/$2/index.html"
  nsenter --target "$1" --net busybox httpd -f -p "$3" -h "$NS_DIR/$2" </dev/null >/dev/null 2>&1 3>&- &
  PIDS+=("$!")
}

# The page at ADDRESS, fetched from the namespace of PID (curl: the static busybox's wget
# crashes on Debian 12).
fetch() { in_ns "$1" curl -sS --max-time 3 "http://$2/"; }

# HOST with boxlab-br0 (203.0.113.1/24) and up0 (198.51.100.1/24) to WORLD (198.51.100.2/24);
# BOX is 203.0.113.2 on the bridge, its default route via the bridge.
topology() {
  new_netns HOST
  new_netns BOX
  new_netns WORLD
  for ns in "$HOST" "$BOX" "$WORLD"; do in_ns "$ns" ip link set lo up; done
  in_ns "$HOST" ip link add boxlab-br0 type bridge
  in_ns "$HOST" ip addr add 203.0.113.1/24 dev boxlab-br0
  in_ns "$HOST" ip link set boxlab-br0 up
  in_ns "$HOST" ip link add boxlab-h1 type veth peer name eth0 netns "$BOX"
  in_ns "$HOST" ip link set boxlab-h1 master boxlab-br0 up
  in_ns "$BOX" ip addr add 203.0.113.2/24 dev eth0
  in_ns "$BOX" ip link set eth0 up
  in_ns "$BOX" ip route add default via 203.0.113.1
  in_ns "$HOST" ip link add up0 type veth peer name eth0 netns "$WORLD"
  in_ns "$HOST" ip addr add 198.51.100.1/24 dev up0
  in_ns "$HOST" ip link set up0 up
  in_ns "$WORLD" ip addr add 198.51.100.2/24 dev eth0
  in_ns "$WORLD" ip link set eth0 up
  serve "$BOX" box 80
  serve "$WORLD" world 8080
  # Both servers answer in their own namespace before anything else is tried.
  for _ in $(seq 50); do fetch "$BOX" 127.0.0.1:80 >/dev/null 2>&1 && fetch "$WORLD" 127.0.0.1:8080 >/dev/null 2>&1 && return; sleep 0.1; done
  fail "the test's web servers did not start"
}

recipe_works() {
  # Not "lines": bats' run sets that.
  local tool=$1 script
  script=$(recipe "$tool")
  [ -n "$script" ] || fail "no $tool recipe found in $LESSON"
  topology
  # Without the recipe: no forwarding, no NAT; the world has no route back to the bridge.
  run fetch "$BOX" 198.51.100.2:8080
  assert_failure
  run in_ns "$HOST" bash -euo pipefail -c "$script"
  assert_success
  # Out to the world: the box reaches it (forwarded, masqueraded to the host's address), and its
  # connection to port 8080 elsewhere is not caught by the published port.
  run fetch "$BOX" 198.51.100.2:8080
  assert_success
  assert_output world
  # The published port, from another machine: PREROUTING's DNAT, to the host's address only.
  run fetch "$WORLD" 198.51.100.1:8080
  assert_success
  assert_output box
  # The published port, from the host itself on 127.0.0.1: OUTPUT's DNAT, route_localnet and
  # the loopback masquerade.
  run fetch "$HOST" 127.0.0.1:8080
  assert_success
  assert_output box
}

@test "lesson 5's NAT and published-port recipe with iptables works, in network namespaces of its own" {
  requires iptables
  recipe_works iptables
}

@test "lesson 5's NAT and published-port recipe with nftables works, in network namespaces of its own" {
  requires nft
  recipe_works nft
}

@test "lesson 5's recipes are whole: each tool's part creates every chain its rules name" {
  run recipe iptables
  assert_output --partial 'net.ipv4.ip_forward=1'
  assert_output --partial '--dst-type LOCAL'
  assert_output --partial 'route_localnet=1'
  refute_output --partial 'nft '
  run recipe nft
  refute_output --partial 'iptables '
  # Every chain a rule or a chain names is made first, in the same table.
  local made=() line
  while read -r line; do
    case "$line" in
      'nft add table '*) ;;
      'nft add chain '*) made+=("$(awk '{ print $4, $5, $6 }' <<<"$line")") ;;
      'nft add rule '*) [[ " ${made[*]} " == *" $(awk '{ print $4, $5, $6 }' <<<"$line") "* ]] || fail "rule in a chain never made: $line" ;;
    esac
  done <<<"$output"
}
