#!/usr/bin/env bash
# Proves the workshop's `vagrant up` for real, with the project's own Vagrantfile and
# provision.sh: a Debian 13 box built here (scripts/vagrant-box.sh), vagrant-libvirt (its qemu
# driver where there is no /dev/kvm), `vagrant up`, lesson 3 in the guest, `vagrant destroy`.
# Prints each phase's time, and on success records the pass in scripts/vagrant-check.passed.
#
#   sudo bash scripts/vagrant-check.sh     (installs what is missing; about 15 minutes under TCG)
#   bash scripts/vagrant-check.sh --status (when it last passed, and whether the files it covers
#                                           changed since: what .ci/run prints; never fails)
#
# It leaves the host as it found it: the domain, its volumes, the box's volume, the networks and
# storage pool vagrant-libvirt made, libvirt's iptables chains and the nft tables they came in,
# the forwarding sysctls, the box in vagrant's list and a libvirtd it started are all undone, on
# failure and Ctrl-C too, and the host's state is compared before and after.
# Networks and links are made and removed under /tmp/boxlab-kernel.lock (the kernel tests' lock),
# held from `vagrant up`'s start until the domain runs, and again for the teardown.
set -euo pipefail
cd "$(dirname "$0")/.."

marker=scripts/vagrant-check.passed
# What a pass proves: a change to any of these makes the recorded pass stale.
covered=(Vagrantfile scripts/provision.sh scripts/packages.sh scripts/packages-engines.sh
  scripts/link-command.sh scripts/vm-image.sh scripts/vagrant-box.sh scripts/vagrant-check.sh)
covered_hash() { cat "${covered[@]}" | sha256sum | cut -c1-16; }

if [ "${1:-}" = --status ]; then
  if [ ! -f "$marker" ]; then
    echo "vagrant-check: WARNING: no recorded pass ($marker): run sudo bash scripts/vagrant-check.sh"
  elif [ "$(sed -n 's/^hash=//p' "$marker")" = "$(covered_hash)" ]; then
    echo "vagrant-check: passed on $(sed -n 's/^passed=//p' "$marker") with these files ($(sed -n 's/^timings=//p' "$marker"))"
  else
    echo "vagrant-check: WARNING: the Vagrantfile, provisioning or box recipe changed since its last pass on $(sed -n 's/^passed=//p' "$marker"): run sudo bash scripts/vagrant-check.sh"
  fi
  exit 0
fi

die() { echo "vagrant-check: $*" >&2; exit 2; }
say() { echo "== vagrant-check: $*"; }
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and runs libvirtd): sudo bash scripts/vagrant-check.sh"
[ "$(uname -m)" = x86_64 ] || die "the box recipe is for x86_64 hosts"
export PATH=$PATH:/usr/sbin:/sbin LIBVIRT_DEFAULT_URI=qemu:///system
box_name=boxlab-check
# One run at a time: a second would share the box name, the domain and libvirtd. (The lock
# is on this script itself: no lock file to leave behind.)
exec {runfd}<"$0"
flock -n "$runfd" || die "another vagrant-check is running"
lock=/tmp/boxlab-kernel.lock
exec {lockfd}>>"$lock"
state=$(mktemp -d /var/tmp/vagrant-check.XXXXXX)
# The kernel tests' lock, and how long the phases waited for it (other helpers' tests hold it).
lock_wait=0
locked() {
  local t=$SECONDS
  flock "$lockfd"
  lock_wait=$((lock_wait + SECONDS - t))
  [ $((SECONDS - t)) -lt 2 ] || say "waited $((SECONDS - t)) s for $lock"
}
started=$SECONDS
timings=()
phase() {
  local name=$1 t=$SECONDS
  shift
  say "$name"
  "$@"
  timings+=("$name $((SECONDS - t)) s")
  say "$name: $((SECONDS - t)) s"
}

# --- What the host looks like, to compare at the end.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
libvirt_running() { pgrep -x libvirtd >/dev/null; }
# (Subshells without -e: an empty list is not an error.)
host_state() (
  set +e
  echo "# links"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "# nft list ruleset"
  nft list ruleset 2>/dev/null
  echo "# iptables-save, ip6tables-save"
  iptables-save 2>/dev/null | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
  ip6tables-save 2>/dev/null | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
  echo "# forwarding"
  sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding
  echo "# libvirt's processes: daemons, a network's dnsmasq, a domain's qemu"
  pgrep -l -x libvirtd | cut -d' ' -f2
  pgrep -l -x virtlogd | cut -d' ' -f2
  pgrep -a -f 'dnsmasq --conf-file=/var/lib/libvirt/' | cut -d' ' -f2-
  pgrep -a -f 'qemu-system-x86_64 -name guest=' | sed 's/.* -name guest=\([^, ]*\).*/qemu \1/'
  echo "# vagrant box list"
  # (From /: vagrant run in the project folder makes .vagrant there.)
  (cd / && vagrant box list 2>/dev/null) | grep "^$box_name "
  true
)
libvirt_state() (
  set +e
  echo "# virsh list --all"
  virsh list --all --name | sed '/^$/d'
  echo "# virsh net-list --all"
  virsh net-list --all | tail -n +3 | sed '/^$/d'
  echo "# virsh pool-list --all"
  virsh pool-list --all --name | sed '/^$/d'
  echo "# virsh vol-list default"
  virsh vol-list default 2>/dev/null | tail -n +3 | sed '/^$/d'
  true
)

