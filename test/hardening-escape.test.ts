// Names built to break out of the comment: HTML, Markdown, table pipes, backticks, @-mentions, links,
// <script>, HTML comments and paramtrace's own marker, line breaks, zero-width and bidi-override
// characters, very long names. They go through the real pipeline (an ONNX model whose initializers,
// nodes, scopes and symbolic dimensions carry them → analysis → comparison → comment and summary), and
// nothing may escape <code>, mention anyone, link anywhere or forge the marker.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compare } from '../src/compare/compare.ts';
import { hasMarker } from '../src/github/comments.ts';
import { code, escapeLine, escapeText } from '../src/render/escape.ts';
import { renderComment, renderSummary } from '../src/render/markdown.ts';
import type { Report } from '../src/report/report.ts';
import { analyzeStatically, emptyBase } from './fuzz/harness.ts';
import { assertWellFormed } from './fuzz/markdown-check.ts';
import * as gen from './fuzz/onnx-gen.ts';
import { encode, type Message } from './fuzz/proto.ts';

export const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(document.cookie)</script>',
  '</code><script>alert(1)</script><code>',
  '<!-- paramtrace:comment-key=x -->',
  '<!--',
  '-->',
  '</details></sub><h1>big</h1>',
  '**bold** _it_ ~~del~~ # heading',
  '| a | b |\n| --- | --- |\n| c | d |',
  '```\nfenced\n```',
  '`tick`',
  '@octocat',
  'cc @github/security-team please',
  'mail me@example.com',
  '[link](javascript:alert(1))',
  '[ref][1]\n\n[1]: https://evil.example',
  '![img](https://evil.example/x.png)',
  'https://evil.example/login',
  'www.evil.example',
  'fixes #1 and octo/repo#2',
  ':+1: &lt; &amp; &#64;',
  'back\\slash \\<b\\>',
  'line\nbreak\r\nand\u2028separator\u0085next',
  'zero\u200bwidth\u200c\u200d\ufeffjoin\u2060er',
  'evil\u202egnp.exe \u2066isolated\u2069 \u200fmark',
  'lone \ud800 surrogate',
  'ESC \u001b[2J\u001b]0;title\u0007',
  `very long ${'<|@`'.repeat(5000)}`,
];

/** Scopes for node names: the TorchScript form `/<scope>/MatMul` makes each name a layer call. */
function hostileModel(names: string[]): Uint8Array {
  const nodes: Message[] = [];
  const initializers: Message[] = [];
  let value = 'x';
  names.forEach((name, i) => {
    const weight = `${name}.weight`;
    initializers.push(gen.tensor({ name: weight, dims: [2, 2], raw: gen.floats([i, i + 1, i + 2, i + 3]) }));
    // Each weight used twice (shared), by two calls of the hostile scope.
    for (const call of [name, `${name}_1`]) {
      const out = `${call}.out`;
      nodes.push(
        gen.node({ op: 'MatMul', inputs: [value, weight], outputs: [out], name: `/${call}/MatMul` }),
      );
      value = out;
    }
    // An orphan (unused) and a duplicate (same bytes) of each.
    initializers.push(gen.tensor({ name: `${name}.unused`, dims: [3], raw: gen.floats([i, 7, 7]) }));
    initializers.push(
      gen.tensor({ name: `${name}.copy`, dims: [2, 2], raw: gen.floats([i, i + 1, i + 2, i + 3]) }),
    );
  });
  nodes.push(gen.node({ op: 'Identity', inputs: [value], outputs: ['y'] }));
  return encode(
    gen.model(
      gen.graph({
        nodes,
        initializers,
        inputs: [gen.valueInfo('x', [names[0]!, 2])],
        outputs: [gen.valueInfo('y', [names[1]!, 2])],
        valueInfo: names.map((n) => gen.valueInfo(`${n}_1.out`, [n, 2])),
      }),
    ),
  );
}

const ALLOWED_TAGS = new Set([
  '<code>',
  '</code>',
  '<details>',
  '</details>',
  '<summary>',
  '</summary>',
  '<sub>',
  '</sub>',
]);

/**
 * A Mermaid chart: nothing inside a fenced block is decoded or linked, so its one rule is the chart's own
 * grammar, with labels of letters, digits and `_ . - / ( ) ? ~` only, quoted.
 */
