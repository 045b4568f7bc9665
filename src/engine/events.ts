// One stream of events per run; the terminal, --json and --script formatters all read it.
import type { Action, Check, Feature, Probe, Requirement, Resource } from '../model/lesson.js';
import type { RunResult } from '../shell/spawn.js';
import type { Cmd } from '../shell/cmd.js';

interface Base {
  /** Part of a quiet replay of an earlier lesson. */
  quiet?: boolean;
}

export type Event = Base &
  (
    | { type: 'lesson'; number: number; title: string; intro: string; dryRun: boolean; vars: Record<string, string>; duration?: string }
    | { type: 'replay'; number: number; title: string; steps: number }
    | { type: 'step'; id: string; title: string; index: number; total: number; explain: string; breakIt?: string; requires?: Requirement[]; again?: boolean; diagram?: string }
    | { type: 'feature'; feature: Feature }
    | { type: 'resource'; resource: Resource; teardown: Cmd[] }
    | { type: 'cmd'; action: Action; shown: string; result?: RunResult; value?: string }
    | { type: 'probe'; probe: Probe; source: string; output?: string }
    /** `expects`: what the check expects, in words; `against`: the other side of a comparison
     *  with another fact ("the host's"), placeholders filled. */
    | { type: 'check'; check: Check; source: string; expects?: string; against?: string; ok?: boolean; actual?: string; expected?: string }
    | { type: 'skip'; id: string; title: string; reason: string }
    /** A word to the learner between steps (--step's again and back). */
    | { type: 'note'; text: string }
    /** `what`: the undo in words ("cgroup X: its processes killed, then removed"), for a screen
     *  too narrow for its program. */
    | { type: 'cleanup'; shown: string; what?: string; result?: RunResult }
    /** `isolates`/`shares`: what the box behind the shell has of its own, and what is the host's. */
    | { type: 'shell'; shown: string; action: Action; isolates?: string; shares?: string }
    | { type: 'end'; ok: boolean; reason?: string; code: number; ms: number; toolMs: number; steps: number; outro: string }
  );

export type Emit = (e: Event) => void;
