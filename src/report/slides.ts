// `boxlab slides N`: a lesson as one self-contained HTML deck for a projector. Pure: the
// lesson and the events of its dry run in, an HTML string out. Nothing is loaded from the
// network (inline CSS, a few lines of inline JS); every text from a lesson is escaped.
import type { Event } from '../engine/events.js';
import type { Feature, Lesson } from '../model/lesson.js';

export interface StepSlide {
  index: number;
  title: string;
  breakIt?: string;
  diagram?: string;
  feature?: Feature;
  /** The commands as --dry-run shows them. */
  commands: string[];
  /** What each check reads and what it expects, in words. */
  checks: { title: string; expects: string }[];
  quiz?: string;
  /** The step's prose (markdown): the presenter's notes. */
  notes: string;
}

/** One slide per step of the lesson itself, from its dry run's events (replays are quiet).
 *  SHORTEN: what a command reads as on a slide (boxlab's own path as `boxlab`, $WORK ...). */
export function stepSlides(lesson: Lesson, events: Event[], shorten: (command: string) => string = (c) => c): StepSlide[] {
  const slides: StepSlide[] = [];
  let cur: StepSlide | undefined;
  for (const e of events) {
    if (e.quiet) continue;
    if (e.type === 'step') {
      const step = lesson.steps.find((s) => s.id === e.id);
      cur = { index: e.index, title: e.title, breakIt: e.breakIt, diagram: e.diagram, commands: [], checks: [], quiz: step?.quiz?.question, notes: e.explain };
      slides.push(cur);
    } else if (!cur) continue;
    else if (e.type === 'feature') cur.feature = e.feature;
    else if (e.type === 'cmd') cur.commands.push(shorten(e.shown));
    else if (e.type === 'check') cur.checks.push({ title: e.check.title, expects: e.expects ?? '' });
  }
  return slides;
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Just enough markdown for notes: paragraphs, fenced code, `code`, **bold**. Escaped first,
 *  so nothing in the text becomes markup. */
export function notesHtml(md: string): string {
  const out: string[] = [];
  let inFence = false;
  let para: string[] = [];
  let code: string[] = [];
  const flush = (): void => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      if (inFence) {
        out.push(`<pre>${escapeHtml(code.join('\n'))}</pre>`);
        code = [];
      } else flush();
      inFence = !inFence;
    } else if (inFence) code.push(line);
    else if (!line.trim()) flush();
    else para.push(line.trim());
  }
  if (inFence) out.push(`<pre>${escapeHtml(code.join('\n'))}</pre>`);
  flush();
  return out.join('\n');
}

const inline = (text: string): string =>
  escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;height:100%;background:#10141c;color:#e8e8e8;font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace}
