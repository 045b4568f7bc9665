#!/usr/bin/env bash
# Turns a fresh Debian (12 or 13) into a boxlab host: the stock tools the lessons use,
# Node, the project's npm packages, `boxlab` as a command (a link in /usr/local/bin), then
# boxlab's own health check. Safe to run again.
# Used by the Vagrantfile and by .ci/run, so CI proves it on every submission.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=packages.sh
source scripts/packages.sh
# shellcheck source=packages-engines.sh
source scripts/packages-engines.sh
missing=()
for pkg in "${!NEED[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "${NEED[$pkg]}" >/dev/null || missing+=("$pkg")
done
for pkg in "${STATIC_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
  for pkg in "${!LSM_NEED[@]}"; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "${LSM_NEED[$pkg]}" >/dev/null || missing+=("$pkg")
  done
fi
# A fresh cloud VM's first boot often runs apt itself (unattended-upgrades, apt-daily): wait
# for its locks (BOXLAB_APT_WAIT seconds, 10 minutes by default) instead of failing. apt-get
# install waits by itself (DPkg::Lock::Timeout); apt-get update's lock on its lists has no such
# wait, so it is tried again while that is all that failed.
apt_wait=${BOXLAB_APT_WAIT:-600}
apt_update() {
  local start=$SECONDS err told=no
  err=$(mktemp)
  until LC_ALL=C apt-get -o DPkg::Lock::Timeout="$apt_wait" update -qq 2>"$err"; do
    if ! grep -q '^E: Could not get lock' "$err" || [ $((SECONDS - start)) -ge "$apt_wait" ]; then
      cat "$err" >&2
      rm -f "$err"
      return 1
    fi
    [ "$told" = yes ] || echo "provision: another apt holds its lock (a first boot's updates?): waiting up to $apt_wait s"
    told=yes
    sleep 3
  done
  cat "$err" >&2
  rm -f "$err"
}
if [ "${#missing[@]}" -gt 0 ]; then
  echo "provision: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  apt-get -o DPkg::Lock::Timeout="$apt_wait" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernel modules the lessons use; built in on some kernels, absent from containers.
for mod in overlay veth bridge; do
  modprobe "$mod" 2>/dev/null || true
done
if [ -d /etc/modules-load.d ] && [ -w /etc/modules-load.d ]; then
  printf '%s\n' overlay veth bridge >/etc/modules-load.d/boxlab.conf
fi

npm ci --no-audit --no-fund
# The README, the lessons and boxlab's own messages say `boxlab ...`: make it a command.
bash scripts/link-command.sh /usr/local/bin || echo "provision: run boxlab as node bin/boxlab.js (see above)"
node bin/boxlab.js doctor || echo "provision: doctor found problems (see above)"
