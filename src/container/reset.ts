// `boxlab reset`: undo whatever earlier runs left on the host, from their state files and
// from a scan for the boxlab prefix (a --script run or a lost state file leaves no record).
import { readdirSync, rmSync, type Dirent } from 'node:fs';
import { render } from '../shell/cmd.js';
import { RUN_MARK, type Runner } from '../shell/spawn.js';
import { inOtherUserNamespace, isAlive, isSameLiveProcess, processesWithEnv, realUid } from '../kernel/proc.js';
import { leasesDir } from './network.js';
import { records } from './boxes.js';
import { defaultRoot } from './containers.js';
import { mountsOf } from '../kernel/mountinfo.js';
import { apparmorState, confinedBy, loadedProfiles } from '../kernel/apparmor.js';
import { BOXLAB_DEFAULT, PROFILE_NAME, unloadProfile } from './apparmor.js';
import { readStates, type HostResource } from '../box/state.js';
import { describe, hostTeardown, isPresent, LINK_PREFIX, readText, WORK_PARENT, WORK_PREFIX } from '../box/resources.js';

export interface ResetLine {
  what: string;
  done: string;
  ok: boolean;
}

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(dir + '/');

export async function reset(runner: Runner, say: (l: ResetLine) => void): Promise<number> {
  let removed = 0;
  const liveDirs: string[] = [];
  const liveLinks: string[] = [];

  const undo = async (r: HostResource): Promise<void> => {
    // A mount may be stacked several times on one point; a dead process needs nothing.
    for (let i = 0; i < 8 && isPresent(r); i++) {
      let ok = true;
      for (const c of hostTeardown(r)) ok = (await runner.run(c)).code === 0 && ok;
      ok ||= !isPresent(r); // it went away by itself meanwhile
      say({ what: describe(r), done: hostTeardown(r).map(render).join('; '), ok });
      if (ok) removed++;
      if (!ok || !('mount' in r)) break;
    }
  };

  // Live runs first: what they hold (a shared bridge, say) is never undone for a dead one.
  const states = readStates();
  const dead = states.filter(({ state }) => !isSameLiveProcess(state.owner, state.ownerStart));
  for (const { state } of states.filter((s) => !dead.includes(s))) {
    for (const r of state.resources) {
      if ('dir' in r) liveDirs.push(r.dir);
      if ('cgroup' in r) liveDirs.push(r.cgroup);
      if ('link' in r) liveLinks.push(r.link);
    }
    say({ what: `run ${state.runId}`, done: `left alone: its boxlab (pid ${state.owner}) is still running`, ok: true });
  }
  // Processes of runs that are gone, found by the mark boxlab gives what it starts (BOXLAB_RUN):
  // also one whose PID never reached its state file (boxlab killed between the spawn and the
  // write, before setpriv's --pdeathsig took hold). Killed before their mounts are undone.
  const liveRuns = new Set(states.filter((s) => !dead.includes(s)).map(({ state }) => state.runId));
  // Root's own processes (real uid 0), and those in a user namespace of their own, whatever
  // uid they map to (a --userns box's init is uid 100000 on the host): anyone may set the
  // variable, in a setuid program too, but a setuid program in ours is never killed for it.
  for (const { pid, value, startTime } of processesWithEnv(RUN_MARK)) {
    if (!liveRuns.has(value) && (realUid(pid) === 0 || inOtherUserNamespace(pid))) await undo({ process: pid, startTime });
  }

  for (const { path, state } of dead) {
    for (const r of [...state.resources].reverse()) if (!('link' in r && liveLinks.includes(r.link))) await undo(r);
    rmSync(path, { force: true });
  }

  // Records of boxes run with -d whose script is gone (a killed run, a lost state file).
  records();

  // boxlab-runtime's containers whose process is gone and that no engine deleted (a container
  // that still runs is its engine's: delete it there, or with boxlab-runtime delete --force).
  for (const id of listDir(defaultRoot())) {
    const dir = `${defaultRoot()}/${id}`;
    let alive = false;
    try {
      const c = JSON.parse(readText(`${dir}/state.json`)) as { pid: number; pidStart: string };
      alive = isSameLiveProcess(c.pid, c.pidStart);
    } catch {
      // No readable state: nothing runs for it.
    }
    if (alive) say({ what: `OCI container ${id}`, done: 'left alone: it is running (boxlab-runtime delete --force ID)', ok: true });
    else await undo({ dir });
  }

  // boxlab run --network bridge: an address lease whose run is gone.
  for (const name of listDir(leasesDir())) {
    const file = `${leasesDir()}/${name}`;
    const owner = Number(readText(file).trim());
    if (!(owner > 0 && isAlive(owner))) await undo({ dir: file });
  }

  // Read again for each thing found by a scan: a run that started after reset began wrote
  // its state file before it made anything, so what it makes is never taken for a leftover.
  const isLive = (p: string): boolean => {
    if (liveDirs.some((d) => under(p, d))) return true;
    for (const { state } of readStates()) {
      if (!isSameLiveProcess(state.owner, state.ownerStart)) continue;
      if (state.resources.some((r) => ('dir' in r && under(p, r.dir)) || ('cgroup' in r && under(p, r.cgroup)))) return true;
    }
    return false;
  };
  const isLiveLink = (link: string): boolean => liveLinks.includes(link) || readStates().some(({ state }) => isSameLiveProcess(state.owner, state.ownerStart) && state.resources.some((r) => 'link' in r && r.link === link));
  // Deepest mounts first, so each umount finds its mount point still reachable.
  const leftMounts = mountsOf('self')
    .map((m) => m.mountPoint)
    .filter((p) => p.startsWith(WORK_PREFIX) && !isLive(p))
    .sort((a, b) => b.length - a.length);
  for (const mount of [...new Set(leftMounts)]) await undo({ mount });

  // boxlab cgroups in every cgroup hierarchy, children before their parents.
  const hierarchies = mountsOf('self').filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2');
  for (const h of hierarchies) {
    for (const name of listDir(h.mountPoint).filter((n) => n.startsWith(LINK_PREFIX + '-'))) {
      for (const cgroup of subdirsDeepestFirst(`${h.mountPoint}/${name}`)) if (!isLive(cgroup)) await undo({ cgroup });
    }
  }

  // Host ends of veth pairs and bridges; deleting one end of a veth deletes both.
  for (const link of listDir('/sys/class/net').filter((n) => n.startsWith(LINK_PREFIX) && !isLiveLink(n))) await undo({ link });

  // Only root can write in the work parent: whatever is there is a run's of ours.
  for (const name of listDir(WORK_PARENT)) {
    const dir = `${WORK_PARENT}/${name}`;
    if (!isLive(dir)) await undo({ dir });
  }

  // AppArmor profiles a lesson or an exercise loaded (boxlab-lesson15 ...), once no process is
  // under them: unloading a profile in use would leave its processes unconfined, not stopped.
  // boxlab-default stays, as Docker's docker-default does: runc, given `boxlab spec`'s
  // config.json, needs it loaded.
  if (apparmorState() === 'on') {
    for (const name of [...loadedProfiles().keys()].filter((n) => n.startsWith(`${LINK_PREFIX}-`) && n !== BOXLAB_DEFAULT && PROFILE_NAME.test(n))) {
      const users = confinedBy(`${name} (`);
      if (users.length) say({ what: `AppArmor profile ${name}`, done: `left loaded: ${users.length} process${users.length === 1 ? '' : 'es'} run${users.length === 1 ? 's' : ''} under it (PID ${users.join(', ')})`, ok: true });
      else await undo({ undo: unloadProfile(name), what: `the AppArmor profile ${name}` });
    }
  }
  return removed;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A directory and all below it, deepest first (cgroups must be removed leaf first). */
function subdirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  for (const e of listEntries(dir)) if (e.isDirectory()) out.push(...subdirsDeepestFirst(`${dir}/${e.name}`));
  out.push(dir);
  return out;
}

function listEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
