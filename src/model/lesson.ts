// The lesson model. A lesson is data: steps of commands, the kernel feature each enables,
// probes that show the effect, and checks that prove it from kernel facts.
import type { Cmd } from '../shell/cmd.js';
import { rename } from '../shell/coreutils.js';
import type { HostFacts } from './host-facts.js';

export interface Feature {
  /** What the kernel gives us, e.g. "mount namespace". */
  name: string;
  /** The system calls behind it, e.g. ["unshare(CLONE_NEWNS)"]. */
  syscalls: string[];
  /** Where to read more, e.g. ["mount_namespaces(7)"]. */
  man: string[];
}

/** A fact read from the kernel. Values may use ${NAME} placeholders. */
export type Fact =
  | { file: string; grep?: string } // a file such as /proc/PID/mountinfo; with grep, its first line holding that text
  | { link: string } // the target of a link such as /proc/PID/ns/mnt
  | { out: Cmd } // what a command prints on stdout
  | { status: Cmd } // a command's exit status, as text
  | { alive: string }; // "yes" if that PID is a live process, "no" if gone or a zombie (/proc/PID/status)

export type Expect =
  | { equals: string | Fact }
  | { differs: string | Fact }
  | { contains: string }
  | { lacks: string };

export type Check = { title: string; fact: Fact } & Expect;

export interface Probe {
  title: string;
  show: Fact;
}

export type Action =
  /** Run to completion; a non-zero exit fails the step unless mayFail (an attack meant to fail). */
  | { run: Cmd; mayFail?: boolean }
  /** Start in the background and keep its PID in the variable `pid`; with `until`, wait
   *  until the process runs that program (its comm), i.e. every wrapper has exec'd.
   *  `announces`: a process it starts writes its own PID (the host's number) as the first line
   *  of its stdout once it is ready; a generated script reads it into that variable instead of
   *  polling for it (the childOf action that follows still says how the engine finds it). */
  | { start: Cmd; pid: string; until?: string; announces?: string }
  /** Wait until the process in variable `childOf` has a child that has exec'd (one named
   *  `comm`, if given); keep its PID in `pid`. */
  | { childOf: string; pid: string; comm?: string }
  /** Wait (up to 2 s) until a fact holds some text (a socket bound), or no longer does. */
  | { await: Fact; contains: string }
  | { await: Fact; lacks: string }
  /** Wait (up to 2 s) until the process in that variable has exited. */
  | { awaitExit: string }
  /** Run to completion and keep what it prints in the variable `capture`: the last word, or
   *  with `match` (a regex that bash and JavaScript read alike) its first group. `also` takes
   *  more variables from the same output (name -> regex, its first group), so one run serves. */
  | { run: Cmd; capture: string; match?: string; also?: Record<string, string> }
  /** Build a directory once (a cache): run `build` into `tmp`, then rename it to `dir`. */
  | { ensureDir: string; tmp: string; build: Cmd[] };

/** Something a step leaves on the host; recorded in /run/boxlab before it is created. */
export type Resource =
  | { dir: string } // removed with rm -rf --one-file-system
  | { mount: string } // a host-side mount, unmounted lazily
  | { process: string } // the variable holding a PID to SIGKILL
  | { shm: string } // the variable holding a SysV shared memory id, removed with ipcrm
  | { link: string; ifUnused?: boolean } // a host network link (veth, bridge), deleted with ip link del; a shared bridge only once no port is left
  | { cgroup: string } // a cgroup directory: its processes killed, then removed
  | { restore: string; saved: string } // a host file (a sysctl, a cgroup's release_agent): its text is kept in variable `saved` before the step, and written back
  | { undo: Cmd; what: string }; // what a tool of its own undoes (an OCI container, an engine's storage): the command must succeed when there is nothing left to undo

/** A path that exists only where the feature does (/proc/self/ns/time), or a command that
 *  succeeds only where it does (setpriv knowing --seccomp-filter). */
