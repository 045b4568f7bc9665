// -t: a terminal from the box's own devpts, so that inside it has a name (/dev/pts/0). The
// host's script(1) makes it: it opens /dev/ptmx, so it runs in a mount namespace copied from
// the box's before pivot_root (the host's files, plus the box's devpts over /dev/pts and
// /dev/ptmx). A pty of the host's own devpts could not be named inside, nor bound in: mount(2)
// refuses a source from another mount namespace.
import type { Step } from '../model/lesson.js';
import { hostToolInBox } from '../box/box.js';
import { cmd } from '../shell/cmd.js';
import { withParentDeathSignal } from '../shell/setpriv.js';
import { unshare } from '../shell/unshare.js';

/** The variable holding the process whose mount namespace script(1) runs in. */
export const CONSOLE_NS = 'CONSOLE_NS';

export function consoleStep(rootfs: string): Omit<Step, 'id' | 'title' | 'feature' | 'checks'> {
  const view = cmd('sh', '-euc', 'mount --bind "$1/dev/pts" /dev/pts; mount --bind "$1/dev/pts/ptmx" /dev/ptmx; exec sleep infinity', 'sh', rootfs);
  return {
    creates: [{ process: CONSOLE_NS }],
    actions: [{ start: withParentDeathSignal('KILL', hostToolInBox(['mount'], unshare({ ns: ['mount'], propagation: 'private' }, view.file, ...view.args))), pid: CONSOLE_NS, until: 'sleep' }],
  };
}
