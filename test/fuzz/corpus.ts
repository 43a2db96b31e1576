// The fixed corpus `npm test` runs: hand-built hostile models with the end each must reach, a truncation
// of a real model at every offset, a fixed number of seeded mutations, and every crash found so far.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as gen from './onnx-gen.ts';
import { encode } from './proto.ts';
import type { Job } from './runner.ts';

export const CRASHES = fileURLToPath(new URL('./crashes/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The seed of the fixed corpus; `npm run fuzz` uses others. */
export const CORPUS_SEED = 20_240_607;
export const CORPUS_SIZE = 1200;

export interface NamedCase {
  make: () => Uint8Array;
  /** The end it must reach, and a pattern its message must match. */
  expect: 'report' | 'refused';
  message?: RegExp;
}

/** Hostile shapes that are cheap as bytes: each must end as stated, well within the time limit. */
export const NAMED: Record<string, NamedCase> = {
  'If nested 10,000 deep': {
    make: () => encode(gen.nestedIfModel(10_000)),
    expect: 'refused',
    message: /nested more than \d+ deep|nesting depth/,
  },
  'If nested 40 deep (decoded whole by protobufjs)': {
    make: () => encode(gen.nestedIfModel(40)),
    expect: 'refused',
    message: /nest/,
  },
  'If nested 5 deep': { make: () => encode(gen.nestedIfModel(5)), expect: 'report' },
  'sequence type nested 5,000 deep': {
    make: () => encode(gen.nestedTypeModel(5000)),
    expect: 'refused',
    message: /nest/,
  },
  '300,000 tiny nodes': {
    make: () => {
      const nodes = [];
      for (let i = 0; i < 300_000; i++)
        nodes.push(gen.node({ op: 'Relu', inputs: [i === 0 ? 'x' : `h${i - 1}`], outputs: [`h${i}`] }));
      nodes.push(gen.node({ op: 'MatMul', inputs: ['h299999', 'w'], outputs: ['y'] }));
      return encode(
        gen.model(
          gen.graph({
            nodes,
            initializers: [gen.tensor({ name: 'w', dims: [2, 2] })],
            inputs: [gen.valueInfo('x', [1, 2])],
            outputs: [gen.valueInfo('y', [1, 2])],
          }),
        ),
      );
    },
    expect: 'report',
  },
  'one node with 200,000 inputs': { make: () => encode(gen.wideNodeModel(200_000)), expect: 'report' },
  'a cycle of 1,000 nodes and a node reading its own output': {
    make: () => encode(gen.cycleModel(1000)),
    expect: 'report',
  },
  'a chain of 20,000 constant folds (each sum carries every constant before it)': {
    make: () => encode(gen.foldChainModel(20_000)),
    expect: 'refused',
    message: /links constants to nodes more than/,
  },
  'a chain of 1,000 constant folds': { make: () => encode(gen.foldChainModel(1000)), expect: 'report' },
  'a tensor claiming 2^26 x 2^26 elements with 8 bytes of data, twice': {
    make: () => {
      const big = (name: string, values: number[]) =>
        gen.tensor({ name, dims: [2 ** 26, 2 ** 26 - 1], raw: gen.floats(values) });
      return encode(
        gen.model(
          gen.graph({
            nodes: [
              gen.node({ op: 'MatMul', inputs: ['x', 'a'], outputs: ['h'] }),
              gen.node({ op: 'MatMul', inputs: ['h', 'b'], outputs: ['y'] }),
            ],
            initializers: [big('a', [1, 2]), big('b', [3, 4])],
            inputs: [gen.valueInfo('x', [1, 2])],
            outputs: [gen.valueInfo('y', [1, 2])],
          }),
        ),
      );
    },
    expect: 'refused',
    message: /raw_data holds 8 bytes/,
  },
  'element count past 2^53': {
    make: () =>
      encode(
        gen.model(
          gen.graph({
            nodes: [gen.node({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] })],
            initializers: [
              gen.tensor({ name: 'w', dims: [2 ** 30, 2 ** 30, 2 ** 30], raw: gen.floats([1]) }),
            ],
            outputs: [gen.valueInfo('y')],
          }),
        ),
      ),
    expect: 'refused',
    message: /more than any real tensor/,
  },
  'a negative dimension': {
    make: () =>
      encode(
        gen.model(
          gen.graph({
            nodes: [gen.node({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] })],
            initializers: [gen.tensor({ name: 'w', dims: [-4, 2], raw: gen.floats([1]) })],
            outputs: [gen.valueInfo('y')],
          }),
        ),
      ),
    expect: 'refused',
    message: /negative dimension/,
  },
  "names that are Object.prototype's own, as operators and tensors": {
    // An op_type `__proto__` once made the MACs stage look up Object.prototype as a rule and throw.
    make: () => {
      const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
      const nodes = names.map((op, i) =>
        gen.node({
          op,
          inputs: [i === 0 ? 'x' : names[i - 1]!, '__proto__'],
          outputs: [op],
          name: `/${op}/${op}`,
        }),
      );
      nodes.push(gen.node({ op: 'MatMul', inputs: [names.at(-1)!, 'constructor.weight'], outputs: ['y'] }));
      return encode(
        gen.model(
          gen.graph({
            nodes,
            initializers: [
              gen.tensor({ name: '__proto__', dims: [2, 2] }),
              gen.tensor({ name: 'constructor.weight', dims: [2, 2] }),
            ],
            inputs: [gen.valueInfo('x', [1, 2])],
            outputs: [gen.valueInfo('y', [1, 2])],
          }),
        ),
      );
    },
    expect: 'report',
  },
  'a 1 MB layer name with every hostile character': {
    make: () => {
      const name = `<!-- paramtrace:comment-key=fuzz -->@octocat|\`\n\u202e${'<script>'.repeat(130_000)}`;
      return encode(
        gen.model(
          gen.graph({
            nodes: [gen.node({ op: 'MatMul', inputs: ['x', name], outputs: ['y'], name: `/${name}/MatMul` })],
            initializers: [gen.tensor({ name, dims: [2, 2] })],
            inputs: [gen.valueInfo('x', [1, 2])],
            outputs: [gen.valueInfo('y', [1, 2])],
          }),
        ),
      );
    },
    expect: 'report',
  },
  'a 1 MB node name among 3,000 layer calls (every text table row is padded to the widest)': {
    make: () => {
      const nodes = [];
      for (let i = 0; i < 3000; i++) {
        const name = i === 0 ? `\u001b[2J${'x'.repeat(1_000_000)}` : `r${i}`;
        nodes.push(gen.node({ op: 'Relu', inputs: [i === 0 ? 'x' : `h${i - 1}`], outputs: [`h${i}`], name }));
      }
      nodes.push(gen.node({ op: 'Identity', inputs: ['h2999'], outputs: ['y'] }));
      return encode(
        gen.model(gen.graph({ nodes, inputs: [gen.valueInfo('x')], outputs: [gen.valueInfo('y')] })),
      );
    },
    expect: 'report',
  },
};

