// The HTML report (src/render/html.ts, `paramtrace report --html`): rendered from real fixtures, opened
// in headless Chromium (Debian's /usr/bin/chromium through playwright-core). The page must make no
// request but its own, run without errors, draw each parameter once with an area proportional to its
// elements, mark shared and unused ones, show a rectangle's layer calls on a click, and show names from a
// hostile model as text.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './support/chromium.ts';
import { runReportCommand } from '../src/cli/report-command.ts';
import { compare } from '../src/compare/compare.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { CONTENT_SECURITY_POLICY, renderHtmlReport, scriptJson } from '../src/render/html.ts';
import { treemapData } from '../src/render/html-treemap.ts';
import type { Report } from '../src/report/report.ts';
import { fixture } from './support/analyze-fixture.ts';
import { tempDir } from './support/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const HOSTILE = [
  '</script><img src=x onerror="__pwned=1">',
  // A right-to-left override too: it would show the rest of the name reversed.
  '"><svg onload=__pwned=2>\u202egnp',
  '<!--<script>__pwned=3</script>',
];

// vit-block (PyTorch 2 dynamo export): 20 parameters from 16 to 768 elements under several modules.
// examples/head.onnx (seed case 3 with its manifest): conv1.weight shared by 2 calls, conv2.weight unused.
let vit: Report;
let head: Report;
let base: Report;
before(async () => {
  [vit, head, base] = await Promise.all([
    analyzeFile(fixture('dynamo/vit-block.onnx')),
    analyzeFile(path.join(ROOT, 'examples/head.onnx')),
    analyzeFile(path.join(ROOT, 'examples/base.onnx')),
  ]);
});

/** The layer calls that use a parameter, from the report itself: what a click must list. */
function callsUsing(report: Report, name: string): string[] {
  return report.layers.filter((l) => l.parameters.includes(name)).map((l) => l.name);
}