function assertInertChart(block: string): void {
  const lines = block.split('\n');
  const label = /"[A-Za-z0-9_.\-/()?~]*"/.source;
  const numbers = /\[\d+(, \d+)*\]/.source;
  assert.deepEqual(lines.slice(0, 3), ['```mermaid', 'xychart-beta', lines[2]]);
  assert.match(lines[2]!, /^ {2}title "[A-Za-z -]+ by module \(bars: head, line: base\)"$/);
  assert.match(lines[3]!, new RegExp(`^  x-axis \\[${label}(, ${label})*\\]$`), lines[3]);
  assert.equal(lines[4], '  y-axis "Parameters"');
  assert.match(lines[5]!, new RegExp(`^  bar ${numbers}$`));
  assert.match(lines[6]!, new RegExp(`^  line ${numbers}$`));
  assert.equal(lines[7], '```');
  assert.equal(lines.length, 8);
}

/** The fenced Mermaid blocks of a comment, each checked, and the comment without them. */
function withoutCharts(body: string): string {
  return body.replace(/^```mermaid\n[\s\S]*?^```$/gm, (block) => {
    assertInertChart(block);
    return '';
  });
}

/** Everything that must hold for a comment or summary built from hostile names. */
function assertInert(body: string, marker: string | null, links: string[] = []): void {
  const lines = body.split('\n');
  let rest = withoutCharts(body);
  if (marker !== null) {
    assert.equal(lines[0], marker);
    rest = rest.split('\n').slice(1).join('\n');
  }
  // paramtrace's own links (built by the action from its run) are the only ones.
  for (const link of links) rest = rest.split(link).join('');
  // No HTML comment (a hidden remainder, a forged marker) and no tag but paramtrace's own.
  assert.doesNotMatch(rest, /<!--|-->/);
  for (const tag of rest.match(/<[^<>]*>/g) ?? [])
    assert.ok(ALLOWED_TAGS.has(tag), `tag ${tag} in the output`);
  // The only quotes are paramtrace's own alerts (a failed trace, a side not traced): two lines each,
  // whatever the error says.
  for (const quoted of rest.split('\n').filter((l) => l.startsWith('>')))
    assert.match(
      quoted,
      /^> (\[!WARNING\]$|\[!NOTE\]$|The trace failed for \*\*(head|base)\*\* |Not traced \(<code>trace: false<\/code>)/,
      quoted.slice(0, 80),
    );
  assert.doesNotMatch(
    rest.replace(/^> /gm, '').replace(/<\/?(code|details|summary|sub)>/g, ''),
    /[<>]/,
    'a bare < or >',
  );
  // Inside <code>: nothing that ends it or acts in it.
  for (const [, inner] of rest.matchAll(/<code>(.*?)<\/code>/g)) {
    assert.doesNotMatch(inner!, /[<>`|\n\r]/, `code span ${inner!.slice(0, 80)}`);
  }
  // No code span, link, image, reference definition, mention, autolink or issue reference.
  assert.doesNotMatch(rest, /`/);
  assert.doesNotMatch(rest, /\]\s*[([]|!\[|^\s*\[[^\]]*\]:/m);
  assert.doesNotMatch(rest, /@(?!\u2060)/, 'an @ that could mention');
  assert.doesNotMatch(rest, /:\/\/|www\./i, 'an autolink');
  assert.doesNotMatch(rest, /(^|[^&\w])#\d/, 'an issue reference');
  // No invisible or direction-changing characters but the word joiners paramtrace adds.
  assert.doesNotMatch(rest, /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029\u0085]/);
  // eslint-disable-next-line no-control-regex -- control characters are what is checked
  assert.doesNotMatch(rest, /[\u0000-\u0009\u000b-\u001f\u007f]/);
  assert.doesNotMatch(rest, /[\ud800-\udbff](?![\udc00-\udfff])/, 'a lone surrogate');
  assertWellFormed(body);
}

describe('hostile names through the whole pipeline', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-hostile-'));
  let head: Report;
  before(() => {
    const file = path.join(dir, 'hostile.onnx');
    writeFileSync(file, hostileModel(HOSTILE));
    head = analyzeStatically(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the model is analyzed with every hostile name intact in the report, clipped past 4096 characters', () => {
    assert.equal(head.shared.length, HOSTILE.length);
    const names = new Set(head.parameters.map((p) => p.name));
    // The report schema bounds strings (src/report/clip.ts): a longer name keeps its first 4095 characters.
    const reported = (name: string): string => (name.length > 4096 ? `${name.slice(0, 4095)}…` : name);
    // As UTF-8 stores them: a lone surrogate cannot be encoded and comes back as U+FFFD.
    for (const h of HOSTILE.map((n) => Buffer.from(n).toString()))
      assert.ok(
        names.has(reported(`${h}.weight`)),
        `${JSON.stringify(h.slice(0, 40))} not in ${JSON.stringify([...names].slice(0, 80))}`,
      );
    assert.ok(head.layers.some((l) => l.name === '<img src=x onerror=alert(1)>_1'));
  });

  for (const thresholds of [{}, { failOnNewShared: true, failOnNewUnused: true }]) {
    const verdict = Object.keys(thresholds).length === 0 ? 'pass' : 'fail (naming every hostile parameter)';
    test(`the comment (${verdict}) keeps every name inert and the marker unforged`, () => {
      // A base with head's first layer call, so that the others show in the layer diff (against a base
      // without any, head's calls are listed by module instead).
      const base = { ...emptyBase(head), layers: head.layers.slice(0, 1) };
      const comparison = compare(base, head, thresholds);
      const comment = renderComment(comparison, {
        commentKey: 'default',
        headReport: head,
        baseReport: base,
      });
      assertInert(comment, '<!-- paramtrace:comment-key=default -->');
      assert.ok(hasMarker(comment, 'default'));
      assert.ok(!hasMarker(comment, 'x'), 'a layer name forged the marker of key x');
      // The names are there, as escaped code: the reader sees what the model calls them, in the module
      // table and the layer diff too.
      assert.match(comment, /<code>&lt;script&gt;alert\(document.cookie\)&lt;\/script&gt;/);
      assert.match(comment, /<code>@\u2060octocat/);
      assert.match(comment, /evil&#91;U\+202E&#93;gnp\.exe/);
      assert.match(comment, /\*\*Where it changed:\*\*/);
      // The second call's `_1` follows a `>`: at a word's edge, so an entity.
      assert.match(
        comment,
        /\| <code>&lt;img src=x onerror=alert\(1\)&gt;&#95;1<\/code> \| <code>MatMul<\/code> \| - \| 4 \| \+4 \| added \|/,
      );
    });
    test(`the job summary (${verdict}) keeps every name inert`, () => {
      const base = emptyBase(head);
      const comparison = compare(base, head, thresholds);
      assertInert(renderSummary(comparison, head, { baseReport: base }), null);
      assertInert(renderSummary(comparison, head), null);
    });
  }

  test('the Mermaid chart of hostile module names: only the chart’s own syntax, labels kept apart', () => {
    // At most CHART_MAX_MODULES changed modules make a chart: the first ten hostile names, each its own module.
    const file = path.join(dir, 'hostile-ten.onnx');
    writeFileSync(file, hostileModel(HOSTILE.slice(0, 10)));
    const ten = analyzeStatically(file);
    const base = emptyBase(ten);
    const comment = renderComment(compare(base, ten, {}), {
      commentKey: 'default',
      headReport: ten,
      baseReport: base,
    });
    const charts = comment.match(/^```mermaid\n[\s\S]*?^```$/gm) ?? [];
    assert.equal(charts.length, 1, comment);
    const labels = [...charts[0]!.split('\n')[3]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    assert.equal(new Set(labels).size, labels.length, `labels repeat: ${labels.join(' ')}`);
    assertInert(comment, '<!-- paramtrace:comment-key=default -->');
    // More modules than a chart can show: the table alone.
    const all = renderComment(compare(emptyBase(head), head, {}), {
      commentKey: 'default',
      headReport: head,
      baseReport: emptyBase(head),
    });
    assert.doesNotMatch(all, /```mermaid/);
  });

  test('links: paramtrace’s own are shown, a URL that could break out of its link is left out', () => {
    const base = emptyBase(head);
    const sha = 'a'.repeat(40);
    const good = {
      run: 'https://github.com/o/r/actions/runs/7',
      summary: 'https://github.com/o/r/actions/runs/7',
      artifact: 'https://github.com/o/r/actions/runs/6',
      base: { sha, url: `https://github.com/o/r/commit/${sha}`, how: 'baseline artifact' },
      head: { sha: 'b'.repeat(40), url: `https://github.com/o/r/commit/${'b'.repeat(40)}` },
    };
    const comment = renderComment(compare(base, head, {}), {
      commentKey: 'default',
      headReport: head,
      baseReport: base,
      links: good,
    });
    const expected = [
      '[Workflow run and job summary](https://github.com/o/r/actions/runs/7)',
      '[Report artifact](https://github.com/o/r/actions/runs/6)',
      `[<code>aaaaaaaaaaaa</code>](https://github.com/o/r/commit/${sha})`,
      `[<code>bbbbbbbbbbbb</code>](https://github.com/o/r/commit/${'b'.repeat(40)})`,
    ];
    for (const link of expected) assert.ok(comment.includes(link), `${link} not in the comment`);
    assertInert(comment, '<!-- paramtrace:comment-key=default -->', expected);

    const bad = {
      run: 'javascript:alert(1)',
      summary: 'https://x.example/a)(b',
      artifact: 'https://x.example/<script>',
      base: { sha: '<b>', url: 'https://github.com/o/r/commit/x', how: 'a](https://evil.example)' },
      head: { sha: 'b'.repeat(40), url: 'https://x.example/ space' },
    };
    const refused = renderComment(compare(base, head, {}), {
      commentKey: 'default',
      headReport: head,
      baseReport: base,
      links: bad,
    });
    // Only the head commit stays, as code without a link.
    assert.match(refused, /^head <code>bbbbbbbbbbbb<\/code>$/m);
    assertInert(refused, '<!-- paramtrace:comment-key=default -->');
  });

  test('a comparison read from an artifact: hostile failures, details and trace lines', () => {
    const base = emptyBase(head);
    const comparison = compare(base, head, {});
    const forged: typeof comparison = {
      ...comparison,
      verdict: {
        ...comparison.verdict,
        pass: false,
        failures: [
          { kind: 'base-unavailable', reason: HOSTILE.join(' ') },
          ...HOSTILE.slice(0, 12).map((reason) => ({ kind: 'base-unavailable' as const, reason })),
          { kind: 'new-shared', names: HOSTILE },
        ],
      },
      head: { ...comparison.head, trace: { mode: 'failed', error: HOSTILE.join(' ') } },
      base: {
        ...comparison.base,
        trace: { mode: 'onnxruntime', onnxruntimeVersion: HOSTILE[0]!, device: HOSTILE[1]! },
      },
      newUnused: HOSTILE.map((h) => ({ name: h, numel: 1, reason: h as 'orphan', detail: h })),
    };
    assertInert(
      renderComment(forged, { commentKey: 'default', headReport: head, baseReport: base }),
      '<!-- paramtrace:comment-key=default -->',
    );
    assertInert(renderSummary(forged, head), null);
  });

  test('a trace that failed: the warning after the verdict and the static marks keep hostile errors inert', () => {
    const failed = (error: string): Report['trace'] => ({ mode: 'failed', error, note: 'x' });
    const failedHead: Report = { ...head, trace: failed(HOSTILE.join(' ')) };
    const failedBase: Report = { ...emptyBase(head), trace: failed(HOSTILE.slice(3).join(' ')) };
    const comparison = compare(failedBase, failedHead, { failOnNewShared: true });
    assert.equal(comparison.head.trace.mode, 'failed');
    const comment = renderComment(comparison, {
      commentKey: 'default',
      headReport: failedHead,
      baseReport: failedBase,
    });
    const lines = comment.split('\n');
    assert.match(lines[1]!, /^### paramtrace: ❌ fail/);
    assert.deepEqual(lines.slice(2, 4), ['', '> [!WARNING]']);
    assert.match(
      lines[4]!,
      /^> The trace failed for \*\*head\*\* \(&lt;img src=x onerror=alert\(1\)&gt;.*and for \*\*base\*\*/,
    );
    assert.match(comment, /\| static† \|/);
    assertInert(comment, '<!-- paramtrace:comment-key=default -->');
    assertInert(renderSummary(comparison, failedHead, { baseReport: failedBase }), null);
    // From an artifact: a hostile error, and unused findings that only the fall-back saw.
    const forged: typeof comparison = {
      ...comparison,
      head: { ...comparison.head, trace: { mode: 'failed', error: HOSTILE.join('\n') } },
      newUnused: HOSTILE.map((h) => ({ name: h, numel: 1, reason: 'not-executed' as const, detail: h })),
    };
    const forgedComment = renderComment(forged, { commentKey: 'default', headReport: failedHead });
    assert.match(forgedComment, /\| Reason \| Seen \|/);
    assertInert(forgedComment, '<!-- paramtrace:comment-key=default -->');
  });

  test('a side not traced by choice: a note after the verdict; an empty base (a new model) needs none', () => {
    const base: Report = { ...head, trace: { mode: 'static', note: 'not traced' } };
    const comparison = compare(base, head, {});
    const lines = renderComment(comparison, {
      commentKey: 'default',
      headReport: head,
      baseReport: base,
    }).split('\n');
    assert.deepEqual(lines.slice(2, 4), ['', '> [!NOTE]']);
    assert.match(lines[4]!, /^> Not traced \(<code>trace: false<\/code>.*of both head and base are static/);
    const fresh = renderComment(
      compare(emptyBase(head), { ...head, trace: { mode: 'static', note: 'x' } }, {}),
      {
        commentKey: 'default',
      },
    );
    assert.match(fresh, /> Not traced .* of head are static/);
  });
});

describe('escape.ts', () => {
  test('code(): every special character an entity, no line break, no invisible character', () => {
    assert.equal(code('a|b'), '<code>a&#124;b</code>');
    assert.equal(code('<!-- x -->'), '<code>&lt;!-- x --&gt;</code>');
    assert.equal(code('a\nb'), '<code>a b</code>');
    assert.equal(code('@me'), '<code>@\u2060me</code>');
    assert.equal(code('x\u202ey'), '<code>x&#91;U+202E&#93;y</code>');
    assert.equal(code('x\u200by'), '<code>x&#91;U+200B&#93;y</code>');
  });

  test('code(): what cannot act inside <code> stays as it is, so names read as they are', () => {
    assert.equal(code('conv1_1'), '<code>conv1_1</code>');
    assert.equal(code('a__b'), '<code>a__b</code>');
    assert.equal(code('f(x): \'y\' "z" !'), `<code>f(x): 'y' "z" !</code>`);
    // An `_` at the edge of a word could start or end emphasis; `*` and `~` can do so inside a word too.
    assert.equal(code('_x_'), '<code>&#95;x&#95;</code>');
    assert.equal(code('__init__'), '<code>&#95;&#95;init&#95;&#95;</code>');
    assert.equal(code('a_ b'), '<code>a&#95; b</code>');
    assert.equal(code('a*b~c'), '<code>a&#42;b&#126;c</code>');
    // Still no autolink: a word joiner after the colon.
    assert.equal(code('https://x'), '<code>https:\u2060//x</code>');
  });

  test('names are clipped to their length, never inside a surrogate pair', () => {
    assert.equal(escapeText('x'.repeat(300)).length, 200);
    const emoji = '😀'.repeat(150);
    const clipped = escapeText(emoji, 200);
    assert.ok(clipped.endsWith('😀…'), clipped.slice(-4));
    assert.doesNotMatch(clipped, /[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  test('prose: no link, reference or mention survives, and plain text reads the same', () => {
    assert.equal(
      escapeLine('✅ pass: -9 unique parameters (-50.0%, 18 → 9)'),
      '✅ pass: -9 unique parameters (-50.0%, 18 → 9)',
    );
    assert.equal(escapeLine('see https://x.example'), 'see https:\u2060//x.example');
    assert.equal(escapeLine('www.x.example'), 'www\u2060.x.example');
    assert.equal(escapeLine('#12'), '&#35;\u206012');
    assert.equal(escapeLine('[a](javascript:b)'), '&#91;a&#93;(javascript:b)');
    assert.equal(escapeText('https://x'), 'https&#58;\u2060//x');
  });
});
