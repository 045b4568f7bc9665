import type { Cmd } from './cmd.js';

/** Every directory under dir that overlayfs marked opaque (trusted.overlay.opaque), in one
 *  process: `getfattr -d` prints only the files that carry the attribute. -P: the walk follows
 *  no symlink; -h: nor does the read of a symlink's own attributes (a layer's absolute link
 *  would name a host path, or none: getfattr then failed the build). */
export const opaqueMarks = (dir: string): Cmd => ({ file: 'getfattr', args: ['-R', '-P', '-h', '--absolute-names', '-m', '^trusted\\.overlay\\.opaque$', '-d', dir] });

/** getfattr's `# file:` names, which escape a byte as \ooo and a backslash as \\, back to paths. */
export function parseOpaqueMarks(out: string): string[] {
  const found: string[] = [];
  let file: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeName(line.slice(8));
    else if (file !== undefined && line === 'trusted.overlay.opaque="y"') found.push(file);
  }
  return found;
}

function unescapeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 4;
    } else if (s[i] === '\\' && s[i + 1] === '\\') {
      bytes.push(0x5c);
      i += 2;
    } else {
      for (const b of Buffer.from(s[i]!)) bytes.push(b);
      i++;
    }
  }
  return Buffer.from(bytes).toString();
}
