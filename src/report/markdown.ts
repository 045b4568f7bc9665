// Just enough markdown for a terminal: paragraphs wrapped to the screen, `code`, **bold**,
// *italics*, headings, lists and fenced blocks. Styling comes from the caller so this stays
// free of chalk.
//
// Inline formatting is parsed before wrapping: each character knows whether it is code, bold
// or italic, so a span that wraps onto the next line is styled on both lines and its markers
// never show. Words are broken between lines; a space inside `code` is broken only when the
// span is wider than a line. No line is wider than `width`: a word or code line that cannot
// fit is split.

export interface Style {
  code: (s: string) => string;
  bold: (s: string) => string;
  italic: (s: string) => string;
  dim: (s: string) => string;
  heading: (s: string) => string;
}

export interface Ch {
  c: string;
  code: boolean;
  bold: boolean;
  italic: boolean;
}

type Word = Ch[];

/** The characters of a span of inline markdown, each with its styles, markers removed. */
export function parseInline(text: string): Ch[] {
  // Code spans first: a run of N backticks closes at the next run of exactly N.
  const chars: (Ch & { marker?: boolean })[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '`') {
      let n = 0;
      while (text[i + n] === '`') n++;
      const fence = '`'.repeat(n);
      let close = -1;
      for (let j = text.indexOf(fence, i + n); j !== -1; j = text.indexOf(fence, j + 1)) {
        let m = 0;
        while (text[j + m] === '`') m++;
        if (m === n) {
          close = j;
          break;
        }
        j += m - 1;
      }
      if (close !== -1) {
        let body = text.slice(i + n, close);
        if (/^ .*[^ ].* $/s.test(body)) body = body.slice(1, -1);
        for (const c of body) chars.push({ c, code: true, bold: false, italic: false });
        i = close + n;
        continue;
      }
      for (let k = 0; k < n; k++) chars.push({ c: '`', code: false, bold: false, italic: false });
      i += n;
      continue;
    }
    chars.push({ c: text[i]!, code: false, bold: false, italic: false });
    i++;
  }

  const star = (k: number): boolean => chars[k]?.c === '*' && !chars[k]!.code && !chars[k]!.marker;
  const space = (k: number): boolean => k < 0 || k >= chars.length || /\s/.test(chars[k]!.c);
  const word = (k: number): boolean => k >= 0 && k < chars.length && /[\p{L}\p{N}]/u.test(chars[k]!.c);
  // Emphasis: a marker opens before a non-space and closes after one (CommonMark's flanking
  // rule, simplified); single stars also may not sit inside a word, so 2*3 stays as it is.
  const pair = (len: 1 | 2, flag: 'bold' | 'italic'): void => {
    const at = (k: number): boolean => (len === 2 ? star(k) && star(k + 1) && !star(k + 2) && !star(k - 1) : star(k) && !star(k + 1) && !star(k - 1));
    for (let k = 0; k < chars.length; k++) {
      if (!at(k) || space(k + len) || (len === 1 && word(k - 1))) continue;
      let end = -1;
      for (let e = k + len + 1; e < chars.length; e++) {
        if (at(e) && !space(e - 1) && !(len === 1 && word(e + 1))) {
          end = e;
          break;
        }
      }
      if (end === -1) continue;
      for (let m = 0; m < len; m++) chars[k + m]!.marker = chars[end + m]!.marker = true;
      for (let m = k + len; m < end; m++) chars[m]![flag] = true;
      k = end + len - 1;
    }
  };
  pair(2, 'bold');
  pair(1, 'italic');
  return chars.filter((ch) => !ch.marker).map(({ c, code, bold, italic }) => ({ c, code, bold, italic }));
}

/** Words: split at spaces outside code spans. */
function words(chars: Ch[]): Word[] {
  const out: Word[] = [];
  let cur: Word = [];
  for (const ch of chars) {
    if (!ch.code && /\s/.test(ch.c)) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push(ch);
  }
  if (cur.length) out.push(cur);
  return out;
}

const plain: Omit<Ch, 'c'> = { code: false, bold: false, italic: false };
const sameStyle = (a: Ch, b: Ch): boolean => a.code === b.code && a.bold === b.bold && a.italic === b.italic;

function paint(line: Ch[], st: Style): string {
  let out = '';
  for (let i = 0; i < line.length; ) {
    let j = i;
    while (j < line.length && sameStyle(line[i]!, line[j]!)) j++;
    let s = line.slice(i, j).map((ch) => ch.c).join('');
    const { code, bold, italic } = line[i]!;
    if (code) s = st.code(s);
    if (italic) s = st.italic(s);
    if (bold) s = st.bold(s);
    out += s;
    i = j;
  }
  return out;
}

