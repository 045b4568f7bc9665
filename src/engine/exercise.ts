// Practice mode's model. An exercise is data, as a lesson is: the state it starts from (a
// lesson's box replayed up to a step, plus setup of its own), a goal, checks that read kernel
// facts, three hints and a reference solution. The learner works in a bash on the host.
import type { Check, Step } from '../model/lesson.js';
import type { HostFacts } from '../model/host-facts.js';

export interface Exercise {
  /** Short and stable: progress and --exercise refer to it (e.g. "hostname"). */
  id: string;
  /** A few words for the prompt. */
  title: string;
  /** What to make true, in one or two sentences. */
  goal: string;
  /** The lesson's steps replayed quietly, up to and including this one; absent: none of the
   *  lesson's own steps (the lessons it builds on are always replayed). */
  from?: string;
  /** Steps of the exercise's own, after the replay (a flag file, a weakened box). */
  setup?: Step[];
  /** Hold once the learner has done it; read kernel facts, never the learner's commands. At
   *  least one must fail on the prepared state alone (the self-test proves it). */
  checks: Check[];
  /** The concept; the tool and its man page; the command with one part left out. */
  hints: [string, string, string];
  /** Bash, run on the host with the exercise's variables exported (as the learner's shell has them). */
  solution: string;
  /** Capture the flag: once solved, boxlab prepares the defended box and runs the same solution
   *  there, to show the kernel refusing it (its checks must fail). */
  defended?: { from?: string; setup?: Step[]; why: string };
  /** Where the exercise cannot run, as lesson steps say it (e.g. a kernel without time namespaces). */
  requires?: Step['requires'];
}

export interface Practice {
  /** The lesson whose box the exercises start from. */
  lesson: number;
  exercises: Exercise[];
}

/** A practice module's default export: its exercises, or a function of the host's facts
 *  (the cgroup files a learner writes depend on the layout), called when they are loaded. */
export type PracticeSource = Practice | ((host: HostFacts) => Practice);

export const definePractice = <T extends PracticeSource>(p: T): T => p;

export const practiceOf = (src: PracticeSource, host: HostFacts): Practice => (typeof src === 'function' ? src(host) : src);
