#!/usr/bin/env bash
# Builds a Vagrant box for vagrant-libvirt from the Debian 13 userland `npm run vm` uses, with
# no image download, and prints its path. Used by scripts/vagrant-check.sh.
#
#   bash scripts/vagrant-box.sh        (root; about 10 minutes the first time, then cached)
#
# The VM image (scripts/vm.sh --base) is an ext4 file system with no bootloader and no systemd.
# The box is that userland copied onto a partitioned disk, plus what a Vagrant box needs: a
# kernel and GRUB, systemd with DHCP on the NIC (networkd, resolved), sshd, rsync (the synced
# folder), a `vagrant` user with passwordless sudo and Vagrant's insecure public key.
# The copy and the installs run inside that same VM under qemu (TCG where there is no KVM),
# with qemu's user-mode network: no loop device, no mount and no netfilter rule on this host.
# The box is cached in /var/cache/boxlab/vagrant, keyed by this file and the VM image's recipe.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "vagrant-box: $*" >&2; exit 2; }
step() { echo "vagrant-box: $*" >&2; }
[ "$(id -u)" = 0 ] || die "run as root (the VM image is built as root)"
for tool in qemu-img sfdisk mke2fs; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || die "$tool is missing: apt-get install qemu-utils fdisk e2fsprogs"
done
keys=(/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub)
key=${BOXLAB_VAGRANT_KEY:-${keys[-1]}}
[ -r "$key" ] || die "Vagrant's insecure public key (keys/vagrant.pub of the vagrant package) not found: apt-get install vagrant"

# The VM image (built here if its recipe changed); its status 75 means the archive did not answer.
base=$(bash scripts/vm.sh --base)
cache=${BOXLAB_VAGRANT_CACHE:-/var/cache/boxlab/vagrant}
recipe=$( (cat scripts/vagrant-box.sh; basename "$base") | sha256sum | cut -c1-12)
box="$cache/boxlab-trixie-$recipe.box"
if [ -f "$box" ]; then
  echo "$box"
  exit 0
fi