.slide{display:none;position:absolute;inset:0;padding:3vh 4vw 5vh;overflow:auto;font-size:1.7vw;line-height:1.35}
.slide.current{display:block}
.nojs .slide{display:block;position:static;min-height:100vh;border-bottom:2px solid #333}
h1{font-size:2em;margin:0 0 2vh;color:#fff}
h2{font-size:1.35em;margin:0 0 1.5vh;color:#8cc8ff}
.kicker{color:#9aa4b2;font-size:.88em;margin-bottom:1vh}
.breakit{color:#ff9ecb}
.feature{color:#ffd479;margin:1vh 0}
.feature span{color:#c0a060}
pre{margin:1vh 0;white-space:pre-wrap;overflow-wrap:anywhere}
pre.diagram{white-space:pre;overflow-wrap:normal;font-size:.85em;line-height:1.12;color:#7fe0d0;overflow-x:auto}
pre.cmd{background:#1b2230;border-left:.4vw solid #5fd068;padding:.8vh 1vw;color:#f0f0f0;font-size:.88em}
pre.cmd::before{content:"$ ";color:#5fd068}
pre.cmd.comment{border-left-color:#4a5466;color:#9aa4b2}
pre.cmd.comment::before{content:""}
ul{margin:1vh 0;padding-left:2.5vw}
li{margin:.4vh 0}
.expects{color:#9aa4b2}
.quiz{color:#c6a0ff}
.notes{display:none;margin-top:2vh;padding:1vh 1.5vw;background:#262012;border:1px solid #6b5a2b;color:#f3e6c4;font-size:.82em}
body.shownotes .notes{display:block}
.notes pre{background:#1d180d;padding:.5vh 1vw}
code{color:#8fe3ff}
#counter{position:fixed;right:1.5vw;bottom:1vh;color:#6b7480;font-size:1.2vw}
.big{font-size:1.3em;color:#c8d0da}
.legend{margin-top:4vh;color:#9aa4b2;font-size:.88em;list-style:none;padding:0}
`;

// Arrow keys, space and Page keys move; Home/End jump; n shows the notes; #N opens slide N.
// A slide still taller than the screen (its notes shown, say) gets a smaller font, down to 1.2vw
// (15px on 1280x720), then scrolls: never a cut, never too small to read.
const JS = `
(function(){
document.body.classList.remove('nojs');
var s=[].slice.call(document.querySelectorAll('.slide')),i=0,c=document.getElementById('counter');
function fit(x){x.style.fontSize='';var f=1.7;while(x.scrollHeight>x.clientHeight+2&&f>1.2){f*=0.92;x.style.fontSize=f+'vw';}}
function show(n){i=Math.max(0,Math.min(s.length-1,n));s.forEach(function(x,k){x.classList.toggle('current',k===i)});fit(s[i]);
c.textContent=(i+1)+' / '+s.length;if(location.hash!=='#'+(i+1))history.replaceState(null,'','#'+(i+1));}
function fromHash(){var n=parseInt(location.hash.slice(1),10);show(isNaN(n)?0:n-1);}
document.addEventListener('keydown',function(e){var k=e.key;
if(k==='ArrowRight'||k==='ArrowDown'||k==='PageDown'||k===' '||k==='Enter')show(i+1);
else if(k==='ArrowLeft'||k==='ArrowUp'||k==='PageUp'||k==='Backspace')show(i-1);
else if(k==='Home')show(0);else if(k==='End')show(s.length-1);
else if(k==='n'||k==='N'){document.body.classList.toggle('shownotes');fit(s[i]);}else return;e.preventDefault();});
window.addEventListener('hashchange',fromHash);fromHash();
})();
`;

function featureHtml(f: Feature | undefined): string {
  if (!f) return '';
  return `<div class="feature">⚙ ${escapeHtml(f.name)} <span>— ${escapeHtml(f.syscalls.join(', '))} — man ${escapeHtml(f.man.join(', '))}</span></div>`;
}

// A slide's height in lines of body text (1280x720 at the deck's 1.7vw: about 22 lines of 96
// characters). A step whose commands do not fit goes on over more slides, so the text stays
// big enough to read from the back of a room instead of shrinking to fit.
const SLIDE_LINES = 22;
const LINE_CHARS = 96;
const linesOf = (text: string, chars = LINE_CHARS): number => text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil(l.length / chars)), 0);
/** A command block: its lines at the smaller command font, and its padding. */
const commandLines = (c: string): number => linesOf(c, Math.floor(LINE_CHARS / 0.88)) * 0.88 + 0.6;
/** The kicker and the title (a larger font: fewer characters to a line). */
const titleLines = (title: string): number => 1.5 + linesOf(title, Math.floor(LINE_CHARS / 1.35)) * 1.35;

/** The step's commands in slide-sized runs: the first under the title, feature and diagram,
 *  the last above the evidence. */
export function paginate(s: StepSlide): string[][] {
  const head = titleLines(s.title) + (s.feature ? linesOf(`${s.feature.name} — ${s.feature.syscalls.join(', ')} — man ${s.feature.man.join(', ')}`) : 0) + (s.diagram ? Math.ceil(s.diagram.split('\n').length * 0.85 * 1.12 / 1.35) + 1 : 0);
  const tail = (s.quiz ? linesOf(s.quiz) : 0) + (s.checks.length ? 1 + s.checks.reduce((n, c) => n + linesOf(`  ${c.title} — ${c.expects}`), 0) : 0);
  const pages: string[][] = [[]];
  let used = head;
  for (const c of s.commands) {
    const need = commandLines(c);
    if (used + need > SLIDE_LINES && pages.at(-1)!.length > 0) {
      pages.push([]);
      used = titleLines(s.title);
    }
    pages.at(-1)!.push(c);
    used += need;
  }
  if (used + tail > SLIDE_LINES && pages.at(-1)!.length > 0 && s.commands.length > 0) pages.push([]);
  return pages;
}

function stepSlideHtml(s: StepSlide, total: number, lessonNumber: number): string {
  const pages = paginate(s);
  return pages
    .map((commands, p) => {
      const first = p === 0;
      const last = p === pages.length - 1;
      const more = pages.length > 1 ? ` · ${p + 1}/${pages.length}` : '';
      const parts = [
        `<div class="kicker">Lesson ${lessonNumber} · step ${s.index} of ${total}${more}${s.breakIt ? ` · <span class="breakit">break-it: ${escapeHtml(s.breakIt)}</span>` : ''}</div>`,
        `<h2>${escapeHtml(s.title)}</h2>`,
        first ? featureHtml(s.feature) : '',
        first && s.diagram ? `<pre class="diagram">${escapeHtml(s.diagram)}</pre>` : '',
        // A wait or a PID taken from the kernel is a note, not something to type.
        ...commands.map((c) => `<pre class="cmd${/^#|^[A-Z_][A-Z0-9_]*=</.test(c) ? ' comment' : ''}">${escapeHtml(c)}</pre>`),
        last && s.quiz ? `<div class="quiz">Ask the room: ${escapeHtml(s.quiz)}</div>` : '',
        last && s.checks.length ? `<div>The kernel's evidence:</div><ul>${s.checks.map((c) => `<li>${escapeHtml(c.title)} <span class="expects">— ${escapeHtml(c.expects)}</span></li>`).join('')}</ul>` : '',
        s.notes ? `<aside class="notes">${notesHtml(s.notes)}</aside>` : '',
      ];
      return `<section class="slide" id="step-${s.index}${first ? '' : `-${p + 1}`}">\n${parts.filter(Boolean).join('\n')}\n</section>`;
    })
    .join('\n');
}

/** LEGEND: what the short names on the slides stand for ($WORK ...), on the title slide. */
export function renderSlides(lesson: Lesson, steps: StepSlide[], legend: string[] = []): string {
  const title = `Lesson ${lesson.number} · ${lesson.title}`;
  const titleSlide = [
    '<section class="slide" id="title">',
    `<div class="kicker">boxlab · lesson ${lesson.number} · ${steps.length} steps</div>`,
    `<h1>${escapeHtml(lesson.title)}</h1>`,
    `<div class="big">${steps.map((s) => escapeHtml(s.feature?.name ?? s.title)).filter((v, i, a) => a.indexOf(v) === i).join(' · ')}</div>`,
    legend.length ? `<ul class="legend">${legend.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
    lesson.prose.intro ? `<aside class="notes">${notesHtml(lesson.prose.intro)}</aside>` : '',
    '</section>',
  ];
  const recap = [
    '<section class="slide" id="recap">',
    `<h2>Recap: lesson ${lesson.number}</h2>`,
    `<ul>${steps.map((s) => `<li>${escapeHtml(s.title)}${s.feature ? ` <span class="expects">— ${escapeHtml(s.feature.name)}</span>` : ''}</li>`).join('')}</ul>`,
    `<div class="kicker">Now do it yourself: boxlab practice ${lesson.number}</div>`,
    lesson.prose.outro ? `<aside class="notes">${notesHtml(lesson.prose.outro)}</aside>` : '',
    '</section>',
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    // Nothing from elsewhere: the deck must open offline, from a file.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body class="nojs">',
    titleSlide.filter(Boolean).join('\n'),
    ...steps.map((s) => stepSlideHtml(s, steps.length, lesson.number)),
    recap.filter(Boolean).join('\n'),
    '<div id="counter"></div>',
    `<script>${JS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
