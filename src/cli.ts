// boxlab's command line. Each subcommand loads only what it needs, so start-up stays fast.
import { isOneLineError, UsageError } from './errors.js';
import { printable } from '../rootfs-fetch/untrusted.js';

const USAGE = `usage: boxlab <command> [flags]

  lesson <N|name> [flags]  run a lesson (npm run lesson 2 -- --yes)
      --yes       no pauses (implied when stdin is not a terminal)
      --step      instructor mode: before each step, run / skip / explain / again / back / quit
      --dry-run   print every command, run nothing (no root needed), fitted to 100 columns
      --explain   a dry run that prints every command whole, however wide
      --evidence compact|full   a check's value only, or its source and evidence in words
                  (default: full, without the source where the screen is too narrow)
      --script    print the lesson as a standalone bash script
      --json      one JSON event per line
      --shell     at the end, open a shell inside the box; clean up when it exits
      --pace MS   wait MS milliseconds before each step (live demos); p or space holds it
      --quiz      predict what the kernel will say before some steps; keeps a score
      --rootless  lesson 6: the same lesson driven as an unprivileged uid
      --registry 127.0.0.1:PORT   lesson 11: pull from a local registry (scripts/registry.sh start)
  practice <N> [flags]     do lesson N's exercises yourself; the kernel says when it worked
      --exercise ID          start at (or, with --attempt, grade) one exercise
      --attempt FILE         grade a bash file in the exercise's prepared state (exit 0/1)
      --solutions            print every exercise with hints and solutions
      --self-test            prove every exercise both ways (N optional: all lessons)
      --json FILE            append events (exercise, hint, check, solved) as JSON lines
      --pace MS              wait MS milliseconds before each step that prepares an exercise
  slides <N> [-o FILE]     lesson N as an HTML slide deck that opens offline (-o -: stdout)
  lessons                  the curriculum and your progress
  progress [--json]        lessons passed and exercises solved (the learner behind sudo)
  doctor [--json]          is this host fit for the lessons?
  reset                    remove everything boxlab left on the host
  lint                     check every lesson's data and prose
  fetch REF [--plain-http] [--platform linux/ARCH] [--out DIR]
                           pull an image (alpine:3.20, 127.0.0.1:5000/name:tag) into the cache
  fetch --busybox | --tarball URL --sha256 HEX | --debootstrap SUITE [--out DIR]
                           make an image here, with no registry (--busybox: offline default)
  images [--json]          the cached images, with sizes and digests
  inspect REF [--manifest|--config|--lowerdir]   an image's manifest, config and layers
  rmi REF                  remove an image (and the blobs no other image uses)
  push NAME DEST [--plain-http] [--verbose]
                           a cached image to a registry (anonymous only: push --help)
  diff PID|MOUNTPOINT      an overlay's changes as A/C/D, like docker diff
  build [-f Boxfile] [-t NAME:TAG] [--build-arg K=V] [--no-cache] [--network none|bridge] [CONTEXT]
                           an image from a Boxfile (Dockerfile subset), layer by layer
  commit BOX IMAGE[:TAG]   a running box's changes (run -d IMAGE) as a new layer on its image
  run [flags] (IMAGE | --rootfs DIR | --bundle DIR) [--] [CMD...]
                           a container, secure by default (boxlab run --help for the flags)
  spec [run flags] [-- CMD]  the OCI config.json of such a run
  ps | exec [-it] NAME CMD... | logs [-f] NAME | stop [-t S] NAME | rm NAME
                           boxes started with run -d
  seccomp compile PROFILE.json -o FILE.bpf   a seccomp profile to a BPF program
  seccomp disasm FILE.bpf                    that program, one instruction per line
  runtime COMMAND ...      the OCI runtime command line (as bin/boxlab-runtime, for engines)`;

type Handler = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Handler> = {
  lesson: async (argv) => (await import('./commands/lesson.js')).lessonCommand(argv),
  lessons: async (argv) => (await import('./commands/lessons.js')).lessonsCommand(argv),
  slides: async (argv) => (await import('./commands/slides.js')).slidesCommand(argv),
  progress: async (argv) => (await import('./commands/progress.js')).progressCommand(argv),
  practice: async (argv) => (await import('./commands/practice.js')).practiceCommand(argv),
  doctor: async (argv) => (await import('./commands/doctor.js')).doctorCommand(argv),
  reset: async (argv) => (await import('./commands/reset.js')).resetCommand(argv),
  lint: async (argv) => (await import('./commands/lint.js')).lintCommand(argv),
  fetch: async (argv) => (await import('./commands/fetch.js')).fetchCommand(argv),
  images: async (argv) => (await import('./commands/images.js')).imagesCommand(argv),
  inspect: async (argv) => (await import('./commands/images.js')).inspectCommand(argv),
  rmi: async (argv) => (await import('./commands/images.js')).rmiCommand(argv),
  build: async (argv) => (await import('./commands/build.js')).buildCommand(argv),
  push: async (argv) => (await import('./commands/push.js')).pushCommand(argv),
  commit: async (argv) => (await import('./commands/commit.js')).commitCommand(argv),
  run: async (argv) => (await import('./commands/run.js')).runCommand(argv),
  spec: async (argv) => (await import('./commands/run.js')).specCommand(argv),
  ps: async (argv) => (await import('./commands/run.js')).psCommand(argv),
  exec: async (argv) => (await import('./commands/run.js')).execCommand(argv),
  rm: async (argv) => (await import('./commands/run.js')).rmCommand(argv),
  logs: async (argv) => (await import('./commands/boxes.js')).logsCommand(argv),
  stop: async (argv) => (await import('./commands/boxes.js')).stopCommand(argv),
  diff: async (argv) => (await import('./commands/diff.js')).diffCommand(argv),
  seccomp: async (argv) => (await import('./commands/seccomp.js')).seccompCommand(argv),
  // The OCI runtime command line: bin/boxlab-runtime calls it (engines call one executable).
  runtime: async (argv) => (await import('./commands/runtime.js')).runtimeCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  const handler = COMMANDS[command];
  if (!handler) throw new UsageError(`unknown command '${command}' (try boxlab --help)`);
  return handler(rest);
}

// A closed pipe (boxlab ... | head) must not stop a run before its cleanup: drop the output.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.stdout.write = () => true;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isOneLineError(e)) {
      process.stderr.write(`boxlab: ${e.message}\n`);
      process.exitCode = e.code;
      return;
    }
    // A bug: still one line (its message may quote a registry or an image: escaped, cut at
    // 1000 characters), plus the trace only when asked for.
    process.stderr.write(`boxlab: internal error: ${printable((e as Error)?.message ?? e, 1000)}${process.env.BOXLAB_DEBUG ? '\n' + (e as Error)?.stack : ' (BOXLAB_DEBUG=1 for details)'}\n`);
    process.exitCode = 70;
  },
);
