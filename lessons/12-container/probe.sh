#!/bin/sh
# What a process sees of its container, one fact per line, the same under any runtime:
# lesson 12 and the tests run it under runc and under boxlab and compare.
echo "uid=$(id -u) gid=$(id -g)"
echo "hostname=$(hostname)"
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | tr ':' '='
# The LSM's label (lesson 15): "none" where no LSM answers (a kernel without AppArmor).
echo "apparmor=$(cat /proc/self/attr/current 2>/dev/null || echo none)"
for t in cgroup ipc mnt net pid uts user; do echo "ns.$t=$(readlink /proc/self/ns/$t)"; done
# The mount table's shape: mount points and filesystem types, not their sources.
awk '{ for (i = 7; $i != "-"; i++); print "mount=" $5 " " $(i + 1) }' /proc/self/mountinfo | sort
# shellcheck disable=SC2012 # the names themselves are the fact compared, in ls' order
echo "devices=$(ls /dev | tr '\n' ' ')"
echo "masked=$(cat /proc/keys /proc/timer_list 2>/dev/null | wc -c)"
if mount -t tmpfs probe /mnt 2>/dev/null; then echo "mount-tmpfs=allowed"; else echo "mount-tmpfs=refused"; fi
if mknod /tmp/probe-sda b 8 0 2>/dev/null; then echo "mknod=allowed"; else echo "mknod=refused"; fi
if (echo probe > /proc/sys/kernel/hostname) 2>/dev/null; then echo "proc-sys=writable"; else echo "proc-sys=read-only"; fi
