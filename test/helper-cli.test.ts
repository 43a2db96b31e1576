// The helper's command line, as a build step runs it: `python3 python/paramtrace_torch.py --model
// package.module:factory --input SHAPE[:DTYPE] -o model.onnx`. A good spec writes a faithful file with the
// manifest; a bad one exits 2 with one line on stderr and no traceback. Then its Python API (export() and the
// rest), claim by claim of python/README.md (torch_truth.py --api). Every test runs in both PyTorch worlds
// (test/support/pythons.ts): Debian's 1.13 and the 2.x venv; a missing world is skipped, or fails under CI.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { ENVS, HELPER, ROOT, type TorchEnv } from './support/torch-truth.ts';

const work = mkdtempSync(join(tmpdir(), 'paramtrace-helper-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The helper's CLI, run from the repository root (so that `test.support.torch_models` resolves there). */
function cli(env: TorchEnv, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(env.python, [HELPER, ...args], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const MODELS = 'test.support.torch_models';

/** How the helper's one line names its route on each version: TorchScript on both (see python/README.md). */
const ROUTE_LINE = {
  torch1: 'torchscript exporter (the only one before PyTorch 2.5), opset 14',
  torch2: 'torchscript exporter (the faithful default, see exportSettings.exporterReason), opset 20',
} as const;

const BAD: [string, string[], RegExp][] = [
  [
    'no colon in --model',
    ['--model', 'nocolon', '--input', '1x1x16x16', '-o', 'x.onnx'],
    /bad --model 'nocolon': expected package\.module:factory$/,
  ],
  [
    'an unknown factory',
    ['--model', `${MODELS}:NoSuchFactory`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /'test\.support\.torch_models' has no attribute 'NoSuchFactory'$/,
  ],
  [
    'an unknown module',
    ['--model', 'no_such_module_xyz:make', '--input', '1x1x16x16', '-o', 'x.onnx'],
    /cannot import 'no_such_module_xyz': ModuleNotFoundError: /,
  ],
  [
    'a factory that is not callable',
    ['--model', `${MODELS}:MODELS`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /is not callable$/,
  ],
  [
    'a factory that returns no module',
    ['--model', `${MODELS}:_seed_input`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /returned tuple, not a torch\.nn\.Module$/,
  ],
  [
    'a malformed --input',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1xx16', '-o', 'x.onnx'],
    /bad --input '1xx16': expected dimensions like 1x3x224x224/,
  ],
  [
    'an unknown input dtype',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16:complex', '-o', 'x.onnx'],
    /bad --input '1x1x16x16:complex': unknown dtype 'complex'/,
  ],
  ['no -o', ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16'], /-o\/--output is required/],
  ['no --model', ['--input', '1x1x16x16', '-o', 'x.onnx'], /the following arguments are required: --model$/],
  [
    'an input the model rejects',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1x3x16x16', '-o', join(work, 'bad.onnx')],
    /torch\.onnx\.export failed: RuntimeError: .*expected input\[1, 3, 16, 16\] to have 1 channels/,
  ],
];

for (const env of ENVS) {
  test(`${env.label} CLI: a factory from test/support/torch_models.py exports seed case 3 with its manifest`, async (t) => {
    if (!env.ready(t)) return;
    const out = join(work, 'seed3.onnx');
    const r = await cli(env, ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${out}: SeedCase3, 18 declared parameters in 2 tensors, ${ROUTE_LINE[env.world.id]}\n`,
    );
    assert.ok(!/Traceback/.test(r.stderr), r.stderr);
    assert.ok(
      !/DeprecationWarning/.test(r.stderr),
      `the TorchScript route's deprecation warning is silenced:\n${r.stderr}`,
    );

    const report = await analyzeFile(out);
    assert.equal(report.source, 'manifest');
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls]),
      [['conv1.weight', 2]],
    );
    assert.deepEqual(
      report.unused.map((u) => [u.name, u.reason, u.numel]),
      [['conv2.weight', 'not-exported', 9]],
    );
  });

  test(`${env.label} CLI: an integer input (tokens) and a tied embedding`, async (t) => {
    if (!env.ready(t)) return;
    const out = join(work, 'tied.onnx');
    const r = await cli(env, ['--model', `${MODELS}:TiedEmbedding`, '--input', '1x8:int64', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: TiedEmbedding, 1,700 declared parameters in 2 tensors, /);
    const report = await analyzeFile(out);
    assert.deepEqual(
      report.parameters.map((p) => [p.name, p.aliases, p.storedAs]),
      [
        ['emb.weight', ['head.weight'], ['emb.weight']],
        ['head.bias', [], ['head.bias']],
      ],
    );
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls]),
      [['emb.weight', 2]],
    );
  });

  test(`${env.label} CLI: --manifest-only prints the manifest JSON`, async (t) => {
    if (!env.ready(t)) return;
    const r = await cli(env, ['--model', `${MODELS}:SeedCase3`, '--manifest-only']);
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(r.stdout) as {
      format: string;
      tensors: { name: string; numel: number; kind: string }[];
    };
    assert.equal(manifest.format, 'paramtrace.manifest/1');
    assert.deepEqual(
      manifest.tensors.map((x) => [x.name, x.kind, x.numel]),
      [
        ['conv1.weight', 'parameter', 9],
        ['conv2.weight', 'parameter', 9],
      ],
    );
  });

  test(`${env.label} CLI: a bad spec exits 2 with one line on stderr and no traceback`, async (t) => {
    if (!env.ready(t)) return;
    // Two at a time: each run imports PyTorch (about 1.5 s).
    const results: Run[] = [];
    for (let i = 0; i < BAD.length; i += 2)
      results.push(...(await Promise.all(BAD.slice(i, i + 2).map(([, args]) => cli(env, args)))));
    BAD.forEach(([what, , message], i) => {
      const r = results[i]!;
      assert.equal(r.status, 2, `${what}: exit status (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
      assert.ok(!/Traceback/.test(r.stderr), `${what}: no traceback:\n${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `${what}: one line on stderr:\n${r.stderr}`);
      assert.ok(lines[0]!.startsWith('paramtrace_torch: error: '), `${what}: ${lines[0]}`);
      assert.match(lines[0]!, message, what);
    });
  });

  test(`${env.label} user story (python/README.md): seed case 3 exported with the helper, \`paramtrace analyze\` reports 18 declared, 9 unique, 18 summary-style, conv2.weight unused`, async (t) => {
    if (!env.ready(t)) return;
    // The README's command line, exactly (no exporter option: the helper picks the faithful route).
    const out = join(work, `story-${env.world.id}.onnx`);
    const r = await cli(env, ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /, torchscript exporter \(/);
    // `paramtrace analyze model.onnx --json`, as a user runs it (trace included).
    const a = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'analyze', out, '--json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(a.status, 0, a.stderr);
    const report = JSON.parse(a.stdout) as Report;
    assert.equal(report.source, 'manifest');
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls]),
      [['conv1.weight', 2]],
    );
    assert.deepEqual(
      report.unused.map((u) => [u.name, u.reason, u.numel]),
      [['conv2.weight', 'not-exported', 9]],
    );
  });

  test(`${env.label} CLI: --exporter dynamo (or --dynamo): the dynamo route on 2.x, one clear error on 1.13`, async (t) => {
    if (!env.ready(t)) return;
    const seed = join(work, `seed3-dynamo-${env.world.id}.onnx`);
    const tied = join(work, `tied-dynamo-${env.world.id}.onnx`);
    const [r, r2] = await Promise.all([
      cli(env, [
        '--model',
        `${MODELS}:SeedCase3`,
        '--input',
        '1x1x16x16',
        '-o',
        seed,
        '--exporter',
        'dynamo',
      ]),
      cli(env, ['--model', `${MODELS}:TiedEmbedding`, '--input', '1x8:int64', '-o', tied, '--dynamo']),
    ]);
    if (env.world.id === 'torch1') {
      for (const run of [r, r2]) {
        assert.equal(run.status, 2, run.stderr);
        assert.equal(run.stdout, '');
        assert.deepEqual(run.stderr.trim().split('\n'), [
          `paramtrace_torch: error: dynamo=True needs PyTorch >= 2.5 (torch.onnx.export(..., dynamo=True)); this is PyTorch ${env.torchVersion}`,
        ]);
      }
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${seed}: SeedCase3, 18 declared parameters in 2 tensors, dynamo exporter (requested), opset 20\n`,
    );
    const report = await analyzeFile(seed);
    assert.equal(report.source, 'manifest');
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
    assert.deepEqual(
      report.unused.map((u) => [u.name, u.reason, u.numel]),
      [['conv2.weight', 'not-exported', 9]],
    );
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls]),
      [['conv1.weight', 2]],
    );

    // torch.export keeps the tied weight as head.weight; the helper renames it to the canonical emb.weight.
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(
      r2.stdout,
      /: TiedEmbedding, 1,700 declared parameters in 2 tensors, dynamo exporter \(requested\), /,
    );
    const tiedReport = await analyzeFile(tied);
    assert.deepEqual(
      tiedReport.parameters.map((p) => [p.name, p.aliases, p.storedAs]),
      [
        ['emb.weight', ['head.weight'], ['emb.weight']],
        ['head.bias', [], ['head.bias']],
      ],
    );
    assert.deepEqual([tiedReport.counts.declared, tiedReport.counts.unique], [1700, 1700]);
  });

  test(`${env.label} export() and the Python API: every claim of python/README.md`, (t) => {
    if (!env.ready(t)) return;
    const r = env.runPython([join(ROOT, 'test', 'support', 'torch_truth.py'), '--api'], {
      timeoutMs: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const api = JSON.parse(r.stdout) as ApiCheck;
    const v2 = env.world.id === 'torch2';
    const opset = v2 ? 20 : 14;
    assert.equal(api.torch, env.torchVersion);

    // manifest(): each tensor once under its canonical name, the alias listed; exporter 'none', opset null.
    const m = api.manifest;
    assert.deepEqual(
      [m.format, m.exporter, m.opset, m.modelClass],
      ['paramtrace.manifest/1', 'none', null, 'TiedEmbedding'],
    );
    assert.deepEqual(
      m.tensors.map((x) => [
        x.name,
        x.aliases,
        x.kind,
        x.shape,
        x.dtype,
        x.numel,
        x.requiresGrad,
        x.module,
        x.moduleClass,
      ]),
      [
        ['emb.weight', ['head.weight'], 'parameter', [100, 16], 'float32', 1600, true, 'emb', 'Embedding'],
        ['head.bias', [], 'parameter', [100], 'float32', 100, true, 'head', 'Linear'],
      ],
    );
    for (const x of m.tensors) assert.match(x.fingerprint, /^sha256:[0-9a-f]{64}$/);

    // The route: TorchScript on both versions, and why.
    assert.equal(api.route[0], 'torchscript');
    assert.match(
      api.route[1],
      v2
        ? /^default: the TorchScript exporter \(dynamo=False\) is faithful/
        : /^the only ONNX exporter of this PyTorch/,
    );

    assert.deepEqual(api.routeTorchscript, ['torchscript', v2 ? 'dynamo=False was requested' : api.route[1]]);

    // export() to a binary file object: tied weight stored once, canonical name; read_manifest, inspect_onnx.
    assert.deepEqual(
      [api.tied.exporter, api.tied.opset, api.tied.infoOpset, api.tied.altered, api.tied.readBack],
      ['torchscript', opset, opset, [], true],
    );
    assert.deepEqual(api.tied.initializers, ['emb.weight', 'head.bias']);
    const settings = api.tied.settings;
    assert.deepEqual(
      [
        settings.do_constant_folding,
        settings.keep_initializers_as_inputs,
        settings.export_params,
        settings.training,
      ],
      [false, false, true, 'PRESERVE'],
    );
    assert.equal(settings.dynamo, v2 ? false : undefined, 'dynamo=False is passed where the argument exists');
    assert.equal(settings.exporterReason, api.route[1]);
    assert.deepEqual(settings.patches, [
      'torch._C._jit_pass_onnx_deduplicate_initializers called with is_train=True (merge only tensors sharing storage, never equal values)',
    ]);

    // attach() replaces an old manifest.
    assert.deepEqual(api.attach, { entries: 1, same: true });

    // Fresh BatchNorm: every tensor under its own name, no fusion or folding, eval-mode BN, flags restored.
    assert.deepEqual(api.freshBn.altered, []);
    assert.deepEqual(api.freshBn.initializers, [
      'conv1.weight',
      'bn1.weight',
      'bn1.bias',
      'bn1.running_mean',
      'bn1.running_var',
      'conv2.weight',
      'conv2.bias',
      'bn2.weight',
      'bn2.bias',
      'bn2.running_mean',
      'bn2.running_var',
    ]);
    assert.ok(
      api.freshBn.ops.includes('BatchNormalization') && !api.freshBn.ops.includes('Identity'),
      api.freshBn.ops.join(),
    );
    assert.deepEqual(
      api.freshBn.bn,
      [
        [0, 1],
        [0, 1],
      ],
      'training_mode=0, one output',
    );
    assert.equal(api.freshBn.trainingRestored, true);

    // A caller's unfaithful setting is stated in altered.
    assert.deepEqual(api.override, ['do_constant_folding=True was requested; the faithful setting is False']);

    // A scripted module exports with its If node and its names.
    assert.deepEqual(api.scripted, {
      exporter: 'torchscript',
      altered: [],
      modelClass: 'IfModel',
      initializers: ['a.bias', 'a.weight', 'b.bias', 'b.weight'],
      hasIf: true,
    });

    // dynamo=True: an error naming the version on 1.13; on 2.x the dynamo route, faithful on these models.
    if (!v2) {
      assert.deepEqual(api.dynamo, {
        error: `dynamo=True needs PyTorch >= 2.5 (torch.onnx.export(..., dynamo=True)); this is PyTorch ${env.torchVersion}`,
      });
    } else {
      assert.deepEqual(api.dynamo.tied, {
        exporter: 'dynamo',
        altered: [],
        reason: 'dynamo=True was requested',
        patches: ["initializer 'head.weight' renamed to its canonical name 'emb.weight' (one tied tensor)"],
        initializers: ['emb.weight', 'head.bias'],
        readBack: true,
      });
      // TorchScript-only settings are dropped and listed; no optimizer, one file, no progress lines.
      assert.deepEqual(api.dynamo.freshBn, {
        altered: [],
        initializers: 11,
        ignored: { do_constant_folding: false },
        settings: ['dynamo', 'exporterReason', 'external_data', 'ignored', 'optimize', 'patches', 'verbose'],
      });
      assert.match(
        api.dynamo.scripted ?? '',
        /the dynamo exporter cannot export a torch\.jit\.script module; leave dynamo unset/,
      );
    }

    // Without the TorchScript exporter (simulated): dynamo on 2.x, a clear error saying what to do otherwise.
    if (v2) {
      assert.equal((api.noTorchscript.auto as string[])[0], 'dynamo');
      assert.match((api.noTorchscript.auto as string[])[1]!, /no TorchScript ONNX exporter/);
      assert.match(
        api.noTorchscript.torchscript ?? '',
        /and dynamo=False was requested: use dynamo=True \(--exporter dynamo\)/,
      );
    } else {
      assert.match(
        api.noTorchscript.auto as string,
        /no TorchScript ONNX exporter .* nor the dynamo exporter: use PyTorch 1\.13 to 2\.13/,
      );
    }

    // The de-duplication patch not reached (simulated): altered says so, and shows the value merges it prevents.
    assert.match(
      api.unreached[0] ?? '',
      /^the exporter did not call torch\._C\._jit_pass_onnx_deduplicate_initializers/,
    );
    assert.ok(
      api.unreached.includes(
        "'bn1.running_var' is an Identity of initializer 'bn1.weight' (the exporter merged the two tensors)",
      ),
      api.unreached.join('\n'),
    );

    // Without PyTorch: a bad argument is still reported as such (checked before the import); then one line.
    assert.deepEqual(api.noTorch.badSpec, [
      2,
      '',
      "paramtrace_torch: error: bad --model 'nocolon': expected package.module:factory\n",
    ]);
    assert.equal(api.noTorch.goodSpec[0], 2);
    assert.match(
      api.noTorch.goodSpec[2] as string,
      /^paramtrace_torch: error: paramtrace_torch needs PyTorch, which could not be imported: [^\n]*\n$/,
    );

    // Older than 1.13 (simulated): refused, naming the version.
    assert.equal(api.old, 'RuntimeError: paramtrace_torch supports PyTorch >= 1.13; this is PyTorch 1.12.1');
  });
}

interface ApiCheck {
  torch: string;
  manifest: {
    format: string;
    exporter: string;
    opset: number | null;
    modelClass: string;
    tensors: {
      name: string;
      aliases: string[];
      kind: string;
      shape: number[];
      dtype: string;
      numel: number;
      requiresGrad: boolean;
      fingerprint: string;
      module: string;
      moduleClass: string;
    }[];
  };
  route: [string, string];
  routeTorchscript: [string, string];
  tied: {
    exporter: string;
    opset: number;
    infoOpset: number;
    altered: string[];
    readBack: boolean;
    initializers: string[];
    settings: Record<string, unknown>;
  };
  attach: { entries: number; same: boolean };
  freshBn: {
    altered: string[];
    initializers: string[];
    ops: string[];
    bn: number[][];
    trainingRestored: boolean;
  };
  override: string[];
  scripted: Record<string, unknown>;
  dynamo: {
    error?: string;
    tied?: Record<string, unknown>;
    freshBn?: Record<string, unknown>;
    scripted?: string | null;
  };
  noTorchscript: { auto: string | string[]; torchscript: string | null };
  unreached: string[];
  noTorch: { badSpec: [number, string, string]; goodSpec: [number, string, string] };
  old: string | null;
}
