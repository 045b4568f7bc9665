// A command is data: a program and its argv. Arguments may hold ${NAME} placeholders
// that the engine fills in at run time and that the --script output keeps as shell variables.

export interface Cmd {
  file: string;
  args: string[];
  /** Text fed to standard input (rendered as a bash here-string). */
  stdin?: string;
  /** For a wrapper (setpriv ... PROGRAM): the program it execs, also a host tool. */
  inner?: Cmd;
  /** For `sh -euc SCRIPT` made of commands: those commands, to show them one per line, and
   *  the namespaces (nsenter's names: mount, uts, net ...) they are run in. */
  batch?: Cmd[];
  namespaces?: readonly string[];
  /** For `sh -c PROGRAM NAME ARGS...` made by shProgram: the program, to show it line by line. */
  program?: string;
  /** The same as shell text with a process fewer (a builtin, a variable instead of env(1)):
   *  what a generated script runs instead (POSIX sh inside a batch, bash elsewhere). */
  inline?: string;
  /** A person's words for what a long program reads ("/proc/<the jailed sleep>/root"): what an
   *  exercise's check shows where the program itself would not fit on a line. */
  what?: string;
  /** Arguments from this index on are data from outside (an image, a bundle, a flag): never
   *  a placeholder, never expanded, quoted as literals wherever the command is rendered. */
  dataFrom?: number;
}

export const cmd = (file: string, ...args: string[]): Cmd => ({ file, args });

/** A small shell program of ours, its values as arguments ($1 ...), never in its text. */
export const shProgram = (file: 'sh' | 'bash', flags: '-c' | '-euc', program: string, name: string, ...args: string[]): Cmd => ({ file, args: [flags, program, name, ...args], program });

/** C, said in words where it is shown on one line (an exercise's checks). */
export const described = (what: string, c: Cmd): Cmd => ({ ...c, what });

/** The same, which a generated script runs in a subshell instead of a new sh: both forms are
 *  made from the one program text and arguments, so they cannot disagree. */
export const shFragment = (program: string, ...args: string[]): Cmd => ({ ...shProgram('sh', '-c', program, 'sh', ...args), inline: `(set -- ${args.map(quote).join(' ')}; ${program})` });
/** The same, for a batch's own throwaway shell (inBoxBatch): inline in that shell, with no
 *  subshell, since each ( ) is a fork (about 3 ms here). Its `set --` and variables stay in
 *  that shell, and an exit ends the batch, failing it. */
export const batchFragment = (program: string, ...args: string[]): Cmd => ({ ...shFragment(program, ...args), inline: `set -- ${args.map(quote).join(' ')}; ${program}` });

/** `file args... INNER`: a wrapper around a command, keeping where the inner one's data starts. */
export function wrap(file: string, args: string[], inner: Cmd): Cmd {
  const out: Cmd = { file, args: [...args, inner.file, ...inner.args], inner };
  if (inner.dataFrom !== undefined) out.dataFrom = args.length + 1 + inner.dataFrom;
  return out;
}

const PLACEHOLDER = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const SAFE = /^[A-Za-z0-9_/.:=,@%+-]+$/;

export type Vars = Readonly<Record<string, string>>;

/** The names of the ${NAME} placeholders a string uses. */
export function placeholders(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Replace ${NAME} with its value; an unknown name is a programming error in a lesson. */
export function fill(s: string, vars: Vars): string {
  return s.replace(PLACEHOLDER, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`no value for \${${name}} in "${s}"`);
    return v;
  });
}

/** Replace the placeholders whose values are known and keep the others (for --dry-run). */
export function fillKnown(s: string, vars: Vars): string {
  return s.replace(PLACEHOLDER, (whole, name: string) => vars[name] ?? whole);
}

export function fillCmd(c: Cmd, vars: Vars, f: (s: string, v: Vars) => string = fill): Cmd {
  const data = c.dataFrom ?? c.args.length;
  const out: Cmd = { file: f(c.file, vars), args: c.args.map((a, i) => (i < data ? f(a, vars) : a)) };
  if (c.dataFrom !== undefined) out.dataFrom = c.dataFrom;
  if (c.inner) out.inner = fillCmd(c.inner, vars, f);
  if (c.stdin !== undefined) out.stdin = f(c.stdin, vars);
  return out;
}

/** One word for bash: bare when safe, "..." when it holds placeholders, '...' otherwise. */
export function quote(word: string): string {
  if (word === '') return "''";
  if (SAFE.test(word)) return word;
  if (placeholders(word).length > 0) {
    // Inside double quotes only $ ` \ " are special; keep ${NAME} as an expansion.
    const parts = word.split(PLACEHOLDER);
    let out = '';
    parts.forEach((p, i) => {
      out += i % 2 === 1 ? `\${${p}}` : p.replace(/[$`\\"]/g, (ch) => '\\' + ch);
    });
    return `"${out}"`;
  }
  if (/[\n\t]/.test(word)) {
    // ANSI-C quoting keeps a multi-line value on one line of the shown command.
    return `$'${word.replace(/[\\']/g, (ch) => '\\' + ch).replace(/\n/g, '\\n').replace(/\t/g, '\\t')}'`;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A word of data: bare when plainly safe, otherwise single-quoted, whatever it holds. */
export const dataWord = (word: string): string => (word !== '' && SAFE.test(word) ? word : literal(word));

/** Text for a `#` comment line: a newline or other control character would end the comment
 *  and make the rest a command; each is shown escaped instead. */
export const comment = (text: string): string => text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Single quotes whatever it holds: a placeholder stays unexpanded until the text is eval'd. */
export const literal = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The command as one line of bash, exactly what a learner would type. */
export function render(c: Cmd): string {
  const data = c.dataFrom ?? c.args.length;
  const line = [quote(c.file), ...c.args.map((a, i) => (i < data ? quote(a) : dataWord(a)))].join(' ');
  return c.stdin === undefined ? line : `${line} <<< ${quote(c.stdin)}`;
}

/** The command as a shell's last act: `exec LINE`; a wrapper whose inline form is an exec of
 *  its own (env -i as bash's `exec -c`) goes as that, with a process fewer. */
export const execLine = (c: Cmd): string => (c.inline?.startsWith('exec ') ? c.inline : `exec ${render(c)}`);

/** Shell words of one rendered line, each with its quoting kept as written. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let w = '';
    while (i < line.length && line[i] !== ' ') {
      const ch = line[i]!;
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        const stop = end < 0 ? line.length : end + 1;
        w += line.slice(i, stop);
        i = stop;
      } else if (ch === '"' || (ch === '$' && line[i + 1] === "'")) {
        // "..." and $'...' both take backslash escapes.
        const quote = ch === '"' ? '"' : "'";
        let j = ch === '"' ? i + 1 : i + 2;
        while (j < line.length && line[j] !== quote) j += line[j] === '\\' ? 2 : 1;
        w += line.slice(i, j + 1);
        i = j + 1;
      } else if (ch === '\\') {
        w += line.slice(i, i + 2);
        i += 2;
      } else {
        w += ch;
        i++;
      }
    }
    words.push(w);
  }
  return words;
}

/** A shown command's ${NAME} placeholders as a shell reads them: "${BOX}" -> $BOX, ${BOX} ->
 *  $BOX (braces kept where a name character follows). For a person reading, not for bash. */
export const asShellVariables = (text: string): string => text.replace(/"\$\{([A-Z_][A-Z0-9_]*)\}"/g, '$$$1').replace(/\$\{([A-Z_][A-Z0-9_]*)\}(?![A-Za-z0-9_])/g, '$$$1');
