// A Plan as one bash script: what `boxlab run --script` prints and what `boxlab run` executes
// (one bash process, so a run costs Node's start-up plus this script, not a spawn per step).
import type { Action } from '../model/lesson.js';
import { cmd, comment, fill, literal, placeholders, quote, render } from '../shell/cmd.js';
import { WORKSPACE, workspaceVars } from '../engine/workspace.js';
import type { HostResource } from '../box/state.js';
import { cleanupStack, commentLines, featureComment, fileWrite, onExit, placeholderLines, shellLine } from '../report/bash.js';
import { nsenter } from '../shell/nsenter.js';
import { stateDir } from '../box/state.js';
import { teardown } from '../box/resources.js';
import { removeTree } from '../shell/coreutils.js';
import { removeCgroup } from '../shell/cgroup-files.js';
import { inBoxBatch, type Plan } from './plan.js';
import { NAMESPACES } from '../shell/unshare.js';
import type { Cmd } from '../shell/cmd.js';

export interface ScriptOptions {
  /** The run's id; a standalone script draws its own. */
  runId?: string;
  /** Shown in the header. */
  invocation: string;
  /** Comments and the kernel feature of each step (the --script output); off when boxlab runs it. */
  commented: boolean;
  /** The run's state file (for boxlab reset): the script removes it last, when all is undone. */
  runStateFile?: string;
  /** A file the script writes the box's init to once the box exists, as JSON {pid, start} (its
   *  PID and start time, boxes.ts reads it: ps, exec and rm). */
  stateFile?: string;
  /** Run the payload under a new terminal (script(1)), for -t. */
  tty?: boolean;
  /** Keep stdin (-i); otherwise the payload reads /dev/null, as under Docker. */
  interactive?: boolean;
  /** Commands run last when the script ends, however it ends (-d's records, the script's own file). */
  onExit?: string[];
  /** Lines run once the command has ended, before the cleanup; `status` holds its exit status
   *  and may be changed (boxlab build keeps the box's upper directory here). */
  afterCommand?: string[];
  /** The OCI runtime's create/start split: with the box built, the script says so (`created`,
   *  an empty file), waits for a line on the FIFO `fifo` (`start` writes it), says `started`,
   *  and only then starts the command, writing its launcher's PID to `payloadPid`. */
  gate?: { fifo: string; created: string; started: string; payloadPid: string };
}

/** The gate's lines: the FIFO is opened read-write (no blocking open, and a writer never
 *  finds it without a reader while the script lives), closed before the command starts. */
function gateLines(g: NonNullable<ScriptOptions['gate']>): string[] {
  return [`mkfifo -m 0600 ${quote(g.fifo)}`, `exec 4<>${quote(g.fifo)}`, `: > ${quote(g.created)}`, 'read -r _ <&4 || exit 1', 'exec 4<&-', `rm -f ${quote(g.fifo)}`, `: > ${quote(g.started)}`];
}

/**
 * The payload in the background, with signals passed on: the command is in a session of its
 * own (enter.ts), out of reach of the terminal's Ctrl-C, so the shell passes INT, TERM and HUP
 * to it (the child of nsenter, the host process that started it). A background job ignores
 * INT and QUIT; the payload's chain puts them back (env --default-signal; in a run's script,
 * bash's exec, which restores what the script started with). Used by `boxlab
 * exec` as `bash -c RELAY NAME CMD...`, and inlined in a run's script with $@ its payload.
 */
export const RELAY = [
  'p_=$!',
  // (children has no newline: read fails at the end of the file, having set c.)
  'pass_() { local c=; read -r c _ < "/proc/$p_/task/$p_/children"; [ -z "$c" ] || kill -s "$1" "$c"; } 2>/dev/null',
  "trap 'pass_ INT' INT; trap 'pass_ TERM' TERM; trap 'pass_ HUP' HUP",
  // 2>/dev/null: bash's own "line N: PID Killed CMD" when the command dies by a signal (a
  // deleted container's); its exit status (128+N) says so to whoever runs the script.
  'while kill -0 "$p_" 2>/dev/null; do wait "$p_" 2>/dev/null; done',
  'wait "$p_" 2>/dev/null',
].join('\n');
export const RELAY_CMD = `"$@" <&0 &\n${RELAY}`;

