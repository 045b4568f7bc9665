#!/usr/bin/env bash
# Turns a fresh Debian (12 or 13) into a boxlab host: the stock tools the lessons use,
# Node, the project's npm packages, then boxlab's own health check. Safe to run again.
# Used by the Vagrantfile and by .ci/run, so CI proves it on every submission.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package -> a file it provides, to skip apt entirely when all is there.
declare -A NEED=(
  [util-linux]=/usr/bin/unshare
  [mount]=/usr/bin/mount
  [libcap2-bin]=/usr/sbin/capsh
  [iproute2]=/usr/sbin/ip
  [busybox-static]=/bin/busybox
  [coreutils]=/usr/bin/chroot
  [kmod]=/usr/sbin/modprobe
)
command -v node >/dev/null || NEED[nodejs]=/usr/bin/node
command -v npm >/dev/null || NEED[npm]=/usr/bin/npm

missing=()
for pkg in "${!NEED[@]}"; do
  # busybox-static must be the static build: the dynamic `busybox` package cannot run in a chroot.
  if [ "$pkg" = busybox-static ]; then dpkg -s busybox-static >/dev/null 2>&1 || missing+=("$pkg"); continue; fi
  [ -e "${NEED[$pkg]}" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "provision: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernel modules the lessons use; built in on some kernels, absent from containers.
for mod in overlay veth bridge; do
  modprobe "$mod" 2>/dev/null || true
done
if [ -d /etc/modules-load.d ] && [ -w /etc/modules-load.d ]; then
  printf '%s\n' overlay veth bridge >/etc/modules-load.d/boxlab.conf
fi

npm ci --no-audit --no-fund
node bin/boxlab.js doctor || echo "provision: doctor found problems (see above)"