export function named(name: string): Uint8Array {
  const c = NAMED[name];
  if (!c) throw new Error(`no named fuzz case '${name}'`);
  return c.make();
}

/** Every prefix of a small real model: truncated in every tag, length, payload and message boundary. */
export function* truncations(file = 'seed-case-1.onnx'): Generator<Job> {
  const data = new Uint8Array(readFileSync(path.join(FIXTURES, file)));
  for (let at = 0; at < data.length; at++) {
    yield { kind: 'bytes', bytes: data.slice(0, at), label: `${file} truncated at ${at} of ${data.length}` };
  }
}

export function* generated(seed: number, count: number, heavy: boolean, from = 0): Generator<Job> {
  for (let index = from; index < from + count; index++) yield { kind: 'generated', seed, index, heavy };
}

/**
 * Every crash found so far, as jobs: `NAME.onnx` holds the input's bytes; a `NAME.json` with
 * `regenerate: true` holds the seed and index of an input too large to keep (scripts/fuzz.ts writes both).
 */
export function crashJobs(): Job[] {
  let names: string[];
  try {
    names = readdirSync(CRASHES).sort();
  } catch {
    return [];
  }
  const jobs: Job[] = [];
  for (const n of names) {
    if (n.endsWith('.onnx')) jobs.push({ kind: 'file', path: path.join(CRASHES, n) });
    else if (n.endsWith('.json')) {
      const about = JSON.parse(readFileSync(path.join(CRASHES, n), 'utf8')) as {
        regenerate?: boolean;
        job?: Job;
      };
      if (about.regenerate && about.job) jobs.push(about.job);
    }
  }
  return jobs;
}
