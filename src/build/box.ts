// The one place `boxlab build` meets `boxlab run`: a RUN instruction is a box with boxlab run's
// defaults (Docker's capabilities, seccomp, masked paths, no network unless asked) over the
// layers built so far. The run's script is boxlab run's own, with one thing after the command
// (afterCommand): the box is killed (so nothing writes any more) and its overlay upper
// directory is moved out of the work directory, to become the step's layer.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { literal } from '../shell/cmd.js';
import { foregroundPassingSignals, RealRunner } from '../shell/spawn.js';
import { workspaceVars } from '../engine/workspace.js';
import { privateStateDir, StateFile, type HostResource } from '../box/state.js';
import { parseRunFlags } from '../container/flags.js';
import { planRun } from '../container/plan.js';
import { specFromFlags } from '../container/from-flags.js';
import { namedResources, runScript } from '../container/script.js';
import { hostFacts, loadProfile, requireNonDumpable, requireSeccomp } from '../container/host.js';
import { checkArgs, checkCwd, checkEnv } from '../container/validate.js';
import { fill } from '../shell/cmd.js';

export interface RunStep {
  /** Layer directories, top first. */
  lowerdirs: string[];
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number };
  network: 'none' | 'bridge';
  /** --seccomp as boxlab run takes it (undefined: the default profile). */
  seccomp?: string;
  /** Where the upper directory goes when the command has ended (a path that does not exist yet). */
  upperTo: string;
  /** Shown in the script's header. */
  label: string;
}

/** The box's teardown as the script's own cleanup says it: kill the init, reap the launcher. */
const KILL_BOX = 'kill -KILL "${BOX:-$BOX_LAUNCHER}"; wait "$BOX_LAUNCHER" 2>/dev/null';

/** boxlab run's script for the step, with the upper directory kept (exported for its unit test). */
export function stepScript(step: RunStep, runId: string, stateFile: string, onExit: string[]): { script: string; resources: HostResource[] } {
  const flags = parseRunFlags([...(step.network === 'bridge' ? ['--network', 'bridge'] : []), ...(step.seccomp ? ['--seccomp', step.seccomp] : []), '--rootfs', '/', '--', ...step.args]);
  // The spec a run of an image would get, with the build's layers, environment and identity.
  const spec = { ...specFromFlags(flags, undefined, loadProfile), lowerdirs: step.lowerdirs, source: step.label, args: checkArgs(step.args, 'RUN'), env: checkEnv(step.env, 'the build environment'), cwd: checkCwd(step.cwd, 'WORKDIR'), user: step.user };
  const host = hostFacts(spec, true);
  requireSeccomp(spec, host);
  requireNonDumpable();
  const plan = planRun(spec, host, { fdsClosed: true, payloadViaFile: true });
  const keep = [KILL_BOX, `mv -T "$WORK/upper" ${literal(step.upperTo)} || status=125`];
  const script = runScript(plan, { runId, invocation: step.label, commented: false, runStateFile: stateFile, tty: false, interactive: false, onExit, afterCommand: keep });
  const vars = workspaceVars(runId);
  const resources = namedResources(plan).map((r): HostResource => ('dir' in r ? { dir: fill(r.dir, vars) } : 'cgroup' in r ? { cgroup: fill(r.cgroup, vars) } : { ...r, link: fill(r.link, vars) }));
  return { script, resources };
}

/** Runs the step's box; resolves to the command's exit status (125: the upper could not be kept). */
export async function runStep(step: RunStep): Promise<number> {
  const runId = randomBytes(4).toString('hex');
  const scriptFile = join(privateStateDir(), `${runId}.sh`);
  const state = new StateFile(runId, process.pid, [{ dir: scriptFile }]);
  let script: string;
  try {
    const made = stepScript(step, runId, state.path, [`rm -f ${literal(scriptFile)}`]);
    script = made.script;
    for (const r of made.resources) state.add(r);
  } catch (e) {
    rmSync(state.path, { force: true });
    throw e;
  }
  writeFileSync(scriptFile, script, { mode: 0o600 });
  // As boxlab run: a SIGINT or SIGTERM sent to boxlab is passed on to the script, which ends
  // the command and cleans up; the terminal's Ctrl-C reaches the script by itself.
  try {
    return await foregroundPassingSignals(new RealRunner(), { file: 'bash', args: [scriptFile] }, { runId }, (pid) => state.handOver(pid));
  } finally {
    rmSync(scriptFile, { force: true });
  }
}
