// The README's picture of the HTML report: the bundled example pair (examples/base.onnx → head.onnx)
// rendered as `paramtrace report` writes it, opened in headless Chromium (Debian's, /usr/bin/chromium)
// with the shared parameter selected, saved as docs/images/html-report.png.
//
//   npx tsx scripts/screenshot-html.ts [OUT.png]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../test/support/chromium.ts';
import { compare } from '../src/compare/compare.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { renderHtmlReport } from '../src/render/html.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const out = path.resolve(ROOT, process.argv[2] ?? 'docs/images/html-report.png');

const trace = { device: 'cpu' as const };
const base = await analyzeFile(path.join(ROOT, 'examples/base.onnx'), {
  trace,
  displayName: 'examples/base.onnx',
});
const head = await analyzeFile(path.join(ROOT, 'examples/head.onnx'), {
  trace,
  displayName: 'examples/head.onnx',
});
const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-shot-'));
try {
  const file = path.join(dir, 'report.html');
  writeFileSync(file, renderHtmlReport({ base, head, comparison: compare(base, head) }));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('html[data-ready=true]');
    await page.click('.treemap:not([hidden]) .leaf[data-name="conv1.weight"]');
    // From the top down to the treemap's bottom edge: the counts, the changes, the map and the selection.
    const map = await page.locator('.map-and-details').boundingBox();
    if (!map) throw new Error('the treemap is not on the page');
    await page.screenshot({
      path: out,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: Math.ceil(map.y + map.height + 24) },
    });
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`wrote ${path.relative(ROOT, out)}`);
