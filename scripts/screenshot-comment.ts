// The README's picture of the pull-request comment: the Markdown `paramtrace compare --markdown` prints
// for a pair whose modules changed, rendered close to how GitHub shows it (markdown-it with HTML on for
// GFM tables and the comment's <details>/<sub>/<code>, github-markdown-css for the look, the Mermaid
// chart drawn by the `mermaid` package from node_modules), in a GitHub-like comment frame, shot with
// headless Chromium (Debian's, /usr/bin/chromium) as docs/images/comment.png. The page loads nothing
// from the network: every request it makes is refused and fails the script.
//
//   npx tsx scripts/screenshot-comment.ts [--pair resnet|examples] [OUT.png]
//
// `resnet` (the default) is seed case 1 grown into a resnet block (test/fixtures): three modules change,
// so the chart has bars to show; `examples` is the bundled pair the README's sample shows, where only
// conv2 changes (to 0: a chart with no bar to see).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import MarkdownIt from 'markdown-it';
import { launchChromium } from '../test/support/chromium.ts';
import { compare } from '../src/compare/compare.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { renderComment } from '../src/render/markdown.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAIRS: Record<string, [string, string]> = {
  examples: ['examples/base.onnx', 'examples/head.onnx'],
  resnet: ['test/fixtures/seed-case-1.onnx', 'test/fixtures/resnet-block.onnx'],
};
const { values, positionals } = parseArgs({
  options: { pair: { type: 'string', default: 'resnet' } },
  allowPositionals: true,
});
const pair = PAIRS[values.pair!];
if (!pair) {
  console.error(
    `screenshot-comment: --pair must be ${Object.keys(PAIRS).join(' or ')}, not '${values.pair}'`,
  );
  process.exit(2);
}
const out = path.resolve(ROOT, positionals[0] ?? 'docs/images/comment.png');

// The Markdown, built as `paramtrace compare BASE HEAD --markdown` builds it (src/cli/commands.ts).
const trace = { device: 'cpu' as const };
const [base, head] = [
  await analyzeFile(path.join(ROOT, pair[0]), { trace, displayName: pair[0] }),
  await analyzeFile(path.join(ROOT, pair[1]), { trace, displayName: pair[1] }),
];
const markdown = renderComment(compare(base, head), {
  commentKey: 'default',
  headReport: head,
  baseReport: base,
});

const md = new MarkdownIt({ html: true, linkify: true });
// GitHub draws a ```mermaid block as a diagram: hand its text to Mermaid in the element it replaces.
const fence = md.renderer.rules.fence!;
md.renderer.rules.fence = (tokens, i, options, env, self) => {
  const token = tokens[i]!;
  if (token.info.trim() !== 'mermaid') return fence(tokens, i, options, env, self);
  return `<pre class="mermaid">${md.utils.escapeHtml(token.content)}</pre>\n`;
};
// GitHub's alerts (`> [!NOTE]`, `> [!WARNING]`): markdown-it leaves them as plain blockquotes.
const body = md
  .render(markdown)
  .replace(
    /<blockquote>\n<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*/g,
    (_, kind: string) =>
      `<blockquote class="alert alert-${kind.toLowerCase()}"><p><span class="alert-title">${kind[0]}${kind.slice(1).toLowerCase()}</span><br>`,
  );

const css = readFileSync(
  path.join(ROOT, 'node_modules/github-markdown-css/github-markdown-light.css'),
  'utf8',
);
// The verdict's ✅/❌: GitHub draws them with the reader's emoji font; this machine may have none, so the
// page carries Noto Color Emoji (@fontsource), its files inlined as data: URLs (no request).
const emojiFont = readFileSync(
  path.join(ROOT, 'node_modules/@fontsource/noto-color-emoji/files/noto-color-emoji-emoji-400-normal.woff2'),
).toString('base64');
const emojiCss = `@font-face { font-family: "Noto Color Emoji"; src: url(data:font/woff2;base64,${emojiFont}) format("woff2"); }`;
const page = `<!doctype html><html><head><meta charset="utf-8"><style>${emojiCss}
${css}
body { margin: 0; padding: 16px; background: #fff; }
.markdown-body, .comment-header { font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
.timeline { display: flex; gap: 16px; align-items: flex-start; }
.avatar { flex: none; width: 40px; height: 40px; border-radius: 50%; background: #24292f; color: #fff;
  display: flex; align-items: center; justify-content: center; font: 600 14px/1 sans-serif; }
.comment { flex: 1; min-width: 0; border: 1px solid #d0d7de; border-radius: 6px; }
.comment-header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; border-radius: 6px 6px 0 0;
  padding: 8px 16px; font-size: 14px; color: #59636e; }
.comment-header b { color: #1f2328; }
.badge { border: 1px solid #d0d7de; border-radius: 2em; padding: 0 7px; font-size: 12px; margin-left: 4px; }
.markdown-body { padding: 16px; font-size: 14px; }
.markdown-body pre.mermaid { background: none; padding: 0; text-align: center; }
.alert { border-left: .25em solid #0969da; color: inherit; }
.alert-title { font-weight: 600; color: #0969da; }
.alert-warning, .alert-caution { border-left-color: #9a6700; }
.alert-warning .alert-title, .alert-caution .alert-title { color: #9a6700; }
</style></head><body><div class="timeline"><div class="avatar">GA</div><div class="comment">
<div class="comment-header"><b>github-actions</b> <span class="badge">bot</span> commented</div>
<article class="markdown-body">${body}</article></div></div></body></html>`;

const browser = await launchChromium();
try {
  const tab = await browser.newPage({ viewport: { width: 900, height: 800 }, deviceScaleFactor: 1 });
  // Everything the page needs is inline; a request means the picture depends on something outside it.
  const requests: string[] = [];
  await tab.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await tab.setContent(page);
  await tab.addScriptTag({ path: path.join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js') });
  const charts = await tab.evaluate(async () => {
    const mermaid = (globalThis as unknown as { mermaid: MermaidGlobal }).mermaid;
    mermaid.initialize({ startOnLoad: false, theme: 'default' });
    await mermaid.run({ querySelector: 'pre.mermaid' });
    return document.querySelectorAll('pre.mermaid svg').length;
  });
  const blocks = await tab.locator('pre.mermaid').count();
  if (blocks === 0)
    throw new Error(`the comment for ${values.pair} has no Mermaid chart: pick a pair whose modules changed`);
  if (charts !== blocks) throw new Error(`Mermaid drew ${charts} of ${blocks} charts`);
  // The emoji font loads when first used: load it for the verdict's line and let a frame paint, or the
  // ✅ is a blank.
  await tab.evaluate(async () => {
    await document.fonts.load('16px "Noto Color Emoji"', document.querySelector('h3')?.textContent ?? '✅');
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  });
  await tab.locator('.timeline').screenshot({ path: out });
  if (requests.length > 0) throw new Error(`the page made network requests: ${requests.join(', ')}`);
} finally {
  await browser.close();
}
console.log(`wrote ${path.relative(ROOT, out)}`);

interface MermaidGlobal {
  initialize(config: Record<string, unknown>): void;
  run(options: { querySelector: string }): Promise<void>;
}
