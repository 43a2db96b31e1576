// Fuzzed models through the real command line, as a user (or a CI job) runs it: a model the reader
// refuses gives exit code 2 and one line on stderr naming the file, never a stack trace; a damaged model
// the reader still accepts gives a report, traced or not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CORPUS_SEED, CRASHES } from './fuzz/corpus.ts';
import { runOne } from './fuzz/harness.ts';
import { generate, loadSeeds } from './fuzz/mutate.ts';
import { fixture } from './support/analyze-fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = path.join(root, 'node_modules/.bin/tsx');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, 'src/cli/main.ts'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: ReturnType<typeof cli>, file: string): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.startsWith(`paramtrace: ${file}: `), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
}

describe('fuzzed models through the CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-fuzz-cli-'));
  /** Refused inputs, one for each way the first mutation broke them; and accepted ones. */
  const refused: { file: string; label: string }[] = [];
  const accepted: { file: string; label: string }[] = [];
  before(() => {
    const seeds = loadSeeds();
    const scratch = path.join(dir, 'scratch');
    const seen = new Set<string>();
    for (let index = 0; index < 400 && (refused.length < 6 || accepted.length < 2); index++) {
      const input = generate(seeds, CORPUS_SEED, index, false);
      if (input.bytes.length > 200_000) continue;
      const outcome = runOne(input.bytes, scratch);
      const kind = `${outcome.kind}:${input.label.split(' | ')[1]?.split(':')[0]}`;
      if (seen.has(kind)) continue;
      seen.add(kind);
      const file = path.join(dir, `input-${index}.onnx`);
      if (outcome.kind === 'refused' && refused.length < 6) refused.push({ file, label: input.label });
      else if (outcome.kind === 'report' && accepted.length < 2) accepted.push({ file, label: input.label });
      else continue;
      writeFileSync(file, input.bytes);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('refused inputs: exit 2, one line naming the file, no stack trace (analyze and compare)', () => {
    assert.equal(refused.length, 6);
    for (const { file, label } of refused) {
      const r = cli('analyze', file, '--no-trace');
      assert.doesNotThrow(() => assertOneLine(r, file), label);
    }
    const r = cli('compare', fixture('seed-case-1.onnx'), refused[0]!.file, '--no-trace');
    assertOneLine(r, refused[0]!.file);
  });

  test('crashes found by the fuzzer: exit 2 with one line, or a report', () => {
    for (const name of ['crash-error-message-with-newline', 'crash-int64-data-truncated-varint']) {
      const file = path.join(dir, `${name}.onnx`);
      copyFileSync(path.join(CRASHES, `${name}.onnx`), file);
      assertOneLine(cli('analyze', file, '--no-trace'), file);
    }
    const r = cli('analyze', path.join(CRASHES, 'crash-op-type-constructor.onnx'), '--no-trace');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Declared params:\s+4$/m);
  });

  test('accepted inputs: a report, also when the trace is attempted on the damaged model', () => {
    assert.equal(accepted.length, 2);
    for (const { file, label } of accepted) {
      const r = cli('analyze', file, '--no-trace', '--json');
      assert.equal(r.status, 0, `${label}\n${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).schemaVersion, 1);
    }
    // Tracing a damaged model either works or fails; a failed trace costs the trace, not the report.
    const traced = cli('analyze', accepted[0]!.file, '--trace-timeout', '60');
    assert.equal(traced.status, 0, traced.stderr);
    assert.match(traced.stdout, /execution: (traced with onnxruntime|static \(trace failed: )/);
  });
});
