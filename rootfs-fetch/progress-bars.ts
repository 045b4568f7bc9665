// One progress line per layer on stderr. On a terminal the lines redraw in place (at most 10
// times a second); elsewhere (CI, a pipe) each line is printed once, when its layer is done.
export interface Bar {
  add(bytes: number): void;
  done(note: string): void;
}

export interface Progress {
  bar(label: string, total: number): Bar;
  line(text: string): void;
}

const human = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);
export { human as humanBytes };

export function progressTo(stream: NodeJS.WriteStream, quiet = false): Progress {
  if (quiet) return { bar: () => ({ add: () => undefined, done: () => undefined }), line: () => undefined };
  if (!stream.isTTY) {
    return {
      bar: (label, total) => ({ add: () => undefined, done: (note) => void stream.write(`${label}  ${human(total)}  ${note}\n`) }),
      line: (text) => void stream.write(text + '\n'),
    };
  }
  const rows: { label: string; total: number; seen: number; note?: string }[] = [];
  let drawn = 0;
  let last = 0;
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let out = drawn ? `\x1b[${drawn}A` : '';
    for (const r of rows) {
      const frac = r.total ? Math.min(1, r.seen / r.total) : 1;
      const width = 24;
      const fill = Math.round(frac * width);
      out += `\x1b[2K${r.label}  [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${human(r.seen)}/${human(r.total)}${r.note ? `  ${r.note}` : ''}\n`;
    }
    drawn = rows.length;
    stream.write(out);
  };
  return {
    bar(label, total) {
      const row = { label, total, seen: 0, note: undefined as string | undefined };
      rows.push(row);
      draw(true);
      return {
        add: (n) => {
          row.seen += n;
          draw();
        },
        done: (note) => {
          row.seen = Math.max(row.seen, row.total);
          row.note = note;
          draw(true);
        },
      };
    },
    line(text) {
      // Printed above the bars, which then draw again below it.
      stream.write(text + '\n');
      drawn = 0;
      draw(true);
    },
  };
}