/** `announced`: the variables a started process has said (see `announces`), for the childOf
 *  actions that follow. */
const line = (a: Action, announced: Set<string>): string[] => {
  // Setup prints nothing of its own (tee echoes what it writes): the output is the payload's.
  // A file write is bash's own printf here, not a tee process.
  const written = 'run' in a && !('capture' in a) ? fileWrite(a.run) : undefined;
  if (written) return [written];
  if ('run' in a && a.run.inline) return [shellLine(a.run)];
  if ('run' in a && 'capture' in a) return [`${a.capture}=$(${render(a.run)})`];
  if ('run' in a) return [`${render(a.run)} >/dev/null`];
  // unshare's own stderr goes to a file: killing the init at the end makes it complain
  // ("sigprocmask unblock failed"); if it fails to start, the file says why.
  if ('start' in a) {
    // No terminal for what runs in the background: the box's init would otherwise hold the
    // user's, open to the box's root through /proc/1/fd.
    const launch = a.start.inline ? `{ ${a.start.inline}; }` : render(a.start);
    if (a.announces) {
      // Its stdout a pipe the script reads (a process substitution, whose PID is $!): the line
      // comes once the process is ready, and the script blocks on it instead of polling. Closed
      // right after, so that nothing the script starts later inherits it.
      announced.add(a.announces);
      const err = `"$WORK/${a.pid}.err"`;
      // (SC2034: the cleanup uses the launcher's PID, in a string it evals.)
      return [`exec 3< <(${launch} </dev/null 2>${err})`, '# shellcheck disable=SC2034', `${a.pid}=$!`, `read -r ${a.announces} <&3 || { cat ${err} >&2; exit 1; }`, 'exec 3<&-'];
    }
    const started = [`${launch} </dev/null >/dev/null 2>"$WORK/${a.pid}.err" &`, `${a.pid}=$!`];
    // Ready once every wrapper has exec'd into the named program (bash's read: no process).
    if (a.until) started.push(`until read -r c < /proc/$${a.pid}/comm && [ "$c" = ${quote(a.until)} ]; do kill -0 "$${a.pid}" 2>/dev/null || { cat "$WORK/${a.pid}.err" >&2; exit 1; }; done`);
    return started;
  }
  if ('ensureDir' in a) {
    // A cache: built once; when two runs race, the second finds it made.
    const dir = quote(a.ensureDir);
    return [
      `if [ ! -d ${dir} ]; then`,
      `  ${onExit(render({ file: 'rm', args: ['-rf', a.tmp] }))}`,
      ...a.build.map((c) => `  ${render(c)} >/dev/null`),
      `  mv -T ${quote(a.tmp)} ${dir} 2>/dev/null || [ -d ${dir} ]`,
      'fi',
    ];
  }
  if ('childOf' in a) {
    // The placeholder init: the child of the launcher, once the kernel lists it.
    const v = a.childOf;
    // bash's read, not cat and sleep: no process per try (unshare forks it within a millisecond).
    const found = `${a.pid}=; until [ -n "$${a.pid}" ]; do read -r ${a.pid} _ < /proc/$${v}/task/$${v}/children || kill -0 "$${v}" 2>/dev/null || { cat "$WORK/${v}.err" >&2; exit 1; }; done`;
    if (!a.comm) return announced.has(a.pid) ? [] : [found];
    // Then until it has exec'd that program: steps run on a child still in its wrappers
    // (setpriv, env) failed about one run in ten (nsenter: no /proc/PID/ns/mnt; no .oldroot).
    return [...(announced.has(a.pid) ? [] : [found]), `until read -r ${a.pid}_comm < /proc/$${a.pid}/comm && [ "$${a.pid}_comm" = ${quote(a.comm)} ]; do kill -0 "$${a.pid}" 2>/dev/null || { cat "$WORK/${v}.err" >&2; exit 1; }; done`];
  }
  throw new Error(`a run plan has no ${Object.keys(a)[0]} actions`);
};

/** What a run makes on the host that is named before it starts, with its placeholders (a
 *  lease's address is not: reset finds those by owner): for its state file. */
