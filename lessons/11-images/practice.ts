import { definePractice } from '../../src/engine/exercise.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';
import { mkdirP } from '../../src/shell/coreutils.js';

const TOP = '${WORK}/top';
const kind = (path: string) => cmd('stat', '-c', '%F %t:%T', path);

/** The newest `sleep 300` in the box's PID namespace (the box's own init sleeps forever). */
const NEWEST = 'p=$(pgrep -n --ns "$1" --nslist pid -f "^(/bin/)?sleep 300$")';
const SLEEPER = {
  env: `${NEWEST} && tr "\\0" "\\n" < /proc/$p/environ | sort | paste -sd"|"`,
  cwd: `${NEWEST} && readlink /proc/$p/cwd`,
  root: `${NEWEST} && if [ /proc/$p/root -ef /proc/$1/root ]; then echo "the root of the box"; else echo "another root"; fi`,
};
const READS = { env: '/proc/PID/environ, sorted,', cwd: '/proc/PID/cwd', root: 'whether /proc/PID/root is the root of $BOX,' };
const sleeper = (what: keyof typeof SLEEPER) => described(`${READS[what]} of the newest sleep 300 in the box's PID namespace`, shProgram('sh', '-c', SLEEPER[what], 'sh', '${BOX}'));

export default definePractice({
  lesson: 11,
  exercises: [
    {
      id: 'unpack-top',
      title: 'the top layer, unpacked by hand',
      goal:
        "Find the image's top layer through its manifest ($IMAGES/blobs/sha256/$MANIFEST), check its blob against its digest, and unpack it into $WORK/top the way overlayfs reads a layer: its .wh.wget becomes a whiteout (a 0/0 character device at bin/wget), its .wh..wh..opq becomes the attribute trusted.overlay.opaque=y on srv/www, and no .wh. file is left.",
      from: 'fetch',
      setup: [
        {
          id: 'work',
          title: 'a work directory for the unpacked layer',
          feature: { name: 'a directory per run', syscalls: ['mkdir(2)'], man: ['mkdir(1)'] },
          creates: [{ dir: '${WORK}' }],
          actions: [{ run: mkdirP('${WORK}') }],
          checks: [],
        },
      ],
      checks: [
        { title: "the top layer's files are unpacked: its motd", fact: { file: `${TOP}/etc/motd` }, equals: 'Hello from layer 3 of ${IMAGE}' },
        { title: '.wh.wget became a whiteout: a 0/0 character device at bin/wget', fact: { out: kind(`${TOP}/bin/wget`) }, equals: 'character special file 0:0' },
        { title: '.wh..wh..opq became the opaque attribute on srv/www', fact: { out: cmd('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', `${TOP}/srv/www`) }, equals: 'y' },
        { title: 'no .wh. marker file is left', fact: { out: shProgram('sh', '-c', 'find "$1" -name ".wh.*" | wc -l', 'sh', TOP) }, equals: '0' },
        { title: "the layer's page is there", fact: { file: `${TOP}/srv/www/index.html` }, equals: 'the page of layer 3' },
      ],
      hints: [
        "A layer is a gzipped tar stored under the sha256 of its bytes; the manifest lists the layers bottom first, each by that digest. In the tar, a deletion is a file named .wh.NAME and a replaced directory holds .wh..wh..opq (the OCI image spec); overlayfs wants a 0/0 character device and the trusted.overlay.opaque=y attribute instead, which is what boxlab (and containerd) make when unpacking.",
        'Read the manifest with cat (or jq \'.layers[-1].digest\'); sha256sum(1) of the blob must print its own name; tar(1) -xzf BLOB -C DIR unpacks it; mknod(1) NAME c 0 0 makes a whiteout; setfattr(1) -n NAME -v VALUE sets the attribute.',
        'top=$(grep -o \'sha256:[0-9a-f]*\' $IMAGES/blobs/sha256/$MANIFEST | tail -1); mkdir $WORK/top; tar -xzf $IMAGES/blobs/sha256/${top#sha256:} -C $WORK/top; rm $WORK/top/bin/.wh.wget $WORK/top/srv/www/.wh..wh..opq; mknod $WORK/top/bin/wget c 0 0; setfattr -n ____ -v y $WORK/top/srv/www',
      ],
      solution: [
        "top=$(grep -o 'sha256:[0-9a-f]*' $IMAGES/blobs/sha256/$MANIFEST | tail -1)",
        'blob=$IMAGES/blobs/sha256/${top#sha256:}',
        'sha256sum $blob',
        'mkdir $WORK/top',
        'tar -xzf $blob -C $WORK/top',
        'rm $WORK/top/bin/.wh.wget $WORK/top/srv/www/.wh..wh..opq',
        'mknod $WORK/top/bin/wget c 0 0',
        'setfattr -n trusted.overlay.opaque -v y $WORK/top/srv/www',
      ].join('\n'),
    },
    {
      id: 'run-config',
      title: "the image's Env and WorkingDir, by hand",
      goal:
        "Start `sleep 300` in the background, inside the box (its namespaces and its root, the image's layers), the way a runtime starts the image's process: with exactly the Env of the image's config and nothing of your shell's, in the config's WorkingDir. Read both from the config blob ($IMAGES/blobs/sha256/$CONFIG).",
      from: 'pivot',
      checks: [
        { title: "a `sleep 300` in the box's PID namespace has exactly the image's Env (/proc/PID/environ, sorted)", fact: { out: sleeper('env') }, equals: 'GREETING=hello from the image config|PATH=/bin' },
        { title: "its working directory is the config's WorkingDir (/proc/PID/cwd)", fact: { out: sleeper('cwd') }, equals: '/srv/www' },
        { title: "its root is the box's: the image's layers (/proc/PID/root)", fact: { out: sleeper('root') }, equals: 'the root of the box' },
      ],
      hints: [
        "The config's Env, Cmd and WorkingDir say how to start the image's process. A runtime execs it in the box's namespaces and root, in WorkingDir, with an environment that holds the config's Env and nothing of the caller's. The kernel keeps the result in /proc/PID/environ and /proc/PID/cwd.",
        'cat the config blob (the lesson\'s `boxlab inspect --process` printed the same as one line of shell). nsenter(1) --target $BOX with --mount --uts --ipc --net --pid, --root and --wd enters the box; env(1) -i starts from an empty environment. Start it in the background (&) so the checks can look at it.',
        'nsenter --target "$BOX" --mount --uts --ipc --net --pid --root --wd /bin/sh -c \'cd /srv/www && exec env ____ PATH=/bin "GREETING=hello from the image config" sleep 300\' &',
      ],
      solution: [
        'cat $IMAGES/blobs/sha256/$CONFIG; echo',
        'nsenter --target "$BOX" --mount --uts --ipc --net --pid --root --wd \\',
        '  /bin/sh -c \'cd /srv/www && exec env -i PATH=/bin "GREETING=hello from the image config" sleep 300\' &',
        'sleep 0.5',
      ].join('\n'),
    },
  ],
});
