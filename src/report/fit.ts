// Fitting a shown command to a projector's width. A wrapper (nsenter into the box, capsh
// as the box's root, setpriv, the cgroup join) is spelled out once per lesson and named after
// that ("in the box: …"); the kernel-facing command is always shown whole, wrapped at word
// breaks. Works on the rendered bash text, so it serves every lesson and `boxlab run` alike.
import { shellWords } from '../shell/cmd.js';

const unquote = (w: string): string => w.replace(/^["']|["']$/g, '');

/** Where a wrapper chain at the start of these words ends, what it is called, and the word the
 *  payload starts with when the wrapper names it (capsh --shell=PROG). */
export interface Wrapper {
  text: string;
  label: string;
  payload: string[];
}

/** `nameOf`: the variable a PID was kept in (BOX), so a real run's wrapper reads as a dry run's. */
export function splitWrapper(words: string[], nameOf: (pid: string) => string | undefined = () => undefined): Wrapper | undefined {
  const labels: string[] = [];
  let i = 0;
  let payloadHead: string | undefined;
  let shellAt = -1;
  for (;;) {
    const w = words[i];
    if (w === 'setpriv' && words[i + 1]?.startsWith('-')) {
      i++;
      while (words[i]?.startsWith('-')) {
        const opt = words[i]!;
        if (opt === '--pdeathsig') labels.push('dying with boxlab');
        if (opt === '--no-new-privs') labels.push('no_new_privs');
        if (opt.startsWith('--bounding-set')) labels.push("setpriv's bounding set");
        if (opt.startsWith('--seccomp-filter')) labels.push('a seccomp filter');
        if (/^--re?uid/.test(opt)) labels.push(`uid ${opt.split('=')[1] ?? words[i + 1]}`);
        i += /^--(pdeathsig|reuid|regid|seccomp-filter|inh-caps|bounding-set)$/.test(opt) ? 2 : 1;
      }
      continue;
    }
    if (w === 'nsenter' && words[i + 1] !== undefined && unquote(words[i + 1]!).startsWith('-')) {
      i++;
      let target: string | undefined;
      let ns = 0;
      const single: string[] = [];
      while (words[i] !== undefined && unquote(words[i]!).startsWith('-')) {
        const opt = unquote(words[i]!);
        if (opt === '--target' || opt === '-t') {
          target = words[i + 1];
          i += 2;
          continue;
        }
        const m = /^--(mount|uts|ipc|net|pid|cgroup|user|time)(=(.*))?$/.exec(opt);
        if (m) {
          ns++;
          single.push(m[1]!);
          target ??= m[3]?.replace(/^\/proc\/(.+)\/ns\/.*$/, '$1');
        }
        i++;
      }
      const bare = target === undefined ? 'BOX' : unquote(target).replace(/^\$\{(\w+)\}$|^\$(\w+)$/, '$1$2');
      const name = nameOf(bare) ?? bare;
      const who = name === 'BOX' ? 'the box' : /^\w+$/.test(name) && !/^\d+$/.test(name) ? `$${name}` : name;
      // A box entered but for a namespace or two (a break-it's) is named for what it lacks.
      const missing = ['mount', 'uts', 'ipc', 'net', 'pid', 'cgroup'].filter((n) => !single.includes(n));
      const names: Record<string, string> = { mount: 'mount', uts: 'UTS', ipc: 'IPC', net: 'network', pid: 'PID', cgroup: 'cgroup', user: 'user', time: 'time' };
      const listed = (l: string[]): string => `${l.map((n) => names[n] ?? n).join(' and ')} namespace${l.length > 1 ? 's' : ''}`;
      labels.push(ns >= 3 ? (missing.length && missing.length <= 2 ? `in ${who} but its ${listed(missing)}` : `in ${who}`) : `in ${who}'s ${listed(single)}`);
      continue;
    }
    if (w === 'capsh' && words.slice(i).some((x) => x.startsWith('--shell='))) {
      let j = i + 1;
      let drop = '';
      let uid = '';
      while (j < words.length && words[j] !== '--') {
        const opt = unquote(words[j]!);
        if (opt.startsWith('--drop=')) drop = opt.slice(7);
        if (opt.startsWith('--uid=')) uid = opt.slice(6);
        if (opt.startsWith('--shell=')) payloadHead = opt.slice(8);
        j++;
      }
      const dropped = drop.split(',').filter(Boolean);
      labels.push(
        (uid ? `as uid ${uid}` : "as the box's root") + (dropped.length === 1 ? ` without ${dropped[0]}` : dropped.length > 1 ? ` without ${dropped.length} capabilities` : ''),
      );
      i = j + 1;
      shellAt = words.findIndex((x, k) => k < i && x.startsWith('--shell='));
      break;
    }
    // podman's global options (its storage, run and tmp directories, the cgroup manager, the
    // runtime): the same before every subcommand of a lesson, so spelled out once.
    if (w === 'podman' && words[i + 1]?.startsWith('--')) {
      let runtime = '';
      i++;
      while (words[i]?.startsWith('--') && /^--(root|runroot|tmpdir|cgroup-manager|events-backend|runtime|storage-driver|log-level)$/.test(words[i]!)) {
        if (words[i] === '--runtime') runtime = unquote(words[i + 1] ?? '').replace(/^.*\//, '');
        i += 2;
      }
      labels.push(`podman${runtime ? ` with ${runtime}` : ''}`);
      break;
    }
    // sh -c 'exec "$@" >"$0" 2>&1' FILE COMMAND: the command's output kept in FILE.
    if (w === 'sh' && words[i + 1] === '-c' && /^'exec "\$@" >"\$0"( 2>&1)?'$/.test(words[i + 2] ?? '') && words[i + 4] !== undefined) {
      labels.push(`its output to ${words[i + 3]!.replace(/^.*\//, '')}`);
      i += 4;
      continue;
    }
    // sh -c '…exec "$@"' NAME ARGS… COMMAND: the cgroup join (N files) and the parent check (1 PID).
    if (w === 'sh' && words[i + 1] === '-c' && words[i + 2]?.includes('exec "$@"') && words[i + 3] !== undefined) {
      const script = words[i + 2]!;
      if (script.includes('n=$1')) {
        const n = Number(words[i + 4]);
        if (!Number.isInteger(n)) break;
        // One group per controller on cgroup v1: named once, from its boxlab- directory on.
        const groups = new Set(words.slice(i + 5, i + 5 + n).map((f) => unquote(f).replace(/\/cgroup\.procs$/, '').replace(/^.*?\/(boxlab-)/, '$1')));
        labels.push(`in cgroup ${[...groups].join(', ')}`);
        i += 5 + n;
        continue;
      }
      if (script.includes('PPID')) {
        i += 5;
        continue;
      }
    }
    break;
  }
  if (i === 0 || i >= words.length + (payloadHead ? 1 : 0)) return undefined;
  const payload = payloadHead ? [payloadHead, ...words.slice(i)] : words.slice(i);
  if (!payload.length) return undefined;
  // The program capsh runs is the payload's, not the wrapper's: one wrapper serves them all.
  const text = words.slice(0, i).map((x, k) => (k === shellAt ? '--shell=PROGRAM' : x));
  return { text: text.join(' '), label: labels.join(', ') || 'wrapped', payload };
}

/** Words laid out in lines of at most `width` columns; the first line after `first`, the rest
 *  after `rest`. A word longer than a line is cut where it must be. */
export function wrapWords(words: string[], width: number, first: string, rest: string): string[] {
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  const room = (): number => width - cur.length;
  for (const w of words) {
    const sep = empty ? '' : ' ';
    if (sep.length + w.length <= room()) {
      cur += sep + w;
      empty = false;
      continue;
    }
    if (!empty && rest.length + w.length <= width) {
      lines.push(cur);
      cur = rest + w;
      continue;
    }
    // Longer than a line: cut it.
    let left = w;
    if (!empty) {
      lines.push(cur);
      cur = rest;
    }
    while (left.length > room()) {
      // Inside a quoted script, break at a space where there is one; in a list (capsh's
      // --drop=a,b,...), after a comma; else mid-word.
      const r = Math.max(room(), 8);
      const at = Math.max(left.lastIndexOf(' ', r - 1), left.lastIndexOf(',', r - 1));
      const n = at > r / 2 ? at + 1 : r;
      lines.push(cur + left.slice(0, n));
      left = left.slice(n);
      cur = rest;
    }
    cur += left;
    empty = false;
  }
  lines.push(cur);
  return lines;
}

const LONG_STDIN = 160;

/** A here-string too long to read (a base64 BPF program) as a summary; --script keeps it. */
function summariseStdin(words: string[]): string[] {
  const at = words.indexOf('<<<');
  if (at < 0 || at !== words.length - 2 || words[at + 1]!.length <= LONG_STDIN) return words;
  const data = words[at + 1]!;
  const lines = (data.match(/\\n/g)?.length ?? 0) + 1;
  const size = data.length > 2048 ? `${(data.length / 1024).toFixed(1)} KB` : `${data.length} characters`;
  return [...words.slice(0, at), '<<<', `‹${size}${lines > 1 ? `, ${lines} lines` : ''} of text: --explain or --script shows it›`];
}

/**
 * A fitter for one lesson: remembers the wrappers already spelled out. `fit(line, prefix)`
 * returns the screen lines for a command shown after `prefix` ("  $ "), each at most
 * `width` columns (measured without colour).
 */
export function commandFitter(width: number, nameOf: (pid: string) => string | undefined = () => undefined) {
  const seen = new Map<string, string>(); // wrapper text -> label
  const byKey = new Map<string, string>(); // the same, its words unquoted -> label
  const labels = new Set<string>();
  const label = (w: Wrapper): { name: string; fresh: boolean } => {
    // The same wrapper, whether its words were quoted ("$WORK/x") or not: one name.
    const key = shellWords(w.text).map(unquote).join(' ');
    const known = seen.get(w.text) ?? byKey.get(key);
    if (known) return { name: known, fresh: false };
    let name = w.label;
    for (let n = 2; labels.has(name); n++) name = `${w.label} (${n})`;
    seen.set(w.text, name);
    byKey.set(key, name);
    labels.add(name);
    return { name, fresh: true };
  };
  /** A wrapper that differs from one already spelled out by a word or two is said as that
   *  difference (capsh's --drop list, once and not three times). */
  const spellOut = (text: string): string[] => {
    const mine = shellWords(text);
    for (const [other, name] of seen) {
      if (other === text) continue;
      const theirs = shellWords(other);
      let head = 0;
      while (head < mine.length && mine[head] === theirs[head]) head++;
      let tail = 0;
      while (tail < mine.length - head && tail < theirs.length - head && mine[mine.length - 1 - tail] === theirs[theirs.length - 1 - tail]) tail++;
      const added = mine.slice(head, mine.length - tail);
      const removed = theirs.slice(head, theirs.length - tail);
      if (head > 2 && added.length + removed.length <= 3) {
        return [`${name}`, ...(added.length ? ['plus', ...added] : []), ...(removed.length ? [added.length ? 'in place of' : 'without', ...removed] : [])];
      }
    }
    return mine;
  };
  return {
    /** `legend`: lines naming a wrapper the first time it is used, shown before the command. */
    fit(line: string, prefix: string, rest = ' '.repeat(prefix.length + 2)): { legend: string[]; lines: string[] } {
      const out: string[] = [];
      const legend: string[] = [];
      for (const [k, raw] of line.split('\n').entries()) {
        const p = k === 0 ? prefix : rest;
        if (p.length + raw.length <= width) {
          out.push(p + raw);
          continue;
        }
        let words = summariseStdin(shellWords(raw.trimStart()));
        const indent = raw.length - raw.trimStart().length;
        const lead = k === 0 ? p : rest + ' '.repeat(Math.max(0, indent - rest.length));
        const w = splitWrapper(words, nameOf);
        if (w && w.text.length > 24) {
          const { name, fresh } = label(w);
          if (fresh) legend.push(...wrapWords([`(${name} =`, ...spellOut(w.text), '…)'], width, '    ', '        '));
          words = [`${name}:`, ...w.payload];
        }
        out.push(...wrapWords(words, width, lead, rest));
      }
      return { legend, lines: out };
    },
  };
}

/** Prose on a terminal: TEXT after LEAD, wrapped at word breaks to WIDTH, later lines indented
 *  by INDENT (an exercise's goal and hints: a word is never cut in two). */
export const wrapText = (text: string, width: number, lead = '', indent = '  '): string[] => wrapWords(text.split(/\s+/).filter(Boolean), width, lead, indent);