describe('HTML report: the page as rendered', () => {
  it('makes the embedded data inert inside <script> and gives the same value back', () => {
    const value = { names: [...HOSTILE, 'a\u2028b', '&amp;'] };
    const json = scriptJson(value);
    assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(json), value);
  });

  it('lays out each parameter once, its area its share of the elements, inside its modules', () => {
    const map = treemapData(vit);
    const drawn = vit.parameters.filter((p) => p.numel > 0);
    assert.deepEqual(map.leaves.map((l) => l.name).sort(), drawn.map((p) => p.name).sort());
    const total = drawn.reduce((s, p) => s + p.numel, 0);
    assert.equal(map.total, total);
    for (const leaf of map.leaves) {
      // Percent of width times percent of height: the leaf's share of the whole area.
      assert.ok(Math.abs((leaf.w * leaf.h) / 1e4 - leaf.numel / total) < 1e-9, leaf.name);
      for (const group of map.groups.filter((g) => leaf.name.startsWith(`${g.path}.`))) {
        assert.ok(leaf.x >= group.x - 1e-9 && leaf.x + leaf.w <= group.x + group.w + 1e-9, leaf.name);
        assert.ok(leaf.y >= group.y - 1e-9 && leaf.y + leaf.h <= group.y + group.h + 1e-9, leaf.name);
      }
    }
    assert.ok(
      map.groups.some((g) => g.path === 'attn'),
      'the attn module is outlined',
    );
  });

  it('forbids the network in its Content-Security-Policy and references nothing outside itself', () => {
    const html = renderHtmlReport({ report: vit });
    assert.ok(
      html.includes(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`),
    );
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.doesNotMatch(html, /\b(src|href|action|srcset)\s*=/i);
    assert.doesNotMatch(html, /<(link|iframe|object|embed|img|form)\b/i);
    assert.doesNotMatch(html, /@import|url\(/i);
  });
});

let browser: Browser | undefined;
before(async () => {
  if (!existsSync(CHROMIUM)) return;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Skips (saying why) when Chromium is absent; under CI, which installs it, that is a failure. */
function needBrowser(t: TestContext): Browser | undefined {
  if (browser) return browser;
  if (process.env.CI) assert.fail(`${CHROMIUM} is missing under CI: .ci/run must install Debian's chromium`);
  t.skip(`${CHROMIUM} is not installed (apt-get install chromium): the page is not opened`);
  return undefined;
}

interface Opened {
  page: Page;
  url: string;
  requests: string[];
  errors: string[];
}

/** Opens an HTML file, recording every request and every error the page reports. */
async function open(b: Browser, file: string, t: TestContext): Promise<Opened> {
  const page = await b.newPage({ viewport: { width: 1280, height: 1000 } });
  t.after(() => page.close());
  const opened: Opened = { page, url: pathToFileURL(file).href, requests: [], errors: [] };
  page.on('request', (r) => opened.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') opened.errors.push(m.text());
  });
  page.on('pageerror', (e) => opened.errors.push(e.message));
  await page.goto(opened.url);
  await page.waitForSelector('html[data-ready=true]', { timeout: 10_000 });
  return opened;
}

/** Nothing but the page itself was requested, and nothing went wrong. */
function assertQuiet(o: Opened): void {
  assert.deepEqual(o.requests, [o.url], 'the only request is the page itself');
  assert.deepEqual(o.errors, []);
}

interface LeafBox {
  name: string;
  classes: string[];
  area: number;
}

async function leaves(page: Page): Promise<{ area: number; leaves: LeafBox[] }> {
  return page.evaluate(() => {
    const map = document.querySelector<HTMLElement>('.treemap:not([hidden])')!;
    return {
      // Leaves are placed in the padding box: the border is not theirs.
      area: map.clientWidth * map.clientHeight,
      leaves: [...map.querySelectorAll<HTMLElement>('.leaf')].map((n) => {
        const r = n.getBoundingClientRect();
        return { name: n.dataset.name!, classes: [...n.classList], area: r.width * r.height };
      }),
    };
  });
}

/** Clicks the visible leaf of a parameter; returns the details panel: its title and the calls listed. */
async function clickLeaf(
  page: Page,
  name: string,
): Promise<{ title: string; calls: string[]; text: string }> {
  await page.locator(`.treemap:not([hidden]) .leaf[data-name=${JSON.stringify(name)}]`).click();
  return page.evaluate(() => {
    const d = document.getElementById('details')!;
    return {
      title: d.querySelector('h3')?.textContent ?? '',
      calls: [...d.querySelectorAll('tr.call td:first-child')].map((td) => td.textContent ?? ''),
      text: d.textContent ?? '',
    };
  });
}

describe('HTML report: in Chromium', () => {
  it('draws each parameter once, its area proportional to its elements, and lists its calls on a click', async (t) => {
    const b = needBrowser(t);
    if (!b) return;
    const file = path.join(tempDir(t, 'paramtrace-html-'), 'vit.html');
    writeFileSync(file, renderHtmlReport({ report: vit }));
    const o = await open(b, file, t);
    const { area, leaves: boxes } = await leaves(o.page);
    const numel = new Map(vit.parameters.map((p) => [p.name, p.numel]));
    const total = vit.parameters.reduce((s, p) => s + p.numel, 0);
    assert.deepEqual(boxes.map((l) => l.name).sort(), [...numel.keys()].sort(), 'each parameter once');
    for (const leaf of boxes) {
      const expected = (numel.get(leaf.name)! / total) * area;
      // Chromium places boxes in 1/64 px: a little slack, relative and absolute.
      assert.ok(
        Math.abs(leaf.area - expected) <= expected * 0.01 + 4,
        `${leaf.name}: ${leaf.area} px² for ${numel.get(leaf.name)} of ${total} elements (expected ${expected})`,
      );
    }
    for (const p of vit.parameters.filter((q) => callsUsing(vit, q.name).length > 0).slice(0, 3)) {
      const shown = await clickLeaf(o.page, p.name);
      assert.equal(shown.title, p.name);
      assert.deepEqual(shown.calls, callsUsing(vit, p.name));
    }
    // A module's name lists every call that uses a parameter inside it.
    await o.page.locator('.treemap .group[data-path="attn"] > .glabel').click();
    const moduleCalls = await o.page.$$eval('#details tr.call td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    );
    const expected = vit.layers
      .filter((l) => l.parameters.some((p) => p.startsWith('attn.')))
      .map((l) => l.name);
    assert.ok(expected.length > 0);
    assert.deepEqual(moduleCalls, expected);
    assertQuiet(o);
  });

  it('marks shared and unused parameters apart, with the legend, in the comparison the CLI writes', async (t) => {
    const b = needBrowser(t);
    if (!b) return;
    const file = path.join(tempDir(t, 'paramtrace-html-'), 'compare.html');
    const status = await runReportCommand([
      path.join(ROOT, 'examples/base.onnx'),
      path.join(ROOT, 'examples/head.onnx'),
      '--html',
      file,
    ]);
    assert.equal(status, 0);
    const o = await open(b, file, t);
    const shared = head.shared.map((s) => s.name);
    const unused = head.unused.map((u) => u.name);
    assert.deepEqual([shared, unused], [['conv1.weight'], ['conv2.weight']], 'seed case 3, as documented');
    const { leaves: headLeaves } = await leaves(o.page);
    const classesOf = new Map(headLeaves.map((l) => [l.name, l.classes]));
    assert.ok(classesOf.get('conv1.weight')!.includes('shared'));
    assert.ok(classesOf.get('conv2.weight')!.includes('unused'));
    // Distinct colours: what the legend's swatches show is what the leaves show.
    // (No named function inside evaluate: tsx would wrap it in a helper the page does not have.)
    const [shared_, unused_, sharedKey, unusedKey, usedKey] = await o.page.evaluate(
      (selectors) =>
        selectors.map((sel) => {
          const style = getComputedStyle(document.querySelector(sel)!);
          return `${style.backgroundImage} ${style.backgroundColor}`;
        }),
      [
        '.treemap:not([hidden]) .leaf.shared',
        '.treemap:not([hidden]) .leaf.unused',
        '.legend .swatch.shared',
        '.legend .swatch.unused',
        '.legend .swatch.used',
      ],
    );
    const looks = { shared: shared_, unused: unused_, sharedKey, unusedKey, usedKey };
    assert.equal(looks.shared, looks.sharedKey);
    assert.equal(looks.unused, looks.unusedKey);
    assert.equal(new Set([looks.shared, looks.unused, looks.usedKey]).size, 3);

    const sharedShown = await clickLeaf(o.page, 'conv1.weight');
    assert.deepEqual(sharedShown.calls, head.shared[0]!.callNames);
    const unusedShown = await clickLeaf(o.page, 'conv2.weight');
    assert.deepEqual(unusedShown.calls, []);
    assert.match(unusedShown.text, /No layer call uses it/);
    assert.ok(unusedShown.text.includes(head.unused[0]!.detail));

    // The comparison: counts base / head / change, and the findings that are new in head.
    const comparison = compare(base, head);
    const rows = await o.page.$$eval('table.counts tbody tr', (trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)),
    );
    const unique = rows.find((r) => r[0] === 'unique (used)')!;
    assert.deepEqual(unique.slice(1, 3), [
      String(comparison.counts.unique.base),
      String(comparison.counts.unique.head),
    ]);
    assert.match(unique[3]!, new RegExp(`^${comparison.counts.unique.delta}\\b`));
    const headings = await o.page.$$eval('h3', (hs) => hs.map((h) => h.textContent));
    assert.ok(headings.includes('Newly shared') && headings.includes('Newly unused'));

    // The base tab: its own treemap, where nothing is shared or unused.
    await o.page.locator('.tab[data-view="base"]').click();
    const { leaves: baseLeaves } = await leaves(o.page);
    assert.deepEqual(baseLeaves.map((l) => l.name).sort(), base.parameters.map((p) => p.name).sort());
    assert.ok(baseLeaves.every((l) => l.classes.includes('used')));
    assertQuiet(o);
  });

  it('shows names from a hostile model as text: no markup, no script, no request', async (t) => {
    const b = needBrowser(t);
    if (!b) return;
    const dir = tempDir(t, 'paramtrace-html-');
    // The example report with conv1 and conv2 renamed, everywhere, to markup that would run if parsed.
    const rename = (s: string): string => s.replaceAll('conv1', HOSTILE[0]!).replaceAll('conv2', HOSTILE[1]!);
    const hostile = JSON.parse(JSON.stringify(head), (_key, value: unknown) =>
      typeof value === 'string' ? rename(value) : value,
    ) as Report;
    hostile.model.file = HOSTILE[2]!;
    const json = path.join(dir, 'hostile.json');
    writeFileSync(json, JSON.stringify(hostile));
    const file = path.join(dir, 'hostile.html');
    // Through the CLI: the JSON report is read back and checked as the untrusted input it is.
    assert.equal(await runReportCommand([json, '--html', file]), 0);
    const html = readFileSync(file, 'utf8');
    assert.equal(html.match(/<\/script>/g)!.length, 2, 'only the page’s own two script elements end');
    assert.equal(html.match(/<script\b/g)!.length, 2);

    const o = await open(b, file, t);
    const name = `${HOSTILE[0]}.weight`;
    const shown = await clickLeaf(o.page, name);
    assert.equal(shown.title, name);
    assert.deepEqual(shown.calls, hostile.shared[0]!.callNames);
    const state = await o.page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      injected: document.querySelectorAll('main img, main svg, script').length,
      h1: document.querySelector('h1')!.textContent,
      title: document.title,
      groups: [...document.querySelectorAll('.treemap:not([hidden]) .glabel')].map((g) => g.textContent),
      cells: [...document.querySelectorAll('table.layers td.name')].map((td) => td.textContent),
    }));
    assert.equal(state.pwned, undefined, 'no payload ran');
    assert.equal(state.injected, 2, 'no element made from a name; the two scripts are the page’s');
    assert.equal(state.h1, HOSTILE[2]);
    assert.equal(state.title, `paramtrace: ${HOSTILE[2]}`);
    // The override shown as its escape, as the CLI prints it.
    assert.deepEqual(state.groups.sort(), [HOSTILE[0], HOSTILE[1]!.replace('\u202e', '\\u202e')].sort());
    assert.ok(state.cells.includes(HOSTILE[0]!));
    assertQuiet(o);
  });
});

