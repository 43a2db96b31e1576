// Names from a model are untrusted everywhere they leave paramtrace as plain text: the action's step
// outputs, its annotations and log lines, the commit status, and every line the CLI prints (which may run
// in a CI step whose log a runner reads for workflow commands). A runner takes a line for a command when
// it starts with `::` after leading white space, and finds the old form `##[` anywhere in a line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as gen from './fuzz/onnx-gen.ts';
import { encode, type Message } from './fuzz/proto.ts';
import { REPO, scenario, useBuiltAction } from './support/action-scenario.ts';
import { escapeUnsafe, joinedLine, plainLine, plainLines, plainText } from '../src/report/plain-line.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = path.join(root, 'node_modules/.bin/tsx');

/** Names that would be workflow commands, break a line, reorder text or hide. */
const HOSTILE = [
  '::warning::pwned',
  '##[error]pwned',
  'evil\n::error::x',
  'conv1\u202e@evil',
  'zero\u200bwidth',
  'path\n::add-path::/tmp/evil',
];
/** An initializer no node reads: it shows as unused. */
const UNUSED = '::warning::unused\r\n##[error]x\u2066';
const INPUT = '::notice::input\u2028';

/** Characters that must never pass raw: controls (tab and line feed aside), line separators, bidi, zero-width. */
// eslint-disable-next-line no-control-regex -- each listed on purpose
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/**
 * x → MatMul(w) for each hostile name, in one pass (base: each parameter used once) or two (head: each
 * used by two calls, so new shared parameters the verdict names); node names are the parameter names.
 */
function hostileModel(passes: number): Uint8Array {
  const nodes: Message[] = [];
  const initializers = HOSTILE.map((name, i) =>
    gen.tensor({ name, dims: [2, 2], raw: gen.floats([i, i + 1, i + 2, i + 3]) }),
  );
  initializers.push(gen.tensor({ name: UNUSED, dims: [3], raw: gen.floats([7, 8, 9]) }));
  let value = INPUT;
  for (let pass = 0; pass < passes; pass++) {
    for (const name of HOSTILE) {
      const out = `${name}/out${pass}`;
      nodes.push(
        gen.node({
          op: 'MatMul',
          inputs: [value, name],
          outputs: [out],
          name: pass === 0 ? name : `${name}_${pass}`,
        }),
      );
      value = out;
    }
  }
  nodes.push(gen.node({ op: 'Identity', inputs: [value], outputs: ['y'], name: '::error::identity' }));
  return encode(
    gen.model(
      gen.graph({
        nodes,
        initializers,
        inputs: [gen.valueInfo(INPUT, [1, 2])],
        outputs: [gen.valueInfo('y', [1, 2])],
      }),
    ),
  );
}

/** Every line of `text` is safe to print in a runner's log. */
function assertSafeLines(label: string, text: string): void {
  assert.ok(text.length > 0, `${label}: printed nothing`);
  text.split('\n').forEach((line, i) => {
    const where = `${label}, line ${i + 1}: ${JSON.stringify(line.slice(0, 200))}`;
    assert.ok(!line.trimStart().startsWith('::'), `${where} starts a workflow command`);
    assert.ok(!line.includes('##['), `${where} holds ##[`);
    assert.doesNotMatch(line, RAW, `${where} holds a raw control, bidi or invisible character`);
  });
}

