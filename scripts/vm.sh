#!/usr/bin/env bash
# npm run vm -- COMMAND...: runs COMMAND as root in /work (a copy of this project) inside a
# disposable Debian 13 (trixie) VM that matches the Vagrant guest: kernel 6.12, pure cgroup v2,
# util-linux 2.41. Streams its output and exits with its status.
#
# The VM is made here, with no image download: a debootstrapped trixie userland holding the
# same packages as scripts/provision.sh, plus Debian 13's kernel (apt-get download + dpkg -x).
# It is cached under /var/cache/boxlab/vm, keyed by vm-image.sh and packages.sh, and booted
# under qemu with a tiny initramfs that loads the disk drivers and switch_roots to it. The
# root disk is used with snapshot=on: each run starts from the same clean machine.
#
# KVM is used only when the CPU has vmx/svm; otherwise TCG (Debian's kernel hangs on the
# software /dev/kvm of these machines). BOXLAB_VM_MEMORY (MiB) and BOXLAB_VM_CPUS size it.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$PWD

die() { echo "vm: $*" >&2; exit 2; }
# The VM could not be built (the Debian archive did not answer): 75, EX_TEMPFAIL, so CI can
# tell "no VM today" from "the tests failed in the VM".
unavailable() { echo "vm: $*" >&2; exit 75; }
[ $# -gt 0 ] || die "usage: npm run vm -- COMMAND... (e.g. npm run vm -- npm run lesson 9 -- --yes), or bash scripts/vm.sh --base"
[ "$(id -u)" = 0 ] || die "building the VM needs root (debootstrap, mke2fs): sudo npm run vm -- ..."
for tool in debootstrap qemu-system-x86_64 mke2fs depmod cpio; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || die "$tool is missing: apt-get install debootstrap qemu-system-x86 e2fsprogs kmod cpio"
done
[ "$(uname -m)" = x86_64 ] || die "the VM recipe is for x86_64 hosts (on arm64 use the Lima VM, see README)"

# shellcheck source=packages.sh
source scripts/packages.sh
suite=trixie
cache=${BOXLAB_VM_CACHE:-/var/cache/boxlab/vm}
recipe=$(cat scripts/vm-image.sh scripts/packages.sh | sha256sum | cut -c1-12)
base="$cache/$suite-$recipe"
packages=$(printf '%s\n' "${!NEED[@]}" "${STATIC_PACKAGES[@]}" "${!LSM_NEED[@]}" | sort | paste -sd, -)
packages+=",ca-certificates,procps,e2fsprogs,tar,gzip,xz-utils"

step() { echo "vm: $*" >&2; }

# shellcheck source=vm-image.sh
source scripts/vm-image.sh

mkdir -p "$cache"
if [ ! -f "$base.img" ]; then
  # The Debian archive this machine's apt uses (BOXLAB_VM_MIRROR names another); looked up
  # only for a build, so a cached VM runs wherever it is.
  mirror=${BOXLAB_VM_MIRROR:-$(bash scripts/apt-mirror.sh)} || exit 2
  build_base
fi
# --base: only make sure the image is built, and print its path without .img (the Vagrant box
# recipe, scripts/vagrant-box.sh, starts from the same userland, kernel and initramfs).
if [ "$1" = --base ]; then
  echo "$base"
  exit 0
fi

# This project, copied onto a disk of its own (the VM may write to it; the original is untouched).
# Not under /tmp/boxlab-*: `boxlab reset` on this host must not take a running VM's disk.
work=$(mktemp -d /var/tmp/vm-boxlab.XXXXXX)
qemu_pid=
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mb=$(du -sm "$project" | cut -f1)
mke2fs -q -t ext4 -L boxlab-work -d "$project" "$work/work.img" "$((mb * 2 + 256))M" >/dev/null

accel=tcg
cpu=max
if grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ]; then accel=kvm cpu=host; fi
command_b64=$(printf '%s' "$*" | base64 -w0)
# One vCPU by default: with two, Debian's kernel was seen to oops at boot under TCG (an int3
# while patching its own code on the other CPU). A boot that dies before reporting a status
# is tried once more, from the same clean disk.
boot() {
  # Made before qemu starts: tail must find it (the redirection below opens it in the background).
  : >"$work/console"
  qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m "${BOXLAB_VM_MEMORY:-3072}" -smp "${BOXLAB_VM_CPUS:-1}" \
    -kernel "$base.vmlinuz" -initrd "$base.initramfs.gz" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 boxlab.cmd=$command_b64" \
    -drive "file=$base.img,if=virtio,format=raw,snapshot=on" \
    -drive "file=$work/work.img,if=virtio,format=raw,snapshot=on" \
    -nic none -display none -serial stdio -monitor none -no-reboot </dev/null >"$work/console" 2>&1 &
  qemu_pid=$!
  # Stream the console as it comes, without the serial line's carriage returns.
  # (sed -u, not tr: tr buffers its output when writing to a pipe, and the lines came in bursts.)
  tail -n +1 -f --pid "$qemu_pid" "$work/console" | sed -u 's/\r$//' | grep --line-buffered -vE '^BOXLAB-VM-EXIT |^\[ *[0-9.]+\] (sysrq|reboot): ' &
  local tail_pid=$!
  wait "$qemu_pid" || true
  qemu_pid=
  wait "$tail_pid" 2>/dev/null || true
  status=$(tr -d '\r' <"$work/console" | sed -n 's/^BOXLAB-VM-EXIT \([0-9]*\)$/\1/p' | tail -1)
}
for try in 1 2; do
  step "booting ($accel, $(basename "$base")${try:+, try $try}): $*"
  boot
  [ -n "$status" ] && exit "$status"
  echo "vm: the VM stopped without reporting a status (see the console above)" >&2
done
exit 1