type Named = { dir: string } | { cgroup: string } | { link: string; ifUnused?: boolean };
export function namedResources(plan: Plan): Named[] {
  const known = (s: string): boolean => placeholders(s).every((v) => v === 'RUN_ID' || WORKSPACE.some(([n]) => n === v));
  return plan.steps.flatMap((s) => s.creates ?? []).flatMap((r): Named[] => {
    if ('dir' in r && known(r.dir)) return [{ dir: r.dir }];
    if ('cgroup' in r && known(r.cgroup)) return [{ cgroup: r.cgroup }];
    if ('link' in r && known(r.link)) return [{ link: r.link, ...(r.ifUnused ? { ifUnused: true } : {}) }];
    return [];
  });
}

/** The plan's host resources with this run's values, for its state file. */
export function planResources(plan: Plan, runId: string): HostResource[] {
  const vars = workspaceVars(runId);
  return namedResources(plan).map((r): HostResource => ('dir' in r ? { dir: fill(r.dir, vars) } : 'cgroup' in r ? { cgroup: fill(r.cgroup, vars) } : { ...r, link: fill(r.link, vars) }));
}

export function runScript(plan: Plan, o: ScriptOptions): string {
  // SC2174: `mkdir -p -m` sets the mode of the last directory only, which is what is meant.
  const out: string[] = ['#!/usr/bin/env bash', '# shellcheck disable=SC2174'];
  if (o.commented) out.push(`# ${comment(o.invocation)}`, '# The steps boxlab run takes, as plain bash: run it as root, no Node needed.');
  // In /: what the script starts (the box's init above all) inherits its working directory,
  // and pivot_root moves only a cwd that is the old root itself; any other stays a way out.
  out.push('set -euo pipefail', 'cd /');
  // The checks boxlab run makes before it starts, made by the script too: it fails closed.
  for (const w of plan.warnings) out.push(`echo ${quote(`boxlab: ${w}`)} >&2; exit 1`);
  out.push(`read -r dumpable_ < /proc/sys/fs/suid_dumpable || dumpable_=0; [ "$dumpable_" != 1 ] || { echo 'boxlab: fs.suid_dumpable is 1: the box could reach the process entering it; sysctl fs.suid_dumpable=0' >&2; exit 1; }`);
  // runc's CVE-2024-21626 class: a descriptor inherited from the caller is a way out of the
  // box's root. Every one but stdio is closed here, so no command below inherits one.
  // (One marked close-on-exec is not inherited, and may be bash's own: it stays.)
  out.push('for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] || continue; while read -r k v; do [ "$k" != flags: ] || break; done 2>/dev/null < /proc/$$/fdinfo/$fd || continue; (( 8#$v & 8#2000000 )) || eval "exec $fd>&-"; done');
  out.push(...placeholderLines(o.runId));
  // Undo in reverse; each entry is recorded before the thing it undoes is made.
  if (!o.runStateFile) {
    // A script run on its own writes the state file boxlab run writes for it: reset then knows
    // this run is live (its shell, by PID and start time) and what it has made.
    const file = `${stateDir()}/\${RUN_ID}.json`;
    const json = JSON.stringify({ runId: '${RUN_ID}', owner: 0, ownerStart: '${OWNER_START}', resources: namedResources(plan) }).replace('"owner":0', '"owner":${HOST_PID}');
    out.push(
      `[ -d ${quote(stateDir())} ] || mkdir -p -m 0700 ${quote(stateDir())}`,
      'read -r stat_ < /proc/$$/stat; read -ra stat_ <<< "${stat_##*) }"; OWNER_START=${stat_[19]}',
      `printf '%s' ${quote(json)} > ${quote(file)}`,
    );
    o = { ...o, runStateFile: file };
  }
  // Undone in reverse: these go last, whether the payload ran or a step failed. The state file
  // usually goes with the work directory, by the same rm (the undo just before this one): a
  // test, no process, finds it gone.
  const stateFile = quote(o.runStateFile!);
  out.push(...cleanupStack({ say: false, first: [...(o.onExit ?? []), `[ ! -e ${stateFile} ] || rm -f ${stateFile}`] }));
  // Consecutive steps that run host tools inside the box go as ONE nsenter and shell, with
  // every namespace they need: a run pays for one process pair instead of one per step.
  let batch: Cmd[] = [];
  // A step's comments go right before its first line; a batched step's, before the batch.
  let pending: string[] = [];
  let batchComments: string[] = [];
  const announced = new Set<string>();
  const flush = (): void => {
    if (!batch.length) return;
    const ns = new Set(batch.flatMap((c) => c.namespaces ?? []));
    const merged = inBoxBatch(NAMESPACES.filter((n) => ns.has(n)), batch.flatMap((c) => c.batch!));
    out.push(...batchComments, `${render(merged)} >/dev/null`);
    batch = [];
    batchComments = [];
  };
  const emit = (...lines: string[]): void => {
    flush();
    out.push(...pending, ...lines);
    pending = [];
  };
  for (const s of plan.steps) {
    if (o.commented) pending = [...commentLines(s.title), featureComment(s.feature), `#   ${comment(`lesson ${s.lessons.join(', ')}; config.json: ${s.oci}`)}`];
    for (const r of s.creates ?? []) {
      // The box: kill its init and wait for unshare to reap it. Once waited for, the PID
      // namespace is gone and its cgroups are empty, so their rmdir needs no retry.
      if ('process' in r && r.process === 'BOX_LAUNCHER') emit(onExit('kill -KILL "${BOX:-$BOX_LAUNCHER}"; wait "$BOX_LAUNCHER"'));
      else if ('dir' in r && r.dir === '${WORK}') emit(onExit(`${render(removeTree(r.dir))} ${stateFile}`));
      else if ('cgroup' in r) {
        // All of the step's cgroups (one per v1 controller) in one undo: one rmdir for all.
        const dirs = s.creates!.flatMap((c) => ('cgroup' in c ? [c.cgroup] : []));
        if (dirs[0] === r.cgroup) emit(onExit(shellLine(removeCgroup(...dirs))));
      } else for (const c of teardown(r)) emit(onExit(shellLine(c)));
    }
    for (const a of s.actions) {
      if ('run' in a && a.run.batch) {
        batchComments.push(...pending);
        pending = [];
        batch.push(a.run);
      } else emit(...line(a, announced));
    }
    // With the init's start time: a record left by a killed run never names another process.
    if (s.id === 'namespaces' && o.stateFile) emit(`read -r stat_ < "/proc/$BOX/stat"; read -ra stat_ <<< "\${stat_##*) }"; printf '{"pid":%s,"start":"%s"}\\n' "$BOX" "\${stat_[19]}" > ${quote(o.stateFile)}`);
    // A step with nothing to run still shows what it is.
    if (pending.length) emit();
  }
  flush();
  if (o.commented) out.push('', "# The payload: its exit status is the run's. Its chain goes to a root-only file that sh runs, so no value of its environment is in a command line.");
  // The payload's chain, as a root-only file in the work directory (its values are data in it).
  if (plan.payloadFile) out.push(`printf '%s' ${literal(plan.payloadFile.text)} > ${quote(plan.payloadFile.path)}`);
  if (o.gate) out.push(...gateLines(o.gate));
  out.push('set +e');
  const payload = render(plan.payload);
  if (o.tty) {
    // -t: script(1) gives the payload a terminal of its own (its own session, the box's pty as
    // its controlling terminal); -e returns the payload's status. script's shell re-reads the
    // payload: it gets the text as a literal and sh as the shell, and the variables it names
    // (BOX) from the environment.
    const terminal = cmd('script', '-qefc', payload, '/dev/null');
    const inConsole = plan.consoleNs ? nsenter({ nsFiles: { mount: `/proc/\${${plan.consoleNs}}/ns/mnt` } }, terminal.file, ...terminal.args) : terminal;
    const shown = [inConsole.file, ...inConsole.args].map((a) => (a === payload ? literal(a) : quote(a))).join(' ');
    const vars = [...new Set(placeholders(payload))];
    out.push(`export ${vars.join(' ')}; SHELL=/bin/sh ${shown}${o.interactive ? '' : ' </dev/null'}`);
  } else {
    // The launcher joins the box's cgroups itself (bash writes its own PID), then execs nsenter.
    const launch = plan.payload.inline ? `{ ${plan.payload.inline}; }` : payload;
    out.push(`${launch} ${o.interactive ? '<&0' : '</dev/null'} &`, ...(o.gate ? [`printf '%s' "$!" > ${quote(o.gate.payloadPid)}`] : []), RELAY);
  }
  out.push('status=$?', ...(o.afterCommand ?? []), 'exit "$status"');
  return out.join('\n') + '\n';
}
