import type { Cmd } from './cmd.js';

/** chroot(8): run a command with another root directory. */
export function chroot(root: string, ...command: string[]): Cmd {
  return { file: 'chroot', args: [root, ...command] };
}