/** Lay words out in lines of at most `width` characters, the first starting with `first`. */
function layout(ws: Word[], width: number, indent: string, first = indent): Ch[][] {
  const chars = (s: string): Ch[] => [...s].map((c) => ({ c, ...plain }));
  width = Math.max(width, indent.length + 12, first.length + 12);
  const lines: Ch[][] = [];
  let line = chars(first);
  let empty = true;
  const newline = (): void => {
    lines.push(line);
    [line, empty] = [chars(indent), true];
  };
  const append = (w: Word): void => {
    if (!empty) line.push({ c: ' ', ...plain });
    line.push(...w);
    empty = false;
  };
  for (let w of ws) {
    for (;;) {
      const room = width - line.length - (empty ? 0 : 1);
      if (w.length <= room) {
        append(w);
        break;
      }
      // Too long here: take a fresh line if it fits there, or if little room is left.
      if (!empty && (w.length <= width - indent.length || room < 8)) {
        newline();
        continue;
      }
      // Wider than a line: split it, at a space inside code if there is one.
      let cut = -1;
      for (let k = Math.min(room, w.length - 1); k > 0; k--) {
        if (/\s/.test(w[k]!.c)) {
          cut = k;
          break;
        }
      }
      if (cut > 0) {
        append(w.slice(0, cut));
        w = w.slice(cut + 1);
      } else {
        append(w.slice(0, room));
        w = w.slice(room);
      }
      newline();
      while (w.length && /\s/.test(w[0]!.c)) w = w.slice(1);
      if (!w.length) break;
    }
  }
  if (!empty) lines.push(line);
  return lines;
}

/** Fold a line of a fenced block to the width, at a space where possible; each continued line
 *  ends with " \" as a shell command would and the rest is indented under it. */
export function foldCode(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  const hang = (rest.match(/^\s*/)![0] ?? '') + '    ';
  let lead = '';
  width = Math.max(width, hang.length + 12);
  while (lead.length + rest.length > width) {
    const room = width - lead.length - 2; // room for " \"
    // A space outside quotes, so the folded command still pastes into a shell; else any.
    let cut = -1;
    let quote = '';
    for (let k = 0; k <= Math.min(room, rest.length - 1); k++) {
      const c = rest[k]!;
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === "'" || c === '"') quote = c;
      else if (c === ' ') cut = k;
    }
    if (cut <= rest.search(/\S/)) cut = rest.lastIndexOf(' ', room);
    while (cut > 0 && rest[cut - 1] === ' ') cut--;
    if (cut <= rest.search(/\S/)) cut = room;
    out.push(lead + rest.slice(0, cut).replace(/\s+$/, '') + ' \\');
    rest = rest.slice(cut).replace(/^\s+/, '');
    lead = hang;
  }
  out.push(lead + rest);
  return out;
}

const ITEM = /^\s*([-*+]|\d+[.)])\s+/;

/** Render markdown for a terminal `width` columns wide, every line starting with `indent`. */
export function renderMarkdown(md: string, st: Style, width = 88, indent = '  '): string {
  const out: string[] = [];
  const blank = (): void => {
    if (out.length && out.at(-1) !== '') out.push('');
  };
  const paragraph = (text: string): void => {
    out.push(...layout(words(parseInline(text)), width, indent).map((l) => paint(l, st)));
  };
  let para: string[] = [];
  let items: string[] = [];
  const flush = (): void => {
    if (para.length) paragraph(para.join(' '));
    for (const item of items) {
      const bullet = item.match(ITEM)![0];
      const mark = /^[-*+]/.test(bullet.trim()) ? '• ' : bullet.trim() + ' ';
      out.push(...layout(words(parseInline(item.slice(bullet.length))), width, indent + ' '.repeat(mark.length), indent + mark).map((l) => paint(l, st)));
    }
    if (para.length || items.length) blank();
    [para, items] = [[], []];
  };

  const lines = md.trim() ? md.trim().split('\n') : [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*(```|~~~)/.test(l)) {
      flush();
      const fence = l.trim().slice(0, 3);
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence); i++) {
        for (const part of foldCode(lines[i]!, width - indent.length - 2)) out.push(indent + '  ' + st.dim(part));
      }
      blank();
      continue;
    }
    if (!l.trim()) {
      flush();
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(l);
    if (h) {
      flush();
      out.push(...layout(words(parseInline(h[2]!)), width, indent).map((x) => st.heading(paint(x, st))));
      continue;
    }
    if (ITEM.test(l) && (items.length || !para.length || /^\s*([-*+]|1[.)])\s/.test(l))) {
      if (para.length) flush();
      items.push(l.trim());
    } else if (items.length) items[items.length - 1] += ' ' + l.trim();
    else para.push(l.trim());
  }
  flush();
  while (out.at(-1) === '') out.pop();
  return out.join('\n') + (out.length ? '\n' : '');
}