export type Requirement = { path: string; reason: string } | { command: Cmd; reason: string };

export interface BreakIt {
  /** Names one demo; the attack and its defence may live in different lessons. */
  demo: string;
  role: 'attack' | 'defence';
}

export interface Step {
  id: string;
  title: string;
  feature: Feature;
  /** Recorded before the actions run; undone in reverse order at the end. */
  creates?: Resource[];
  actions: Action[];
  probes?: Probe[];
  checks: Check[];
  breakIt?: BreakIt;
  /** Kernel features the step needs: when a path is missing, the step is skipped with the reason. */
  requires?: Requirement[];
  /** Replayed when a later lesson builds on this one. Default: true, except for break-its. */
  replay?: boolean;
  /** --quiz: asked before the step; the kernel answers through the named check. */
  quiz?: Quiz;
  /** A picture of what the step builds, in box-drawing characters, at most 100 columns
   *  (kept in the lesson's diagrams.ts): printed before the step's commands and on its slide. */
  diagram?: string;
}

export interface Quiz {
  /** A yes/no question the learner can predict. */
  question: string;
  /** The answer when the check named holds (the kernel's answer is the other one if it fails). */
  answer: 'yes' | 'no';
  /** The title of one of the step's checks. */
  check: string;
}

export interface LessonDef {
  number: number;
  slug: string;
  title: string;
  /** Earlier lessons whose steps are replayed quietly first. */
  buildsOn?: number[];
  steps: Step[];
  /** What --shell opens at the end: a shell inside the box. */
  shell?: Cmd;
  /** Without a shell: why --shell opens none. */
  noShell?: string;
  /** Seconds a real run with --yes took, measured (lessons/durations.ts). */
  runSeconds?: number;
  /** The same lesson driven another way, chosen by a flag (e.g. --rootless): its own steps. */
  variants?: Record<string, Variant>;
}

export interface Variant {
  title: string;
  buildsOn?: number[];
  steps: Step[];
  shell?: Cmd;
  noShell?: string;
}

export interface Lesson extends LessonDef {
  /** The markdown beside the module: intro, one `## id` section per step, closing sections. */
  prose: Prose;
}

export interface Prose {
  intro: string;
  steps: Record<string, string>;
  outro: string;
}

/** A lesson module's default export: the lesson, or, where part of it depends on the host
 *  (its cgroup layout, which kernel files exist), a function of the host's facts, called when
 *  the lesson is loaded to run, never at import. */
export type LessonSource = LessonDef | ((host: HostFacts) => LessonDef);

export const defineLesson = <T extends LessonSource>(def: T): T => def;

export const lessonOf = (src: LessonSource, host: HostFacts): LessonDef => (typeof src === 'function' ? src(host) : src);

export const willReplay = (s: Step): boolean => s.replay ?? s.breakIt === undefined;

/** The commands a fact runs (files and links are read, not run). */
export const factCmds = (f: Fact): Cmd[] => ('out' in f ? [f.out] : 'status' in f ? [f.status] : []);

/** The commands an action runs; building a cache ends by moving the result into place. */
export const actionCmds = (a: Action): Cmd[] =>
  'awaitExit' in a || 'await' in a ? [] : 'run' in a ? [a.run] : 'start' in a ? [a.start] : 'ensureDir' in a ? [...a.build, rename(a.tmp, a.ensureDir)] : [];

/** Every fact a step reads: probes, checks, and the facts checks compare against. */
export function stepFacts(s: Step): Fact[] {
  const facts: Fact[] = (s.probes ?? []).map((p) => p.show);
  for (const a of s.actions) if ('await' in a) facts.push(a.await);
  for (const r of s.requires ?? []) if ('command' in r) facts.push({ status: r.command });
  for (const c of s.checks) {
    facts.push(c.fact);
    const other = 'equals' in c ? c.equals : 'differs' in c ? c.differs : undefined;
    if (other !== undefined && typeof other !== 'string') facts.push(other);
  }
  return facts;
}
