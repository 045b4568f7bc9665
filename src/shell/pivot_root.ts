import type { Cmd } from './cmd.js';

/** pivot_root(8): make NEW_ROOT the root of the mount namespace, the old one moves to PUT_OLD. */
export function pivotRoot(newRoot: string, putOld: string): Cmd {
  return { file: 'pivot_root', args: [newRoot, putOld] };
}
