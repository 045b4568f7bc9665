import { defineLesson } from '../../src/model/lesson.js';
import { BOX, boxRun, boxRunWithout } from '../../src/box/box.js';
import { cmd } from '../../src/shell/cmd.js';
import { killPid } from '../../src/shell/coreutils.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import * as diagrams from './diagrams.js';

/** The same, in every namespace of the box but its PID namespace: a box without one. */
const noPidNs = (file: string, ...args: string[]) => boxRunWithout('pid', file, ...args);
const hostSleeper = (pid: string) => ({ start: withParentDeathSignal('KILL', cmd('sleep', '1000')), pid, until: 'sleep' });
const feature = { name: 'PID namespace', syscalls: ['clone(2) CLONE_NEWPID', 'unshare(2) CLONE_NEWPID'], man: ['pid_namespaces(7)'] };

export default defineLesson({
  number: 3,
  slug: 'pid',
  title: 'PID namespace: a process tree of its own',
  buildsOn: [2],
  steps: [
    {
      id: 'see-host',
      title: 'Break it: without a PID namespace the box can signal host processes',
      feature: { name: 'kill(2) across a missing PID namespace', syscalls: ['kill(2)'], man: ['kill(2)', 'pid_namespaces(7)'] },
      breakIt: { demo: 'pid-visibility', role: 'attack' },
      creates: [{ process: 'HOST_SLEEPER' }],
      // kill(2) returns once the signal is queued; the sleeper dies when it next runs, so wait.
      actions: [hostSleeper('HOST_SLEEPER'), { run: noPidNs('/bin/kill', '-TERM', '${HOST_SLEEPER}') }, { awaitExit: 'HOST_SLEEPER' }],
      checks: [{ title: "the host's sleeper was killed from inside the box", fact: { alive: '${HOST_SLEEPER}' }, equals: 'no' }],
    },
    {
      id: 'pid-ns',
      title: "The box's PID namespace: PID 1, and two numbers for every process",
      diagram: diagrams.levels,
      feature,
      creates: [{ process: 'WORKER_NSENTER' }],
      actions: [
        { start: withParentDeathSignal('KILL', boxRun('/bin/sleep', '1000')), pid: 'WORKER_NSENTER' },
        { childOf: 'WORKER_NSENTER', pid: 'WORKER', comm: 'sleep' },
      ],
      probes: [
        { title: 'ps inside the box: its own processes only', show: { out: boxRun('/bin/ps', '-o', 'pid,comm') } },
        { title: 'the worker from the host: host PID, then box PID', show: { file: '/proc/${WORKER}/status', grep: 'NSpid' } },
      ],
      checks: [
        { title: 'the box has its own PID namespace', fact: { link: `/proc/${BOX}/ns/pid` }, differs: { link: '/proc/self/ns/pid' } },
        { title: "the box's init is PID 1 inside", fact: { file: `/proc/${BOX}/status`, grep: 'NSpid' }, equals: `NSpid:\t${BOX}\t1` },
        { title: 'the worker has a host PID and a box PID', fact: { file: '/proc/${WORKER}/status', grep: 'NSpid' }, contains: 'NSpid:\t${WORKER}\t' },
        { title: 'inside, /proc shows one PID per process: no host level', fact: { out: boxRun('/bin/grep', 'NSpid', '/proc/1/status') }, equals: 'NSpid:\t1' },
      ],
      replay: false,
    },
    {
      id: 'kill-host',
      title: 'With the PID namespace, host processes are out of reach',
      feature,
      breakIt: { demo: 'pid-visibility', role: 'defence' },
      creates: [{ process: 'HOST_SLEEPER2' }],
      actions: [hostSleeper('HOST_SLEEPER2'), { run: boxRun('/bin/kill', '-TERM', '${HOST_SLEEPER2}'), mayFail: true }],
      quiz: { question: 'The box is told a host process\'s PID. Can kill -0 from inside the box reach it?', answer: 'no', check: 'kill from inside the box finds no such process' },
      checks: [
        { title: 'kill from inside the box finds no such process', fact: { status: boxRun('/bin/kill', '-0', '${HOST_SLEEPER2}') }, differs: '0' },
        { title: "the host's sleeper is alive", fact: { alive: '${HOST_SLEEPER2}' }, equals: 'yes' },
      ],
    },
    {
      id: 'init-signals',
      title: 'PID 1 ignores every signal it has no handler for, even SIGKILL from inside',
      feature: { name: 'the PID namespace init', syscalls: ['kill(2)', 'sigaction(2)'], man: ['pid_namespaces(7)', 'signal(7)'] },
      actions: [{ run: boxRun('/bin/kill', '-TERM', '1') }, { run: boxRun('/bin/kill', '-KILL', '1') }],
      probes: [{ title: 'the signals PID 1 catches (a bit mask)', show: { file: `/proc/${BOX}/status`, grep: 'SigCgt' } }],
      quiz: { question: 'SIGKILL sent to PID 1 from inside its own PID namespace: will the box\'s init survive it?', answer: 'yes', check: 'it survived SIGTERM and SIGKILL sent from inside the box' },
      checks: [
        { title: 'the box init catches no signal', fact: { file: `/proc/${BOX}/status`, grep: 'SigCgt' }, equals: 'SigCgt:\t0000000000000000' },
        { title: 'it survived SIGTERM and SIGKILL sent from inside the box', fact: { alive: BOX }, equals: 'yes' },
      ],
      replay: false,
    },
    {
      id: 'orphans',
      title: 'Orphans are adopted by PID 1, which must reap them',
      diagram: diagrams.orphans,
      feature: { name: 'reparenting to the namespace init', syscalls: ['wait4(2)', '_exit(2)'], man: ['pid_namespaces(7)', 'wait(2)'] },
      actions: [
        // A shell starts a sleeper and exits at once: the sleeper is orphaned. (Its output goes
        // to /dev/null, or it would hold our pipe open.)
        { run: boxRun('/bin/sh', '-c', 'sleep 1000 >/dev/null 2>&1 & echo $!') },
        { childOf: 'BOX', pid: 'ORPHAN', comm: 'sleep' },
        { run: killPid('TERM', '${ORPHAN}') },
      ],
      probes: [{ title: 'the orphan, after it died', show: { file: '/proc/${ORPHAN}/status', grep: 'State' } }],
      checks: [
        { title: "the orphan's parent is the box's PID 1", fact: { file: '/proc/${ORPHAN}/status', grep: 'PPid' }, equals: `PPid:\t${BOX}` },
        { title: 'PID 1 never calls wait(): the dead orphan stays a zombie', fact: { file: '/proc/${ORPHAN}/status', grep: 'State' }, contains: 'zombie' },
      ],
      replay: false,
    },
    {
      id: 'kill-init',
      title: 'When PID 1 dies, the kernel kills the whole namespace',
      feature: { name: 'PID namespace teardown', syscalls: ['kill(2) SIGKILL', 'exit of the namespace init'], man: ['pid_namespaces(7)'] },
      creates: [{ process: 'MINI_LAUNCHER' }],
      actions: [
        // A second, throwaway box whose init has two children, so ours lives on for --shell.
        {
          start: withParentDeathSignal('KILL', unshare({ ns: ['mount', 'pid'], fork: true, killChild: 'KILL', propagation: 'private' }, 'sh', '-c', 'sleep 1000 & sleep 1000 & exec sleep 1000')),
          pid: 'MINI_LAUNCHER',
        },
        { childOf: 'MINI_LAUNCHER', pid: 'MINI_INIT', comm: 'sleep' },
        { childOf: 'MINI_INIT', pid: 'MINI_CHILD', comm: 'sleep' },
        { run: killPid('KILL', '${MINI_INIT}') },
        { awaitExit: 'MINI_INIT' },
      ],
      checks: [
        { title: "the init's child died with it, killed by the kernel", fact: { alive: '${MINI_CHILD}' }, equals: 'no' },
        { title: 'our box, another namespace, is untouched', fact: { alive: BOX }, equals: 'yes' },
      ],
      replay: false,
    },
  ],
  shell: boxRun('/bin/sh'),
});
