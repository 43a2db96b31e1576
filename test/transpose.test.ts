// The transposition behind comparing a tensor with a transposed copy (src/onnx/transpose.ts): the
// WebAssembly kernels (2- and 4-byte elements) and the JavaScript loops (every size, and wherever
// WebAssembly is missing or the workspace is too large for it) must give a plain transpose, for any band
// of rows and range of columns, shapes that fill no SIMD block or tile included.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GENERATED, transposeWasmSource } from '../scripts/gen-transpose-wasm.ts';
import { Workspace, type WorkspaceOptions } from '../src/onnx/transpose.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';

test('the committed WebAssembly is the current assembly of transpose.wat (npx tsx scripts/gen-transpose-wasm.ts)', async () => {
  assert.equal(readFileSync(GENERATED, 'utf8'), await transposeWasmSource());
});

/** Rows r0..r1 of a rows x cols matrix of `unit`-byte elements, transposed to rows c0..c1 of the transpose. */
function plainTranspose(
  matrix: Uint8Array,
  unit: number,
  rows: number,
  cols: number,
  r0: number,
  r1: number,
  c0: number,
  c1: number,
): Uint8Array {
  const out = new Uint8Array((c1 - c0) * rows * unit);
  for (let c = c0; c < c1; c++) {
    for (let r = r0; r < r1; r++) {
      const from = (r * cols + c) * unit;
      out.set(matrix.subarray(from, from + unit), ((c - c0) * rows + r) * unit);
    }
  }
  return out;
}

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state >>> 0;
  }
  return bytes;
}

/**
 * Transposes through a workspace band by band, as TensorReader does, and checks each slab. Returns
 * whether the workspace's memory was WebAssembly's.
 */
function check(
  options: WorkspaceOptions,
  unit: number,
  rows: number,
  cols: number,
  bandRows: number,
  width: number,
): boolean {
  const matrix = randomBytes(rows * cols * unit, rows * 7919 + cols * 31 + unit);
  const workspace = new Workspace(options);
  const { block, slab } = workspace.buffers(bandRows * cols * unit, width * rows * unit);
  // Bytes outside the slab's part stay as they were: fill with a marker the transpose never writes.
  for (let c0 = 0; c0 < cols; c0 += width) {
    const c1 = Math.min(cols, c0 + width);
    slab.fill(0xa5);
    for (let r0 = 0; r0 < rows; r0 += bandRows) {
      const r1 = Math.min(rows, r0 + bandRows);
      const band = block.subarray(0, (r1 - r0) * cols * unit);
      band.set(matrix.subarray(r0 * cols * unit, r1 * cols * unit));
      workspace.transpose(unit, band, slab, { r0, r1, c0, c1, rows, cols });
    }
    const what = `${unit}-byte ${rows}x${cols}, bands of ${bandRows} rows, columns ${c0}..${c1}`;
    const expected = plainTranspose(matrix, unit, rows, cols, 0, rows, c0, c1);
    assert.deepEqual(slab.subarray(0, expected.length), expected, what);
    assert.ok(
      slab.subarray(expected.length).every((b) => b === 0xa5),
      `${what}: nothing written past the slab's part`,
    );
  }
  return workspace.wasmMemory;
}

// Rows and columns that are and are not multiples of the SIMD blocks (4, 8) and of the 64 x 64 tiles;
// bands and slabs that start at odd rows and columns.
const SHAPES = [
  { rows: 1, cols: 5, bandRows: 1, width: 5 },
  { rows: 8, cols: 8, bandRows: 8, width: 8 },
  { rows: 3, cols: 130, bandRows: 2, width: 130 },
  { rows: 67, cols: 203, bandRows: 67, width: 203 },
  { rows: 130, cols: 3, bandRows: 33, width: 2 },
  { rows: 257, cols: 66, bandRows: 61, width: 29 },
  { rows: 200, cols: 136, bandRows: 64, width: 64 },
  { rows: 515, cols: 260, bandRows: 101, width: 77 },
];

test('WebAssembly kernels (2- and 4-byte elements) and the JavaScript loops (every size) give a plain transpose', () => {
  for (const unit of [1, 2, 4, 8, 16]) {
    for (const { rows, cols, bandRows, width } of SHAPES) {
      const inWasm = check({}, unit, rows, cols, bandRows, width);
      assert.equal(inWasm, true, 'this Node has WebAssembly SIMD: the workspace is WebAssembly memory');
      assert.equal(check({ wasm: false }, unit, rows, cols, bandRows, width), false);
    }
  }
});

test('a workspace over the WebAssembly limit is plain memory, transposed by the JavaScript loops', () => {
  const limit = { wasmLimit: 32 * 1024 };
  assert.equal(check(limit, 4, 8, 8, 8, 8), true, 'small: WebAssembly memory');
  assert.equal(check(limit, 4, 257, 66, 61, 29), false, 'over the limit: plain memory');
  assert.equal(check(limit, 2, 515, 260, 101, 77), false);
});

test('buffers: the slab 16-byte aligned after the block; growing detaches the views handed out before', () => {
  const workspace = new Workspace();
  const small = workspace.buffers(5, 7);
  assert.equal(small.block.length, 5);
  assert.equal(small.slab.length, 7);
  assert.equal(small.slab.byteOffset, 16);
  small.slab.set([1, 2, 3]);
  const same = workspace.buffers(5, 7);
  assert.deepEqual([...same.slab.subarray(0, 3)], [1, 2, 3], 'a request that fits reuses the memory');
  const large = workspace.buffers(3 << 20, 5 << 20);
  assert.equal(large.slab.byteOffset, 3 << 20);
  assert.equal(large.slab.length, 5 << 20);
  // A stale view fails loudly (it has no bytes), never reads or writes another buffer's bytes.
  assert.equal(small.slab.length, 0);
  assert.equal(large.block.buffer, large.slab.buffer);
});

test('without WebAssembly (node --jitless), the tied embedding stored transposed is still found', async () => {
  const model = fileURLToPath(new URL('./fixtures/tied-embedding.onnx', import.meta.url));
  const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const run = spawnSync(
    process.execPath,
    ['--jitless', '--import', 'tsx', cli, 'analyze', model, '--no-trace', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const withoutWasm = JSON.parse(run.stdout) as Report;
  const withWasm = await analyzeFile(model, { trace: false });
  assert.deepEqual(withoutWasm.duplicates, withWasm.duplicates);
  assert.equal(withoutWasm.duplicates[0]?.transposed, true);
});
