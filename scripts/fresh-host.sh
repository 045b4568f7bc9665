#!/usr/bin/env bash
# Proves the README's two set-up commands on a fresh machine: a minimal Debian (debootstrap
# minbase: no node, no procps, no ca-certificates) gets a clean clone of this repository's HEAD,
# then runs, as its root, `bash scripts/provision.sh && npm test` (or the command given).
# It shares this host's kernel, so the tests exercise this host's cgroup layout.
#
#   bash scripts/fresh-host.sh bookworm|trixie [COMMAND]     (root; about 10 minutes)
#
# The tree is entered with pivot_root in a mount namespace of its own, not chroot: setns(2)
# into a mount namespace sets the root to the namespace's, so every `nsenter --mount` of the
# lessons would land in this host's tree. Nothing it mounts outlives that namespace; the tree is
# removed at the end. Services that packages install are not started (policy-rc.d).
set -euo pipefail
suite=${1:?usage: bash scripts/fresh-host.sh bookworm|trixie [COMMAND]}
command=${2:-bash scripts/provision.sh && npm test}
[ "$(id -u)" = 0 ] || { echo "fresh-host: run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null || { echo "fresh-host: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
# The Debian archive this machine's apt uses; BOXLAB_MIRROR names another.
mirror=${BOXLAB_MIRROR:-$(bash "$repo/scripts/apt-mirror.sh")}

# Not under /tmp/boxlab-: that prefix is what boxlab reset removes and the tests count.
tree=$(mktemp -d /var/tmp/fresh-debian.XXXXXX)
trap 'rm -rf --one-file-system "$tree"' EXIT
echo "fresh-host: debootstrap --variant=minbase $suite into $tree, from $mirror"
debootstrap --variant=minbase "$suite" "$tree/root" "$mirror" >"$tree/debootstrap.log" 2>&1 ||
  { tail -5 "$tree/debootstrap.log" >&2; exit 1; }
root=$tree/root
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's own trust store (a TLS-inspecting proxy's CA, say) belongs to the machine, not
# to what provision.sh installs: the copy stands in for it.
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/machine-ca.crt" 2>/dev/null || true
git clone -q "$repo" "$root/srv/boxlab"

echo "fresh-host: in $suite: $command"
# shellcheck disable=SC2016 # expanded by the inner bash
unshare --mount --propagation private --fork bash -euc '
  root=$1 command=$2
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs tmpfs "$root/run"
  mkdir -p "$root/.old"
  cd "$root"
  pivot_root . .old
  ca=""
  [ -s /etc/ssl/certs/machine-ca.crt ] && ca=NODE_EXTRA_CA_CERTS=/etc/ssl/certs/machine-ca.crt
  exec chroot . env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb CI=true $ca \
    bash -c "umount -l /.old && rmdir /.old && cd /srv/boxlab && $command"
' fresh-host "$root" "$command"