# --- Packages: only what is missing. On a host without systemd, libvirt's sysv scripts (not
# systemd itself); policy-rc.d or not, libvirtd is started below, and stopped again.
need=()
for pkg in vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base fdisk e2fsprogs rsync nftables; do
  installed "$pkg" || need+=("$pkg")
done
if [[ " ${need[*]} " == *" libvirt-daemon-system "* ]] && [ ! -d /run/systemd/system ]; then
  need+=(libvirt-daemon-system-sysv)
fi
had_dot_vagrant=no
[ -e .vagrant ] && had_dot_vagrant=yes
libvirtd_before=no
libvirt_running && libvirtd_before=yes
locked
host_state >"$state/before"
flock -u "$lockfd"
install_packages() {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
[ "${#need[@]}" -eq 0 ] || phase "installing ${need[*]}" install_packages

# --- Cleanup: everything below is undone here, on success, failure or Ctrl-C.
we_started=()
vagrant_pid=
passed=no
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local status=$? name
  set +e
  trap - EXIT INT TERM
  # A vagrant still running (Ctrl-C or a failure during up) holds the machine: it goes first.
  if [ -n "$vagrant_pid" ]; then
    kill "$vagrant_pid" 2>/dev/null
    wait "$vagrant_pid" 2>/dev/null
  fi
  flock "$lockfd"
  if libvirt_running; then
    if [ -d .vagrant/machines/default/libvirt ]; then
      BOXLAB_BOX=$box_name vagrant destroy -f >/dev/null 2>&1
    fi
    # What vagrant left (or made before it failed): domains, networks, volumes, pools.
    for name in $(virsh list --all --name); do
      grep -qx "$name" "$state/libvirt-before" || { virsh destroy "$name"; virsh undefine "$name" --remove-all-storage; } >/dev/null 2>&1
    done
    for name in $(virsh net-list --name); do
      grep -q "^ *$name *active" "$state/libvirt-before" || virsh net-destroy "$name" >/dev/null
    done
    for name in $(virsh net-list --all --name); do
      grep -q "^ *$name " "$state/libvirt-before" || virsh net-undefine "$name" >/dev/null
    done
    for name in $(virsh vol-list default 2>/dev/null | awk 'NR > 2 {print $1}'); do
      sed -n '/^# virsh vol-list/,$p' "$state/libvirt-before" | grep -q "^ *$name " || virsh vol-delete --pool default "$name" >/dev/null
    done
    for name in $(virsh pool-list --all --name); do
      sed -n '/^# virsh pool-list/,/^# virsh vol-list/p' "$state/libvirt-before" | grep -qx "$name" || { virsh pool-destroy "$name"; virsh pool-undefine "$name"; } >/dev/null 2>&1
    done
    libvirt_state >"$state/libvirt-after"
  fi
  vagrant box list 2>/dev/null | grep -q "^$box_name " && vagrant box remove --force --all "$box_name" >/dev/null
  stop_daemons
  undo_firewall
  # libvirt turns forwarding on for a NAT network and leaves it so.
  sysctl -qw "net.ipv4.ip_forward=$(sed -n '/^# forwarding/{n;p}' "$state/before")"
  sysctl -qw "net.ipv6.conf.all.forwarding=$(sed -n '/^# forwarding/{n;n;p}' "$state/before")"
  [ "$had_dot_vagrant" = yes ] || rm -rf .vagrant
  host_state >"$state/after"
  flock -u "$lockfd"
  local left=no
  if ! diff -u "$state/before" "$state/after"; then left=yes; fi
  if [ -f "$state/libvirt-after" ] && ! diff -u "$state/libvirt-before" "$state/libvirt-after"; then left=yes; fi
  if [ "$left" = yes ]; then
    echo "vagrant-check: the host is not as it was (the diff above: - before, + after)" >&2
    [ "$status" = 0 ] && status=1
  else
    say "the host is as it was: links, nft and iptables rules, forwarding, libvirt's domains, networks, pools and volumes, the box list, libvirtd"
  fi
  if [ "$status" = 0 ] && [ "$passed" = yes ]; then
    {
      echo "# Written by scripts/vagrant-check.sh when it passed; .ci/run compares the hash of the files it covers."
      echo "hash=$(covered_hash)"
      echo "passed=$(date -u +%Y-%m-%dT%H:%MZ)"
      local joined
      joined=$(printf '%s, ' "${timings[@]}")
      echo "timings=${joined}all with the cleanup $((SECONDS - started)) s, of which $lock_wait s waiting for the kernel tests' lock"
    } >"$marker"
    say "recorded in $marker"
  fi
  rm -rf "$state"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# libvirtd (and virtlogd, which it sends the guests' console output to), started here only if
# it was not running; without systemd there is no socket activation to do it.
start_daemons() {
  if [ -d /run/systemd/system ]; then
    systemctl start libvirtd
    we_started+=(systemd)
  else
    pgrep -x virtlogd >/dev/null || { virtlogd -d; we_started+=(virtlogd); }
    libvirtd -d
    we_started+=(libvirtd)
  fi
  local _
  for _ in $(seq 50); do virsh version >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "libvirtd did not answer"
}
# shellcheck disable=SC2317 # called from cleanup
stop_daemons() {
  local daemon pid
  for daemon in "${we_started[@]}"; do
    case $daemon in
      systemd) systemctl stop libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket ;;
      *)
        pid=$(cat "/run/$daemon.pid" 2>/dev/null) || continue
        kill "$pid" 2>/dev/null
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
        ;;
    esac
  done
}
# libvirt's iptables chains (LIBVIRT_INP, _OUT, _FWI, _FWO, _FWX, _PRT) outlive its networks; with
# iptables-nft they came in nft tables of their own. Undone only if they were not there before.
# shellcheck disable=SC2317 # called from cleanup
undo_firewall() {
  grep -q LIBVIRT_ "$state/before" && return 0
  local cmd table family rule chain
  for cmd in iptables ip6tables; do
    family=ip
    [ "$cmd" = ip6tables ] && family=ip6
    for table in filter nat mangle; do
      "$cmd" -t "$table" -S >/dev/null 2>&1 || continue
      "$cmd" -t "$table" -S | grep -- '-j LIBVIRT_' | sed 's/^-A /-D /' | while read -r -a rule; do
        "$cmd" -t "$table" "${rule[@]}"
      done
      for chain in $("$cmd" -t "$table" -S | sed -n 's/^-N \(LIBVIRT_[A-Z]*\)$/\1/p'); do
        "$cmd" -t "$table" -F "$chain"
        "$cmd" -t "$table" -X "$chain"
      done
      # An nft table libvirt's iptables calls made, now holding no rule.
      if ! grep -qx "table $family $table {" "$state/before" && ! "$cmd" -t "$table" -S | grep -q '^-A '; then
        nft delete table "$family" "$table" 2>/dev/null
      fi
    done
  done
}

