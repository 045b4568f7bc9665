// Capability names by bit number, as in linux/capability.h (0..40, Linux 5.9+). A unit test
// compares them with the host's libcap (`capsh --decode`).
export const CAPABILITIES = [
  'cap_chown', 'cap_dac_override', 'cap_dac_read_search', 'cap_fowner', 'cap_fsetid', 'cap_kill', 'cap_setgid', 'cap_setuid',
  'cap_setpcap', 'cap_linux_immutable', 'cap_net_bind_service', 'cap_net_broadcast', 'cap_net_admin', 'cap_net_raw', 'cap_ipc_lock',
  'cap_ipc_owner', 'cap_sys_module', 'cap_sys_rawio', 'cap_sys_chroot', 'cap_sys_ptrace', 'cap_sys_pacct', 'cap_sys_admin',
  'cap_sys_boot', 'cap_sys_nice', 'cap_sys_resource', 'cap_sys_time', 'cap_sys_tty_config', 'cap_mknod', 'cap_lease',
  'cap_audit_write', 'cap_audit_control', 'cap_setfcap', 'cap_mac_override', 'cap_mac_admin', 'cap_syslog', 'cap_wake_alarm',
  'cap_block_suspend', 'cap_audit_read', 'cap_perfmon', 'cap_bpf', 'cap_checkpoint_restore',
];

/** Docker's (moby's) default set: what `docker run` keeps of root's capabilities. */
export const DOCKER_DEFAULT_CAPS = [
  'cap_chown', 'cap_dac_override', 'cap_fowner', 'cap_fsetid', 'cap_kill', 'cap_setgid', 'cap_setuid', 'cap_setpcap',
  'cap_net_bind_service', 'cap_net_raw', 'cap_sys_chroot', 'cap_mknod', 'cap_audit_write', 'cap_setfcap',
];

/** A set as the hex mask /proc/PID/status prints (16 digits). */
export function capMask(caps: string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = CAPABILITIES.indexOf(c);
    if (bit < 0) throw new Error(`unknown capability ${c}`);
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}
