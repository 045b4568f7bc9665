// Docker's word rules for a Boxfile's arguments (moby's shell lexer, the part a Boxfile needs):
// whitespace splits words; '...' is literal; "..." keeps spaces and expands variables; a
// backslash escapes the next character; $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} expand.
// Pure: the values come from the caller (ARG and ENV so far), never from boxlab's environment.

export class WordError extends Error {}

export type Vars = ReadonlyMap<string, string>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** One ${...} or $NAME at text[i] (text[i] === '$'): its value and where the text goes on. */
function expandAt(text: string, i: number, vars: Vars): { value: string; next: number } {
  if (text[i + 1] === '{') {
    const close = text.indexOf('}', i + 2);
    if (close < 0) throw new WordError(`missing '}' in ${text.slice(i, i + 40)}`);
    const inner = text.slice(i + 2, close);
    const name = NAME.exec(inner)?.[0];
    if (!name) throw new WordError(`bad substitution \${${inner}}`);
    const rest = inner.slice(name.length);
    const set = vars.get(name);
    if (rest === '') return { value: set ?? '', next: close + 1 };
    const word = rest.slice(2);
    // The default or alternative may name variables too.
    if (rest.startsWith(':-')) return { value: set ? set : expand(word, vars), next: close + 1 };
    if (rest.startsWith(':+')) return { value: set ? expand(word, vars) : '', next: close + 1 };
    throw new WordError(`bad substitution \${${inner}} (boxlab knows \${NAME}, \${NAME:-default}, \${NAME:+alternative})`);
  }
  const name = NAME.exec(text.slice(i + 1))?.[0];
  if (!name) return { value: '$', next: i + 1 };
  return { value: vars.get(name) ?? '', next: i + 1 + name.length };
}

/** Variables expanded in plain text (no quote removal): a default inside ${...}. */
function expand(text: string, vars: Vars): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\\' && text[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (text[i] === '$') {
      const r = expandAt(text, i, vars);
      out += r.value;
      i = r.next;
    } else out += text[i++];
  }
  return out;
}

/**
 * The words of text, quotes removed and variables expanded (vars undefined: no expansion, as
 * for a RUN's shell text). A quoted empty string is a word; an unquoted empty expansion is not.
 */
export function splitWords(text: string, vars?: Vars): string[] {
  const words: string[] = [];
  let cur = '';
  let started = false;
  const end = (): void => {
    if (started) words.push(cur);
    cur = '';
    started = false;
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      end();
      i++;
    } else if (c === '\\') {
      // A trailing backslash stays itself.
      cur += text[i + 1] ?? '\\';
      started = true;
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new WordError(`unterminated quote in ${text.slice(i, i + 40)}`);
      cur += text.slice(i + 1, close);
      started = true;
      i = close + 1;
    } else if (c === '"') {
      started = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new WordError(`unterminated quote in ${text.slice(0, 40)}`);
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === '$')) {
          cur += text[i + 1];
          i += 2;
        } else if (d === '$' && vars) {
          const r = expandAt(text, i, vars);
          cur += r.value;
          i = r.next;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '$' && vars) {
      const r = expandAt(text, i, vars);
      cur += r.value;
      if (r.value !== '') started = true;
      i = r.next;
    } else {
      cur += c;
      started = true;
      i++;
    }
  }
  end();
  return words;
}

/** One value (WORKDIR, USER): the words of text joined by one space, as Docker does. */
export const oneWord = (text: string, vars: Vars): string => splitWords(text, vars).join(' ');

/** KEY=VALUE words (ENV, LABEL, ARG); the legacy `ENV KEY VALUE...` form when allowed. */
export function keyValues(text: string, vars: Vars, legacy: boolean): [string, string][] {
  const words = splitWords(text, vars);
  if (words.length === 0) throw new WordError('needs KEY=VALUE');
  if (legacy && !words[0]!.includes('=')) {
    // ENV KEY VALUE: the rest of the line, with its own spacing, is the value.
    const key = /^\S+/.exec(text.trim())![0];
    return [[key, oneWord(text.trim().slice(key.length), vars)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new WordError(`'${w}' is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
