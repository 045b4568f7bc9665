# Lesson 15's profile: everything is allowed but what root in a box, holding CAP_SYS_ADMIN,
# would use to reach the host. `apparmor_parser --replace FILE` loads it into the kernel.
abi <abi/3.0>,

# attach_disconnected: the payload launch starts from the host's root, which is not in the
# box's mount namespace; without it, AppArmor cannot name those paths and denies them.
profile boxlab-lesson15 flags=(attach_disconnected,mediate_deleted) {
  # Allowed: the lesson is about what is denied.
  file,
  capability,
  network,
  signal,
  ptrace,
  umount,

  # No mount of any kind, whatever the capabilities. (`audit`: a deny rule is silent
  # unless told to log; the lesson reads the kernel's log line.)
  audit deny mount,
  audit deny remount,

  # The magic SysRq key of the host's kernel (sync, crash, reboot ...), through /proc.
  audit deny /proc/sysrq-trigger rwklx,
}
