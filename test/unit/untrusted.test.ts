// Text from a registry or an image, as boxlab's messages print it.
import { describe, expect, it } from 'vitest';
import { MAX_SHOWN, printable, printableLines, shown } from '../../rootfs-fetch/untrusted.js';

/** Nothing a terminal would act on: no C0, DEL or C1 control, no bidi override. */
const inert = (s: string): boolean => !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s);

describe('printable', () => {
  it('escapes ESC, so "\\u001b[2J" shows as text instead of clearing the screen', () => {
    expect(printable('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
  });

  it.each([
    ['CR and LF', 'x\r\ny', 'x\\x0d\\x0ay'],
    ['DEL', 'x\u007fy', 'x\\x7fy'],
    ['a C1 CSI', 'x\u009b2Jy', 'x\\x9b2Jy'],
    ['a bidi override', 'x\u202eyz', 'x\\u202eyz'],
    ['a line separator', 'x\u2028y', 'x\\u2028y'],
  ])('escapes %s', (_, raw, want) => {
    expect(printable(raw)).toBe(want);
  });

  it('keeps printable text, accents and emoji as they are', () => {
    expect(printable('linux/amd64, é, 🐧')).toBe('linux/amd64, é, 🐧');
  });

  it(`cuts a 10 kB string to ${MAX_SHOWN} characters and "..."`, () => {
    const p = printable('A'.repeat(10_000));
    expect(p).toBe(`${'A'.repeat(MAX_SHOWN)}...`);
  });

  it('cuts 10 kB of ESC sequences short too, never inside an escape or a surrogate pair', () => {
    const p = printable('\u001b[2J'.repeat(2500));
    expect(p.length).toBeLessThanOrEqual(MAX_SHOWN + 3);
    expect(p).toMatch(/^(\\x1b\[2J)+(\\x1b|\\x1b\[|\\x1b\[2)?\.\.\.$/);
    expect(inert(p)).toBe(true);
    expect(printable('🐧'.repeat(150))).toBe(`${'🐧'.repeat(100)}...`);
  });

  it('never throws, whatever the value: an object whose toString is not a function, null, a number', () => {
    expect(printable({ toString: 1 })).toBe('{"toString":1}');
    expect(printable(null)).toBe('null');
    expect(printable(42)).toBe('42');
    expect(printable(undefined)).toBe('undefined');
    expect(printable(['\u001b[2J'])).toBe('["\\u001b[2J"]');
  });
});

describe('printableLines (boxlab logs on a terminal)', () => {
  it('keeps lines and tabs, escapes every other control character, cuts nothing', () => {
    const out = printableLines('a\tb\n\x1b[31mred\x1b]0;title\x07\r\n' + 'x'.repeat(5000));
    expect(out).not.toMatch(/[\x1b\x07\r]/);
    expect(out.startsWith('a\tb\n')).toBe(true);
    expect(out).toContain('[31mred');
    expect(out.endsWith('x'.repeat(5000))).toBe(true);
  });
});

describe('shown', () => {
  it('quotes, escapes and cuts, as it did before printable', () => {
    expect(shown('sha256:../x')).toBe('"sha256:../x"');
    expect(shown('x\u001b[2J\u009b')).toBe('"x\\u001b[2J\\x9b"');
    expect(shown('a'.repeat(10_000))).toBe(`"${'a'.repeat(100)}"...`);
    expect(shown(undefined)).toBe('undefined');
  });
});