describe('plain lines: the sanitizer', () => {
  it('shows controls, line breaks, bidirectional and invisible characters as \\uXXXX', () => {
    assert.equal(escapeUnsafe('a\nb\rc\td'), 'a\\u000ab\\u000dc\\u0009d');
    assert.equal(escapeUnsafe('conv1\u202e@evil'), 'conv1\\u202e@evil');
    assert.equal(escapeUnsafe('x\u2066y\u2069\u200e\u200f\u061c'), 'x\\u2066y\\u2069\\u200e\\u200f\\u061c');
    assert.equal(escapeUnsafe('zero\u200bwidth\ufeff\u00ad'), 'zero\\u200bwidth\\ufeff\\u00ad');
    assert.equal(
      escapeUnsafe('nel\u0085 ls\u2028 ps\u2029 esc\u001b[31m'),
      'nel\\u0085 ls\\u2028 ps\\u2029 esc\\u001b[31m',
    );
    assert.equal(escapeUnsafe('lone \ud800 low \udc00'), 'lone \\ud800 low \\udc00');
    // Ordinary text, accents, CJK and emoji pass as they are.
    assert.equal(escapeUnsafe('layer1.0.conv1 café 層 😀 ✅ → …'), 'layer1.0.conv1 café 層 😀 ✅ → …');
  });

  it('breaks the old workflow command form ##[ wherever it is', () => {
    assert.equal(escapeUnsafe('##[error]pwned'), '#\\u0023[error]pwned');
    for (const text of ['##[x', 'a###[b', '####[[', '#'.repeat(9) + '[']) {
      assert.ok(!escapeUnsafe(text).includes('##['), text);
      assert.ok(!plainLines(text).includes('##['), text);
    }
  });

  it('plainLine never starts with :: and plainLines starts no line with ::', () => {
    assert.equal(plainLine('::warning::pwned'), '\\u003a:warning::pwned');
    assert.ok(!plainLine(' \u3000::x').trimStart().startsWith('::'));
    assert.ok(!plainLine('\n::error::x').trimStart().startsWith('::'));
    assert.equal(plainLine('paramtrace: fine'), 'paramtrace: fine');
    assert.ok(plainLine(`::${'x'.repeat(200)}`, 140).length <= 140, 'the guard counts in the limit');
    assert.ok(joinedLine(`::${'x\n'.repeat(200)}`, 140).length <= 140, 'the guard counts in the limit');
    const lines = plainLines('a\n::warning::x\n   ::error::y\nb ::z');
    assert.equal(lines, 'a\n\\u003a:warning::x\n   \\u003a:error::y\nb ::z');
  });

  it('bounds the length without cutting an escape or a surrogate pair', () => {
    assert.equal(plainText('short'), 'short');
    for (let max = 4; max < 40; max++) {
      for (const text of ['a'.repeat(50), 'ab\u202e'.repeat(20), '😀'.repeat(30), 'x'.repeat(max)]) {
        const out = plainText(text, max);
        assert.ok(out.length <= max, `${max}: ${out}`);
        assert.doesNotMatch(out, /\\u[0-9a-f]{0,3}…$/, `cut escape: ${out}`);
        assert.doesNotMatch(out, /[\ud800-\udbff]…$/, `cut pair: ${out}`);
        if (text.length > max) assert.ok(out.endsWith('…'));
      }
    }
    assert.equal(plainText('x'.repeat(10), 10), 'x'.repeat(10));
  });

  it('keeps a JSON text the same value', () => {
    const value = { names: [...HOSTILE, UNUSED, INPUT, 'a\\##[b', '\ud800'], [HOSTILE[0]!]: 1 };
    const json = JSON.stringify(value, null, 2);
    const safe = plainLines(json);
    assert.deepEqual(JSON.parse(safe), JSON.parse(json));
    assertSafeLines('json', safe);
  });

  it('joins many lines into one, keeping the first and the end when long', () => {
    assert.equal(joinedLine('build failed\nLast lines:\n\nboom\n'), 'build failed ⏎ Last lines: ⏎ boom');
    assert.equal(joinedLine('::error::x\n##[y'), '\\u003a:error::x ⏎ #\\u0023[y');
    const long = ['the build failed', ...Array.from({ length: 500 }, (_, i) => `line ${i}`), 'the cause'];
    const one = joinedLine(long.join('\n'), 200);
    assert.ok(one.length <= 200, String(one.length));
    assert.ok(one.startsWith('the build failed ⏎ … '), one);
    assert.ok(one.endsWith('the cause'), one);
  });
});

