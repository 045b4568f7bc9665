import { definePractice, type Exercise } from '../../src/engine/exercise.js';
import type { Step } from '../../src/model/lesson.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';
import { BUNDLE, CONTAINER, ID, OCI, RT } from './lesson.js';

const MINE = 'mine-${RUN_ID}';
const MINE_DIR = `${OCI}/${MINE}`;
const MINE_OUT = '${WORK}/mine.out';

/** The learner's shell gets the runtime, its root and the bundle as variables. */
const shellVars: Step = {
  id: 'shell-vars',
  title: 'boxlab-runtime, its --root and the bundle, for your shell',
  feature: { name: 'the OCI runtime command line', syscalls: ['(user space)'], man: ['OCI runtime-spec (runtime.md)'] },
  creates: [{ undo: shProgram('sh', '-c', '[ ! -d "$1/$2" ] || "$3" --root "$1" delete --force "$2"', 'sh', OCI, MINE, RT), what: `the OCI container ${MINE}` }],
  actions: [
    { run: cmd('echo', RT), capture: 'RUNTIME', match: '(.+)' },
    { run: cmd('echo', OCI), capture: 'OCI_ROOT', match: '(.+)' },
    { run: cmd('echo', BUNDLE), capture: 'BUNDLE', match: '(.+)' },
    { run: cmd('echo', MINE), capture: 'MINE', match: '(.+)' },
  ],
  checks: [],
};

/** A file of /proc for the command: the child of the launcher the container's script started. */
const ofCommand = (dir: string, read: string, reads: string) => described(`${reads} of the container's command (the child of the launcher in ${dir}/payload.pid)`, shProgram('sh', '-c', `l=$(cat "$1/payload.pid") && c=$(cut -d' ' -f1 "/proc/$l/task/$l/children") && [ -n "$c" ] && ${read}`, 'sh', dir));

const byHand: Exercise = {
  id: 'by-hand',
  title: 'create and start a container yourself',
  goal: `With $RUNTIME --root $OCI_ROOT, create a container named $MINE from the bundle $BUNDLE, with its output in ${MINE_OUT}, and start it. Leave it running: the checks read its command's output and its PID namespace.`,
  from: 'bundle',
  setup: [shellVars],
  checks: [
    { title: `the command wrote its line to ${MINE_OUT} (create's stdout)`, fact: { file: MINE_OUT }, contains: 'hello from PID' },
    { title: "the command runs: sleep, the box's", fact: { out: ofCommand(MINE_DIR, 'cat "/proc/$c/comm"', '/proc/PID/comm') }, equals: 'sleep' },
    { title: 'in a PID namespace that is not the host\'s', fact: { out: ofCommand(MINE_DIR, 'readlink "/proc/$c/ns/pid"', '/proc/PID/ns/pid') }, differs: { link: '/proc/self/ns/pid' } },
  ],
  hints: [
    'create builds the box and returns; the command waits until start. Whatever create is given as stdout becomes the command\'s stdout (runtime.md, "create").',
    '$RUNTIME --root DIR create --bundle DIR ID, then $RUNTIME --root DIR start ID; $RUNTIME --root DIR state ID says where it is. Redirect create\'s stdout to the file (and stdin from /dev/null).',
    `$RUNTIME --root $OCI_ROOT create --bundle $BUNDLE $MINE < /dev/null > ${MINE_OUT}; $RUNTIME --root $OCI_ROOT ____ $MINE`,
  ],
  solution: [`"$RUNTIME" --root "$OCI_ROOT" create --bundle "$BUNDLE" "$MINE" < /dev/null > ${MINE_OUT} 2>&1`, '"$RUNTIME" --root "$OCI_ROOT" start "$MINE"', `until grep -q 'hello from PID' ${MINE_OUT}; do sleep 0.05; done`].join('\n'),
};

const stopIt: Exercise = {
  id: 'stop-it',
  title: 'stop and remove a running container through the runtime',
  goal: `The lesson's container ${ID} runs (its root is $OCI_ROOT). Stop it as an engine does, through the runtime: end its command with a signal, then remove the container, so that its command, its --pid-file process and its directory are all gone. (The checks read what the kernel and the runtime's root show, so they cannot tell the runtime's kill from a kill(1) of the same PID: use the runtime's, as an engine would.)`,
  from: 'start',
  setup: [shellVars],
  checks: [
    { title: 'the command is gone', fact: { alive: '${CMD_PID}' }, equals: 'no' },
    { title: 'the --pid-file process (the run script) is gone', fact: { alive: '${CPID}' }, equals: 'no' },
    { title: "the container's directory is gone", fact: { status: cmd('test', '-e', CONTAINER) }, equals: '1' },
  ],
  hints: [
    "The spec's delete refuses a container that is not stopped: stop it first, with a signal (runtime.md, \"kill\" and \"delete\").",
    '$RUNTIME --root DIR kill ID SIGNAL; $RUNTIME --root DIR state ID shows "stopped" once it is; then $RUNTIME --root DIR delete ID.',
    `$RUNTIME --root $OCI_ROOT kill ${ID} TERM; sleep 1; $RUNTIME --root $OCI_ROOT ____ ${ID}`,
  ],
  solution: [`"$RUNTIME" --root "$OCI_ROOT" kill ${ID} TERM`, `until "$RUNTIME" --root "$OCI_ROOT" state ${ID} | grep -q '"stopped"'; do sleep 0.05; done`, `"$RUNTIME" --root "$OCI_ROOT" delete ${ID}`].join('\n'),
};

export default definePractice(() => ({ lesson: 14, exercises: [byHand, stopIt] }));