# What runs as root in the VM (cwd /work, this build's files): copies the running userland onto
# the new disk's partition, then installs and configures the rest in a chroot there.
inside() {
  cat <<'INSIDE'
set -euxo pipefail
# qemu's user-mode network has fixed addresses; the VM's init starts no udev, so the NIC is eth0.
modprobe virtio_net
for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && [ -b /dev/vdc1 ] && break; sleep 0.1; done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo 'nameserver 10.0.2.3' >/etc/resolv.conf

mkfs.ext4 -q -L boxlab-root /dev/vdc1
mkdir /target
mount /dev/vdc1 /target
cp -ax / /target/
rmdir /target/target
rm -f /target/sbin/boxlab-vm-init /target/boot/boxlab-initramfs.gz /target/etc/boxlab/disposable
for fs in proc sys dev dev/pts; do mount --bind "/$fs" "/target/$fs"; done
cp /etc/resolv.conf /target/etc/resolv.conf
echo "deb $(cat mirror) trixie main" >/target/etc/apt/sources.list
# This machine's own trust store additions (a TLS-inspecting proxy's CA, say): the box is
# local to it, and npm in the guest reaches the registry through the same network.
cp ca/*.crt /target/usr/local/share/ca-certificates/ 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' >/target/usr/sbin/policy-rc.d
chmod 755 /target/usr/sbin/policy-rc.d
ch() { chroot /target "$@"; }
ch apt-get update -qq -o Acquire::http::Timeout=30 -o Acquire::Retries=5
DEBIAN_FRONTEND=noninteractive ch apt-get install -y -qq --no-install-recommends \
  -o Acquire::http::Timeout=30 -o Acquire::Retries=5 \
  linux-image-amd64 grub-pc systemd-sysv systemd-resolved dbus openssh-server sudo rsync \
  ca-certificates >/dev/null
ch update-ca-certificates

# Boot: GRUB on the disk, the kernel's messages on the serial console too (libvirt's log).
# net.ifnames=0 keeps the NIC eth0, as Debian's own Vagrant boxes do.
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
  -e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="net.ifnames=0 console=tty0 console=ttyS0,115200"/' \
  /target/etc/default/grub
ch grub-install --target=i386-pc /dev/vdc
# grub-mkconfig names the root by UUID only if /dev/disk/by-uuid has it; this VM runs no udev,
# and without the link the kernel would look for the build's /dev/vdc1.
mkdir -p /dev/disk/by-uuid
ln -sf ../../vdc1 "/dev/disk/by-uuid/$(blkid -s UUID -o value /dev/vdc1)"
ch update-grub
grep -q 'root=UUID=' /target/boot/grub/grub.cfg
echo 'LABEL=boxlab-root / ext4 errors=remount-ro 0 1' >/target/etc/fstab

# DHCP on every wired NIC; resolved takes the DNS server DHCP gives.
cat >/target/etc/systemd/network/80-dhcp.network <<'NET'
[Match]
Name=eth* en*

[Network]
DHCP=yes
NET
ch systemctl enable systemd-networkd systemd-resolved ssh
ln -sf ../run/systemd/resolve/stub-resolv.conf /target/etc/resolv.conf

# Vagrant's conventions: user vagrant (password vagrant), passwordless sudo, the insecure key
# (Vagrant swaps it for a key of its own on the first `vagrant up`).
ch useradd -m -s /bin/bash vagrant
echo vagrant:vagrant | ch chpasswd
install -d -m 700 -o 1000 -g 1000 /target/home/vagrant/.ssh
install -m 600 -o 1000 -g 1000 vagrant.pub /target/home/vagrant/.ssh/authorized_keys
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >/target/etc/sudoers.d/vagrant
chmod 440 /target/etc/sudoers.d/vagrant
echo trixie >/target/etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\ttrixie\n' >/target/etc/hosts
# A new machine-id on each machine made from the box (systemd writes it at first boot).
: >/target/etc/machine-id
rm -f /target/var/lib/dbus/machine-id /target/usr/sbin/policy-rc.d
ch apt-get clean
for fs in dev/pts dev sys proc; do umount "/target/$fs"; done
umount /target
INSIDE
}

tmp=$(mktemp -d /var/tmp/vagrant-box.XXXXXX)
qemu_pid=
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/work/ca"
inside >"$tmp/work/inside.sh"
cp "$key" "$tmp/work/vagrant.pub"
# The Debian archive this machine's apt uses (BOXLAB_VM_MIRROR names another), as vm.sh does.
echo "${BOXLAB_VM_MIRROR:-$(bash scripts/apt-mirror.sh)}" >"$tmp/work/mirror"
cp /usr/local/share/ca-certificates/*.crt "$tmp/work/ca/" 2>/dev/null || true
mke2fs -q -t ext4 -d "$tmp/work" "$tmp/work.img" 64M >/dev/null
# One partition from 1 MiB, bootable; GRUB's core image goes into the gap before it.
truncate -s 20G "$tmp/disk.raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$tmp/disk.raw" >/dev/null

accel=tcg
cpu=max
if grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ]; then accel=kvm cpu=host; fi
step "building the box in the VM ($accel; the log: $tmp/console while it runs)"
command_b64=$(printf '%s' "bash /work/inside.sh" | base64 -w0)
timeout 1800 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 2048 -smp 1 \
  -kernel "$base.vmlinuz" -initrd "$base.initramfs.gz" \
  -append "console=ttyS0 quiet loglevel=1 panic=-1 boxlab.cmd=$command_b64" \
  -drive "file=$base.img,if=virtio,format=raw,snapshot=on" \
  -drive "file=$tmp/work.img,if=virtio,format=raw,snapshot=on" \
  -drive "file=$tmp/disk.raw,if=virtio,format=raw" \
  -nic user,model=virtio-net-pci -display none -serial "file:$tmp/console" -monitor none -no-reboot </dev/null &
qemu_pid=$!
wait "$qemu_pid" || true
qemu_pid=
status=$(tr -d '\r' <"$tmp/console" | sed -n 's/^BOXLAB-VM-EXIT \([0-9]*\)$/\1/p' | tail -1)
if [ "$status" != 0 ]; then
  tr -d '\r' <"$tmp/console" | tail -30 >&2
  die "the build in the VM failed (status ${status:-none})"
fi

step "packing the box"
qemu-img convert -O qcow2 "$tmp/disk.raw" "$tmp/box.img"
rm "$tmp/disk.raw"
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": 20}\n' >"$tmp/metadata.json"
mkdir -p "$cache"
tar -C "$tmp" -cf "$box.tmp" metadata.json box.img
mv "$box.tmp" "$box"
# Older recipes' boxes are not used again.
find "$cache" -maxdepth 1 -name 'boxlab-trixie-*.box' ! -name "$(basename "$box")" -delete
echo "$box"
