import { definePractice, type Exercise } from '../../src/engine/exercise.js';
import type { Step } from '../../src/model/lesson.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';
import { boxlab } from '../../src/shell/boxlab.js';
import { BASE, bl, seccompFlags } from './lesson.js';

const CACHE = '${WORK}/cache';

/** The learner's shell gets boxlab and the lesson's own cache, as the lesson's commands had them. */
const shellVars: Step = {
  id: 'shell-vars',
  title: "boxlab and the lesson's image cache, for your shell",
  feature: { name: 'an image cache of its own', syscalls: ['(user space)'], man: ['OCI image-spec (image-layout.md)'] },
  actions: [
    { run: cmd('echo', boxlab().file), capture: 'BOXLAB', match: '(.+)' },
    { run: cmd('echo', CACHE), capture: 'BOXLAB_CACHE_DIR', match: '(.+)' },
    // $IMAGES is the host's image layout elsewhere; here it is this cache's.
    { run: cmd('echo', `${CACHE}/images`), capture: 'IMAGES', match: '(.+)' },
  ],
  checks: [],
};

/** The tar listing of an image's top layer, found through boxlab inspect, read with tar. */
const TOP_LAYER =
  'd=$(BOXLAB_CACHE_DIR="$1" "$2" inspect "$3" 2>/dev/null | awk \'$1 == "layer" {l = $3} END {print l}\'); [ -n "$d" ] && tar -tzf "$1/images/blobs/sha256/${d#sha256:}"';
const topLayer = (image: string) => described(`tar -tzf of the top layer's blob of ${image} (boxlab inspect names it)`, shProgram('sh', '-c', TOP_LAYER, 'sh', CACHE, boxlab().file, image));

const NO_SED = 'boxlab.local/lesson13:nosed';
export default definePractice((host) => {
/** The flags boxlab build and run need on this host, as the learner types them. */
const SECCOMP = seccompFlags(host);
const FLAGS = SECCOMP.length ? ` ${SECCOMP.join(' ')}` : '';
const SECCOMP_HINT = SECCOMP.length ? ` This host's setpriv cannot apply a seccomp filter: pass ${SECCOMP.join(' ')} to build and run.` : '';

const whiteout: Exercise = {
  id: 'whiteout',
  title: 'a layer that deletes a file of the base',
  goal: `Build an image ${NO_SED} from ${BASE} with one RUN that deletes /bin/sed. Its top layer must be that deletion alone: a whiteout, and nothing else. Use $BOXLAB (boxlab itself); $BOXLAB_CACHE_DIR is already the lesson's cache.`,
  from: 'run-box',
  setup: [shellVars],
  checks: [
    { title: `the top layer of ${NO_SED} holds bin/.wh.sed and nothing else (tar -tzf of its blob)`, fact: { out: topLayer(NO_SED) }, equals: 'bin/\nbin/.wh.sed' },
    { title: 'a box of the image has no /bin/sed', fact: { out: bl('run', ...SECCOMP, NO_SED, '/bin/sh', '-c', 'test -e /bin/sed && echo there || echo gone') }, equals: 'gone' },
  ],
  hints: [
    "A RUN's layer is what its box wrote to the overlay's upper directory. Deleting a file of a lower layer writes a whiteout there, and the build tars it as .wh.NAME (image-spec layer.md). Anything else the RUN touched would be in the layer too.",
    `A Boxfile is a Dockerfile: FROM, then RUN with a shell command. $BOXLAB build -t NAME DIR builds DIR/Boxfile; $BOXLAB inspect NAME lists the layers, top last; tar -tzf BLOB lists one (the blobs are in $BOXLAB_CACHE_DIR/images/blobs/sha256/).${SECCOMP_HINT}`,
    `mkdir $WORK/nosed; printf 'FROM ${BASE}\\nRUN ____ /bin/sed\\n' > $WORK/nosed/Boxfile; $BOXLAB build${FLAGS} -t ${NO_SED} $WORK/nosed`,
  ],
  solution: [
    'mkdir -p $WORK/nosed',
    `printf 'FROM ${BASE}\\nRUN rm /bin/sed\\n' > $WORK/nosed/Boxfile`,
    `$BOXLAB build${FLAGS} -t ${NO_SED} $WORK/nosed`,
  ].join('\n'),
};

/** The build cache's entries: an entry is written (a new file, a new inode) only on a miss. */
const ENTRIES = `ls -i "$1/build-cache" | sort`;
const entries = shProgram('sh', '-c', ENTRIES, 'sh', CACHE);
const AGAIN = 'boxlab.local/lesson13:2';

const cached: Exercise = {
  id: 'cached',
  title: 'a rebuild that is all CACHED',
  goal: `Make the image say "rebuilt" instead of "built by boxlab": change the Boxfile in $WORK/ctx and build it as ${AGAIN} so that no COPY and no RUN runs again. The build cache ($BOXLAB_CACHE_DIR/build-cache) must be exactly as before: an entry is written only when a step misses. A build that missed cannot be taken back: to start again, leave the shell (exit) and run npm run practice 13 -- --exercise cached.`,
  from: 'build',
  setup: [
    shellVars,
    {
      id: 'cache-before',
      title: "the build cache's entries now, to compare",
      feature: { name: 'the build cache: a file per key', syscalls: ['stat(2)'], man: ['ls(1)'] },
      actions: [{ run: shProgram('sh', '-c', `${ENTRIES} > "$2"`, 'sh', CACHE, '${WORK}/cache-before') }],
      checks: [],
    },
  ],
  checks: [
    { title: `${AGAIN} prints the new greeting`, fact: { out: bl('run', ...SECCOMP, AGAIN) }, equals: 'rebuilt: from the context, added by RUN, no motd' },
    { title: 'no build cache entry was written: the same files, the same inodes (ls -i)', fact: { out: entries }, equals: { file: '${WORK}/cache-before' } },
  ],
  hints: [
    "Each step's cache key is the ChainID of the layers below it plus the instruction, and for a RUN the environment it runs with. ENV makes no layer: a COPY after a changed ENV keeps its key, every RUN after it misses (its environment changed). Nothing before a change ever misses.",
    `The Boxfile is $WORK/ctx/Boxfile: the ENV is after the RUNs. Edit it (sed -i, an editor), then $BOXLAB build -t ${AGAIN} $WORK/ctx; the steps it reuses say CACHED.${SECCOMP_HINT}`,
    `sed -i 's/GREETING="built by boxlab"/GREETING=____/' $WORK/ctx/Boxfile; $BOXLAB build${FLAGS} -t ${AGAIN} $WORK/ctx`,
  ],
  solution: [`sed -i 's/GREETING="built by boxlab"/GREETING=rebuilt/' $WORK/ctx/Boxfile`, `$BOXLAB build${FLAGS} -t ${AGAIN} $WORK/ctx`].join('\n'),
};

return {
  lesson: 13,
  exercises: [whiteout, cached],
};
});