describe('plain lines: the CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-hostile-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base = path.join(dir, 'base.onnx');
  const head = path.join(dir, 'head.onnx');
  writeFileSync(base, hostileModel(1));
  writeFileSync(head, hostileModel(2));

  function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(tsx, [path.join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('analyze: the table, its totals and notes print no hostile line; names show escaped', async (t) => {
    for (const options of [[], ['--all-nodes'], ['--depth', '1']]) {
      await t.test(`analyze ${options.join(' ')}`, () => {
        const r = cli('analyze', head, '--no-trace', ...options);
        assert.equal(r.status, 0, r.stderr);
        assertSafeLines(`analyze ${options.join(' ')}`, r.stdout);
        assertSafeLines(`analyze ${options.join(' ')} (stderr)`, r.stderr || '-');
        for (const escaped of [
          'conv1\\u202e@evil',
          '#\\u0023[error]pwned',
          'evil\\u000a::error::x',
          'zero\\u200bwidth',
        ])
          assert.ok(r.stdout.includes(escaped), `${escaped} is shown escaped`);
      });
    }
  });

  it('analyze --json: the same report, no hostile line', () => {
    const out = path.join(dir, 'head.json');
    const r = cli('analyze', head, '--no-trace', '--json', '--output', out);
    assert.equal(r.status, 0, r.stderr);
    assertSafeLines('analyze --json', r.stdout);
    const report = JSON.parse(r.stdout);
    const names = report.parameters.map((p: { name: string }) => p.name).sort();
    assert.deepEqual(names, [...HOSTILE, UNUSED].sort(), 'the JSON value keeps the names as they are');
  });

  it('compare: the comment and the JSON, from models and from reports, print no hostile line', async (t) => {
    const baseJson = path.join(dir, 'base.json');
    const headJson = path.join(dir, 'head.json');
    assert.equal(cli('analyze', base, '--no-trace', '--json', '--output', baseJson).status, 0);
    assert.equal(cli('analyze', head, '--no-trace', '--json', '--output', headJson).status, 0);
    for (const [b, h] of [
      [base, head],
      [baseJson, headJson],
    ]) {
      for (const format of [[], ['--json']]) {
        const label = `compare ${path.extname(b!)} ${format.join(' ')}`;
        await t.test(label, () => {
          const r = cli('compare', b!, h!, '--no-trace', '--fail-on-new-shared', ...format);
          assert.equal(r.status, 1, `${label}: the new shared parameters fail it\n${r.stderr}`);
          assertSafeLines(label, r.stdout);
          assertSafeLines(`${label} (stderr)`, r.stderr || '-');
          if (format.length > 0) {
            const comparison = JSON.parse(r.stdout);
            // The verdict is data: the failure names the parameters as they are.
            assert.match(
              JSON.stringify(comparison.verdict.failures),
              /::warning::pwned/,
              'the same JSON value',
            );
          }
        });
      }
    }
  });

  it('errors on stderr: a hostile value in a message starts no line', async (t) => {
    await t.test('a usage error', () => {
      const usage = cli('analyze', head, '--depth', '1\n::error::pwned\u202e');
      assert.equal(usage.status, 2);
      assertSafeLines('usage error', usage.stderr);
      assert.match(usage.stderr, /--depth must be/);
    });
    await t.test('a model that cannot be read', () => {
      const missing = cli('analyze', path.join(dir, 'x\n::error::missing##[y.onnx'), '--no-trace');
      assert.equal(missing.status, 2);
      assertSafeLines('missing file', missing.stderr);
    });
  });
});

const builtEntry = useBuiltAction();

/** Workflow commands the action issues itself; the resume token of ::stop-commands:: is 32 hex digits. */
const OWN_COMMAND =
  /^::(error|warning|notice|group|endgroup|stop-commands|add-mask|debug)(\s[^:]*)?::|^::[0-9a-f]{32}::/;

describe('plain lines: the action', () => {
  it('outputs, annotations, log lines and the commit status carry hostile names one line, escaped', async (t) => {
    assert.ok(builtEntry());
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: null, files: { 'model-src.onnx': hostileModel(1) } },
        { label: 'head', model: null, files: { 'model-src.onnx': hostileModel(2) }, branch: 'feature' },
      ],
    });
    const run = await s.run({ inputs: { 'fail-on-new-shared': 'true', 'commit-status': 'true' } });
    assert.equal(run.code, 1, run.log);
    assert.equal(run.outputs.verdict, 'fail');

    await t.test(
      'every output but the comment (Markdown, escaped by its renderer): one line, escaped',
      () => {
        for (const [name, value] of Object.entries(run.outputs)) {
          if (name === 'comment-body') continue;
          assert.ok(
            !value.includes('\n') && !value.includes('\r'),
            `output ${name} has a line break: ${value}`,
          );
          assert.doesNotMatch(value, RAW, `output ${name} holds a raw character: ${JSON.stringify(value)}`);
          assert.ok(!value.includes('##['), `output ${name} holds ##[: ${value}`);
          assert.ok(!value.trimStart().startsWith('::'), `output ${name} starts with ::`);
        }
      },
    );
    await t.test('the verdict headline names the parameters, escaped', () => {
      const headline = run.outputs['verdict-headline']!;
      assert.match(headline, /^❌ fail: new shared parameters: /);
      for (const escaped of [
        '#\\u0023[error]pwned',
        'conv1\\u202e@evil',
        'evil\\u000a::error::x',
        'zero\\u200bwidth',
      ])
        assert.ok(headline.includes(escaped), `the headline names ${escaped}: ${headline}`);
    });
    await t.test('the commit status: at most 140 characters, one line, escaped', () => {
      const statuses = s.api.state.statusesFor(REPO, s.repo.commits.head!);
      assert.equal(statuses.length, 1);
      const description = statuses[0]!.description!;
      assert.ok(description.length <= 140, `${description.length}: ${description}`);
      assert.ok(!/[\r\n]/.test(description), description);
      assert.doesNotMatch(description, RAW, JSON.stringify(description));
      assert.ok(!description.includes('##['), description);
      assert.ok(description.startsWith('❌ fail: new shared parameters: #\\u0023[error]pwned'), description);
    });
    // The log, line by line: what is a command the action issued, and the text that follows it.
    const lines = run.log.split('\n').map((line, i) => {
      const trimmed = line.trimStart();
      const own = OWN_COMMAND.exec(trimmed);
      return {
        where: `log line ${i + 1}: ${JSON.stringify(line.slice(0, 300))}`,
        line,
        command: trimmed.startsWith('::'),
        own: own !== null,
        text: own ? trimmed.slice(own[0].length) : line,
      };
    });
    const offending = (bad: (l: (typeof lines)[number]) => boolean): string =>
      lines
        .filter(bad)
        .map((l) => l.where)
        .join('\n');
    await t.test('the log: the failed verdict is an ::error:: annotation', () => {
      assert.ok(lines.some((l) => l.line.startsWith('::error::❌ fail: new shared parameters: ')));
    });
    await t.test('the log: no line starts a workflow command the action did not issue', () => {
      assert.equal(
        offending((l) => l.command && !l.own),
        '',
      );
    });
    await t.test('the log: no line holds ##[', () => {
      assert.equal(
        offending((l) => l.text.includes('##[')),
        '',
      );
    });
    await t.test('the log: no line holds a raw control, bidi or invisible character', () => {
      assert.equal(
        offending((l) => RAW.test(l.text)),
        '',
      );
    });
    await t.test('the log: every annotation is one line', () => {
      // @actions/core writes a line break in a command's message as %0A, which the runner turns back.
      assert.equal(
        offending((l) => l.own && /%0[AD]/i.test(l.text)),
        '',
      );
    });
  });
});
