// The cleanup stack: what a run created is undone in reverse order, whether the lesson
// passed, a step failed, or the learner pressed Ctrl-C.
import { fillCmd, fillKnown, render, type Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/spawn.js';
import type { Resource } from '../model/lesson.js';
import type { Emit } from './events.js';
import { isPresent, resourceVar, teardown, undoing } from '../box/resources.js';
import type { HostResource, StateFile } from '../box/state.js';

interface Entry {
  resource: Resource;
  /** As written to the state file; a process gets it once its PID is known. */
  host?: HostResource;
  /** Settles when a started process has exited (so it is reaped before we go on). */
  exited?: Promise<unknown>;
  quiet: boolean;
}

export class CleanupStack {
  private readonly entries: Entry[] = [];

  push(e: Entry): Entry {
    this.entries.push(e);
    return e;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Undo everything, last first (dry run: only say so). False if anything could not be undone. */
  async unwind(runner: Runner | undefined, vars: Vars, emit: Emit, state?: StateFile, present: (r: HostResource) => boolean = isPresent): Promise<boolean> {
    let allOk = true;
    while (this.entries.length > 0) {
      const e = this.entries.pop()!;
      const known = resourceVar(e.resource);
      if (runner && known !== undefined && vars[known] === undefined) continue; // never created
      if (runner && e.host && !present(e.host)) {
        // Interrupted before the step created it (or it died on its own): nothing to undo.
        state?.remove(e.host);
        continue;
      }
      let ok = true;
      for (const c of teardown(e.resource)) {
        if (!runner) {
          emit({ type: 'cleanup', shown: render(fillCmd(c, vars, fillKnown)), what: fillKnown(undoing(e.resource), vars), quiet: e.quiet });
          continue;
        }
        const filled = fillCmd(c, vars);
        const result = await runner.run(filled);
        emit({ type: 'cleanup', shown: render(filled), what: fillKnown(undoing(e.resource), vars), result, quiet: e.quiet });
        ok = ok && result.code === 0;
      }
      if (e.exited) await Promise.race([e.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      // A teardown that failed because the thing went away meanwhile (a process exiting on
      // its own between the check and the kill) has still left nothing behind.
      if (!ok && e.host && !present(e.host)) ok = true;
      if (ok && e.host) state?.remove(e.host);
      allOk = allOk && ok;
    }
    return allOk;
  }
}
