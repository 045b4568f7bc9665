import { describe, expect, it } from 'vitest';
import { loadByNumber } from '../../lessons/index.js';
import { runLesson } from '../../src/engine/execute.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { workspaceVars } from '../../src/engine/workspace.js';
import { escapeHtml, notesHtml, paginate, renderSlides, stepSlides } from '../../src/report/slides.js';
import { LESSONS } from '../../lessons/index.js';
import type { Lesson, Step } from '../../src/model/lesson.js';
import { cmd } from '../../src/shell/cmd.js';
import { collect, lessonOf } from './helpers.js';

const vars = workspaceVars('abcd1234', { CACHE_DIR: '/var/cache/boxlab/rootfs', ROOTFS_CACHE: '/var/cache/boxlab/rootfs/busybox-x', BUSYBOX: '/bin/busybox' });

async function deck(lesson: Lesson): Promise<string> {
  const { events, emit } = collect();
  await runLesson(lesson, { runner: new RecordingRunner(), emit, dryRun: true, vars, load: loadByNumber });
  return renderSlides(lesson, stepSlides(lesson, events));
}

/** Title, recap, and the first slide of each step (a long step goes on over more: step-N-2 ...). */
const slides = (html: string): number => html.match(/<section class="slide" id="(title|recap|step-\d+)"/g)?.length ?? 0;

describe('boxlab slides', () => {
  it('makes a title slide, one per step of the lesson itself (not its replays) and a recap', async () => {
    const l3 = await loadByNumber(3);
    const html = await deck(l3);
    expect(slides(html)).toBe(l3.steps.length + 2);
    // Lesson 3 builds on lesson 2: none of lesson 2's steps gets a slide.
    expect(html).not.toContain('pivot_root: the rootfs becomes');
    const l12 = await loadByNumber(12);
    expect(slides(await deck(l12))).toBe(l12.steps.length + 2);
  });

  it('keeps every slide of the curriculum within a screen at the deck\'s font: a long step goes on over more slides', async () => {
    let continued = 0;
    for (const entry of LESSONS) {
      const lesson = await loadByNumber(entry.number);
      const { events, emit } = collect();
      await runLesson(lesson, { runner: new RecordingRunner(), emit, dryRun: true, vars, load: loadByNumber });
      for (const step of stepSlides(lesson, events)) {
        const pages = paginate(step);
        expect(pages.flat()).toEqual(step.commands); // nothing lost, nothing twice, in order
        // Only the last of several may hold no command: the evidence, where it did not fit.
        expect(pages.slice(0, -1).filter((p) => p.length === 0), `lesson ${entry.number} step ${step.index}: an empty page`).toEqual([]);
        if (pages.length > 1) continued++;
      }
    }
    // Lessons 12 and 13 have steps of ten commands and more: they must have been split.
    expect(continued).toBeGreaterThan(3);
    const l13 = await loadByNumber(13);
    const html = await deck(l13);
    expect(html).toMatch(/<section class="slide" id="step-1-2">\n<div class="kicker">Lesson 13 · step 1 of \d+ · 2\/\d+<\/div>\n<h2>A RUN is a box/);
    // The evidence is on the step's last slide only.
    expect(html.split('<section').filter((sec) => sec.includes("The kernel's evidence")).length).toBe(l13.steps.length);
  });

  it('shows each step: title, diagram, commands as --dry-run shows them, feature, expectations, notes', async () => {
    const l5 = await loadByNumber(5);
    const html = await deck(l5);
    const veth = html.slice(html.indexOf('<section class="slide" id="step-6">'), html.indexOf('<section class="slide" id="step-7">'));
    expect(veth).toContain('<h2>A veth pair: one end on the host, the other in the box</h2>');
    expect(veth).toContain('<pre class="diagram">');
    expect(veth).toContain('│ boxlab-h0   198.51.100.1/24');
    expect(veth).toContain('<pre class="cmd">ip link add boxlab-h0 type veth peer name boxlab-c0</pre>');
    expect(veth).toContain('veth pair <span>— netlink RTM_NEWLINK — man veth(4), ip-link(8)</span>');
    expect(veth).toContain('the host end has carrier too <span class="expects">— it is 1</span>');
    expect(veth).toMatch(/<aside class="notes"><p>A veth pair is a virtual cable/);
    // Self-contained: no URL to load anything from, and a policy that forbids it anyway.
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|https?:\/\//);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes everything a lesson says, and keeps notes hidden until asked for', async () => {
    const evil = '<script>alert(1)</script> & "quotes" \'single\'';
    const step: Step = { id: 'x', title: evil, diagram: `┌${evil}┐`, feature: { name: evil, syscalls: [evil], man: [evil] }, actions: [{ run: cmd('echo', evil) }], checks: [{ title: evil, fact: { file: '/proc/self/status' }, contains: evil }] };
    const lesson = lessonOf([step], { title: evil });
    lesson.prose = { intro: `intro ${evil}`, outro: `outro ${evil}`, steps: { x: `notes ${evil}\n\n\`\`\`\n${evil}\n\`\`\`` } };
    const html = await deck(lesson);
    // One script only: the deck's own, at the end.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;single&#39;');
    expect(html).toContain('<title>Lesson 50 · &lt;script&gt;');
    expect(html).toMatch(/<aside class="notes"><p>notes &lt;script&gt;[\s\S]*<pre>&lt;script&gt;/);
    expect(html).toMatch(/\.notes\{display:none/);
    expect(html).toContain('body.shownotes .notes{display:block}');
  });

  it('renders notes as paragraphs, code and code blocks, from escaped text', () => {
    expect(notesHtml('one `a<b`\nline\n\ntwo **bold**\n```\nx && y\n```')).toBe('<p>one <code>a&lt;b</code> line</p>\n<p>two <strong>bold</strong></p>\n<pre>x &amp;&amp; y</pre>');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});
