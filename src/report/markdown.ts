// Just enough markdown for a terminal: paragraphs wrapped to the screen, `code`, **bold**,
// lists and fenced blocks. Styling comes from the caller so this stays free of chalk.

export interface Style {
  code: (s: string) => string;
  bold: (s: string) => string;
  dim: (s: string) => string;
  heading: (s: string) => string;
}

function wrap(text: string, width: number, indent: string, first = indent): string[] {
  const visible = (w: string): number => w.replace(/`|\*\*/g, '').length;
  const lines: string[] = [];
  let line = first;
  let len = first.length;
  let empty = true;
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (!empty && len + 1 + visible(w) > width) {
      lines.push(line);
      [line, len, empty] = [indent, indent.length, true];
    }
    line += (empty ? '' : ' ') + w;
    len += (empty ? 0 : 1) + visible(w);
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

const inline = (s: string, st: Style): string =>
  s.replace(/`([^`]+)`/g, (_, c: string) => st.code(c)).replace(/\*\*([^*]+)\*\*/g, (_, b: string) => st.bold(b));

export function renderMarkdown(md: string, st: Style, width = 88, indent = '  '): string {
  const out: string[] = [];
  let inFence = false;
  for (const block of md.trim() ? md.trim().split('\n\n') : []) {
    const lines = block.split('\n');
    if (inFence || lines[0]!.startsWith('```')) {
      for (const l of lines) {
        if (l.startsWith('```')) inFence = !inFence;
        else out.push(indent + '  ' + st.dim(l));
      }
      out.push('');
      continue;
    }
    if (lines[0]!.startsWith('#')) {
      out.push(indent + st.heading(lines[0]!.replace(/^#+\s*/, '')));
      lines.shift();
      if (lines.length === 0) continue;
    }
    if (lines.every((l) => /^\s*([-*]|\d+\.)\s/.test(l) || /^\s{2,}\S/.test(l))) {
      const items: string[] = [];
      for (const l of lines) {
        if (/^\s*([-*]|\d+\.)\s/.test(l)) items.push(l.trim());
        else items[items.length - 1] += ' ' + l.trim();
      }
      for (const item of items) {
        const bullet = item.match(/^([-*]|\d+\.)\s/)![0];
        const mark = bullet.startsWith('-') || bullet.startsWith('*') ? '• ' : bullet;
        out.push(...wrap(item.slice(bullet.length), width, indent + ' '.repeat(mark.length), indent + mark).map((l) => inline(l, st)));
      }
    } else {
      out.push(...wrap(lines.join(' '), width, indent).map((l) => inline(l, st)));
    }
    out.push('');
  }
  return out.join('\n');
}
