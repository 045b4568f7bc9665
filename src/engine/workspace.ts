// The variables every run starts with. One definition serves the engine (filled with real
// values) and the --script output (kept as shell assignments).
import { fill } from '../shell/cmd.js';
import { WORK_PREFIX } from '../box/resources.js';

/** How the --script output computes the values the engine gets from Node. */
export const SCRIPT_VALUES: Record<string, string> = {
  /** 32 random bits as 8 hex digits: bash's $SRANDOM (getrandom(2), bash 5.1+), no od | tr. */
  RUN_ID: "$(printf '%08x' \"$SRANDOM\")",
  /** A host process boxlab owns: the orchestrator itself (the script's own shell). */
  HOST_PID: '$$',
};

/** In order: each may use the ones before it. */
export const WORKSPACE = [
  ['WORK', `${WORK_PREFIX}\${RUN_ID}`],
  ['ROOTFS', '${WORK}/rootfs'],
] as const;

export function workspaceVars(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  const vars: Record<string, string> = { RUN_ID: runId, HOST_PID: String(process.pid) };
  for (const [name, template] of WORKSPACE) vars[name] = fill(template, vars);
  return { ...vars, ...extra };
}
