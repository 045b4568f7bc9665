import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { LESSONS, loadByNumber, markdownPath } from '../../lessons/index.js';
import { foldCode, renderMarkdown, type Style } from '../../src/report/markdown.js';
import { parseProse } from '../../src/engine/prose.js';

// Each style wraps its text in control characters, so a test can tell code from prose and
// measure the width the learner sees once they are gone.
const tag = (open: string, close: string) => (s: string) => open + s + close;
const st: Style = {
  code: tag('\x01', '\x02'),
  bold: tag('\x03', '\x04'),
  italic: tag('\x05', '\x06'),
  dim: tag('\x0e', '\x0f'),
  heading: tag('\x10', '\x11'),
};
const visible = (s: string): string => s.replace(/[\x01-\x06\x0e-\x11]/g, '');
/** What is left once code (spans and blocks) is taken out: prose, where no marker may show. */
const prose = (s: string): string => s.replace(/\x01[^\x02]*\x02/g, '').replace(/\x0e[^\x0f]*\x0f/g, '');
/** Every character that is not space or markup, in order: nothing may go missing. */
const letters = (s: string): string => s.replace(/[\s`*#•\\]/g, '');
const source = (md: string): string => letters(md.replace(/^\s*[-*] /gm, ''));

const WIDTHS = [40, 80, 100, 140];

describe('markdown for the terminal, every lesson', () => {
  const cases = LESSONS.flatMap((l) => WIDTHS.map((w) => [l.number, w] as const));
  it.each(cases)('lesson %i at %i columns: no stray ` or *, no line wider, no word lost', (n, width) => {
    const md = readFileSync(markdownPath(LESSONS.find((l) => l.number === n)!), 'utf8');
    const out = renderMarkdown(md, st, width);
    for (const line of out.split('\n')) {
      expect([...visible(line)].length, visible(line)).toBeLessThanOrEqual(width);
      expect(prose(line), visible(line)).not.toMatch(/[`*]/);
    }
    expect(letters(visible(out))).toBe(source(md));
  });

  it.each(LESSONS.map((l) => l.number))('lesson %i: each part of its prose renders the same way at 100 columns', async (n) => {
    const lesson = await loadByNumber(n);
    for (const part of [lesson.prose.intro, lesson.prose.outro, ...Object.values(lesson.prose.steps)]) {
      for (const line of renderMarkdown(part, st, 100).split('\n')) {
        expect([...visible(line)].length).toBeLessThanOrEqual(100);
        expect(prose(line)).not.toMatch(/[`*]/);
      }
    }
  });
});

describe('inline markdown', () => {
  it('styles a code span that wraps on both of its lines, without its backticks', () => {
    const out = renderMarkdown('a b c d e f g h i j k l m n o p `tee FILE <<< VALUE and more of it` end', st, 40).split('\n');
    expect(out.every((l) => !/`/.test(l))).toBe(true);
    // A code span that fits a line is never broken.
    const short = renderMarkdown('words words words words words words `tee FILE <<< VALUE` end', st, 40);
    expect(short).toContain('\x01tee FILE <<< VALUE\x02');
    // One wider than a line is broken at its spaces, each piece still code.
    const long = renderMarkdown('`' + 'word '.repeat(20).trim() + '`', st, 40).split('\n');
    expect(long.length).toBeGreaterThan(1);
    for (const l of long.filter(Boolean)) expect(l.trim()).toMatch(/^\x01[^\x02]+\x02$/);
  });

  it('styles bold and italics that span lines, and drops their asterisks', () => {
    const out = renderMarkdown('the kernel runs the OOM killer **inside the group** and a process is in one group *per controller* here', st, 30);
    expect(visible(out)).not.toMatch(/\*/);
    expect(out).toMatch(/\x03inside\x04/);
    expect(out).toMatch(/\x05per\x06/);
    expect(out).toMatch(/\x05controller\x06/);
  });

  it('leaves lone markers as they are', () => {
    expect(visible(renderMarkdown('2 * 3 and a*b and `x', st))).toBe('  2 * 3 and a*b and `x\n');
    expect(visible(renderMarkdown('``a ` b``', st))).toBe('  a ` b\n');
  });

  it('renders lists, headings and a list right after a paragraph', () => {
    const out = visible(renderMarkdown('## What you built\n\nIt has:\n- one `a`\n  continued\n- two\n1. first', st));
    expect(out).toBe('  What you built\n  It has:\n\n  • one a continued\n  • two\n  1. first\n');
  });

  it('never breaks a word that fits, and splits one that cannot fit', () => {
    const out = renderMarkdown('see /sys/fs/cgroup/memory/boxlab-RUN/box/memory.limit_in_bytes now', st, 30).split('\n');
    for (const l of out) expect(visible(l).length).toBeLessThanOrEqual(30);
    expect(letters(visible(out.join('')))).toBe('see/sys/fs/cgroup/memory/boxlab-RUN/box/memory.limit_in_bytesnow');
  });
});

describe('fenced code', () => {
  it('keeps a block whole, comments and blank lines included', () => {
    const out = visible(renderMarkdown('Text:\n\n```\na\n# or with nftables:\n\nb\n```\n\nafter', st, 80));
    expect(out).toBe('  Text:\n\n    a\n    # or with nftables:\n    \n    b\n\n  after\n');
  });

  it('folds a long line at a space, ending it with a backslash as a shell continuation', () => {
    const line = 'boxlab run --memory 64m --pids 64 --cpus 0.5 -v $PWD/probe.sh:/probe:ro boxlab.local/busybox:layers /bin/sh /probe';
    const parts = foldCode(line, 60);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(60);
    expect(parts.slice(0, -1).every((p) => p.endsWith(' \\'))).toBe(true);
    expect(parts.map((p) => p.replace(/ \\$/, '').trim()).join(' ')).toBe(line);
    expect(foldCode('short', 60)).toEqual(['short']);
  });
});

describe('lesson prose', () => {
  it('keeps a code block whole: its # lines are code, not the title, and ## in it is no section', () => {
    const md = '# Title\n\nintro\n\n## one\n\nfirst\n\n```\nx\n# a comment\n## not a section\n```\n\n## Why\n\nend\n';
    const p = parseProse(md, ['one', 'not a section']);
    expect(p.intro).toBe('intro');
    expect(p.steps).toEqual({ one: 'first\n\n```\nx\n# a comment\n## not a section\n```' });
    expect(p.outro).toBe('## Why\n\nend');
  });

  it("lesson 5's NAT recipes reach the prose and the screen whole, each tool's block apart", async () => {
    const lesson = await loadByNumber(5);
    for (const line of ['iptables -t nat -A OUTPUT -d 127.0.0.1 -p tcp --dport 8080 \\', 'nft add rule ip boxlab pre fib daddr type local tcp dport 8080 dnat to 203.0.113.2:80']) {
      expect(lesson.prose.outro).toContain(line);
      expect(visible(renderMarkdown(lesson.prose.outro, st, 100))).toContain(line.replace(/ \\$/, ''));
    }
  });

  it('every code block of every lesson reaches its prose whole', async () => {
    for (const e of LESSONS) {
      const md = readFileSync(markdownPath(e), 'utf8');
      const blocks = md.match(/^```[^\n]*\n[\s\S]*?^```$/gm) ?? [];
      const lesson = await loadByNumber(e.number);
      const all = [lesson.prose.intro, lesson.prose.outro, ...Object.values(lesson.prose.steps)].join('\n');
      for (const b of blocks) expect(all, `lesson ${e.number}`).toContain(b);
    }
  });
});