describe('paramtrace report: as a user runs it', () => {
  /** The command in a child process (stdout, stderr, exit code), through a two-line driver. */
  function cli(t: TestContext, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const driver = path.join(tempDir(t, 'paramtrace-cli-'), 'report.ts');
    writeFileSync(
      driver,
      `import { runReportCommand } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/cli/report-command.ts')).href)};\nprocess.exitCode = await runReportCommand(process.argv.slice(2));\n`,
    );
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), [driver, ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('writes the page of a JSON report and says where', (t) => {
    const dir = tempDir(t, 'paramtrace-html-');
    const json = path.join(dir, 'head.json');
    writeFileSync(json, JSON.stringify(head));
    const out = path.join(dir, 'head.html');
    const r = cli(t, json, '--html', out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `paramtrace: wrote ${out}\n`);
    assert.equal(readFileSync(out, 'utf8'), renderHtmlReport({ report: head }));
  });

  it('refuses bad input with one line and exit code 2, writing nothing', (t) => {
    const dir = tempDir(t, 'paramtrace-html-');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"schemaVersion": 1}');
    const out = path.join(dir, 'x.html');
    const cases: [string[], RegExp][] = [
      [[path.join(ROOT, 'examples/head.onnx')], /^paramtrace: report needs --html OUT\.html/],
      [
        ['a.json', 'b.json', 'c.json', '--html', out],
        /^paramtrace: report takes one model \(or JSON report\), or two/,
      ],
      [[bad, '--html', out], /^paramtrace: .*bad\.json: not a paramtrace report/],
      [[path.join(dir, 'missing.onnx'), '--no-trace', '--html', out], /^paramtrace: .*missing\.onnx/],
      [[bad, '--html', out, '--device', 'tpu'], /^paramtrace: --device must be auto, cpu or cuda/],
      [
        [path.join(ROOT, 'examples/head.onnx'), '--no-trace', '--html', path.join(dir, 'no/such/dir.html')],
        /^paramtrace: .*dir\.html: cannot write/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = cli(t, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    }
    assert.ok(!existsSync(out), 'nothing written');
  });
});