if [ "$libvirtd_before" = no ]; then
  locked
  phase "starting libvirtd" start_daemons
  flock -u "$lockfd"
fi
libvirt_state >"$state/libvirt-before"

box=
make_box() { box=$(bash scripts/vagrant-box.sh); }
phase "the box (scripts/vagrant-box.sh, cached)" make_box
phase "vagrant box add $box_name" vagrant box add --force --name "$box_name" "$box"

export BOXLAB_BOX=$box_name
# The lock is held while vagrant-libvirt makes its network and starts the domain (its tap link),
# and let go once the domain runs: the boot, rsync and provisioning take minutes.
up() {
  local before t=$SECONDS
  before=$(virsh list --name --state-running)
  locked
  vagrant up --provider libvirt {lockfd}>&- {runfd}>&- &
  vagrant_pid=$!
  while kill -0 "$vagrant_pid" 2>/dev/null && [ "$(virsh list --name --state-running)" = "$before" ]; do sleep 1; done
  flock -u "$lockfd"
  say "the domain runs after $((SECONDS - t)) s; the lock is let go"
  wait "$vagrant_pid"
  vagrant_pid=
}
phase "vagrant up --provider libvirt" up
phase "vagrant ssh: lesson 3" vagrant ssh -c 'cd /vagrant && sudo npm run lesson 3 -- --yes'
destroy() {
  locked
  vagrant destroy -f
  flock -u "$lockfd"
}
phase "vagrant destroy -f" destroy
say "all phases: $((SECONDS - started)) s, $lock_wait s of it waiting for $lock (${timings[*]})"

passed=yes
