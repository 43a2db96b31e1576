// The action's onnxruntime-node install (src/action/models/install-runtime.ts): the other platforms' native
// binaries are pruned from the tool cache, an unreachable registry fails within seconds with the real npm
// (no network: loopback ports that refuse or never answer), and the failure says how to skip the install
// (PARAMTRACE_ONNXRUNTIME_DIR), which the action honours.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { tempDir } from './support/temp-dir.ts';
import {
  describeNpmFailure,
  fetchOptions,
  findNpm,
  installOnnxRuntime,
  NPM_FETCH_OPTIONS,
  ONNXRUNTIME_VERSION,
  npmErrorLines,
  PRESET_VARIABLE,
  pruneOtherPlatforms,
  runtimeDir,
} from '../src/action/models/install-runtime.ts';
import { RUNTIME_DIR_VARIABLE, Tracer } from '../src/action/models/tracing.ts';
import type { TraceInputs } from '../src/action/inputs.ts';

/** onnxruntime-node 1.30.0's native binaries, file names as published (contents: stand-ins). */
const REAL_LAYOUT: Record<string, string[]> = {
  'darwin/arm64': ['libonnxruntime.1.30.0.dylib', 'libonnxruntime.1.dylib', 'onnxruntime_binding.node'],
  'linux/arm64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'linux/x64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'win32/arm64': [
    'DirectML.dll',
    'dxcompiler.dll',
    'dxil.dll',
    'onnxruntime.dll',
    'onnxruntime_binding.node',
  ],
  'win32/x64': ['DirectML.dll', 'dxcompiler.dll', 'dxil.dll', 'onnxruntime.dll', 'onnxruntime_binding.node'],
};

/** Lays out `<prefix>/node_modules/onnxruntime-node` as npm installs it; returns the package folder. */
function layOut(prefix: string, folders: string[] = Object.keys(REAL_LAYOUT)): string {
  const pkg = join(prefix, 'node_modules', 'onnxruntime-node');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"onnxruntime-node","version":"1.30.0"}\n');
  writeFileSync(join(pkg, 'dist', 'binding.js'), '// require(`../bin/napi-v6/${platform}/${arch}/...`)\n');
  mkdirSync(join(prefix, 'node_modules', 'onnxruntime-common'), { recursive: true });
  writeFileSync(join(prefix, 'node_modules', 'onnxruntime-common', 'package.json'), '{}\n');
  for (const folder of folders) {
    const dir = join(pkg, 'bin', 'napi-v6', folder);
    mkdirSync(dir, { recursive: true });
    for (const file of REAL_LAYOUT[folder] ?? ['onnxruntime_binding.node'])
      writeFileSync(join(dir, file), `${folder}/${file}\n`);
  }
  return pkg;
}

/** Every file and folder under `dir`, relative, sorted (symbolic links are listed, not followed). */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split('\\').join('/')).sort();
}

describe('onnxruntime-node install: only the runner platform', () => {
  it("keeps the runner's platform and removes the others' folders, nothing else", (t) => {
    const prefix = tempDir(t, 'paramtrace-prune-');
    const pkg = layOut(prefix);
    // Things it does not recognize stay: an unknown arch, a folder that is not a platform, other files.
    mkdirSync(join(pkg, 'bin', 'napi-v6', 'linux', 'x64-musl'));
    mkdirSync(join(pkg, 'bin', 'napi-v6', 'win32', 'notes'));
    mkdirSync(join(pkg, 'bin', 'napi-v6', 'not-a-platform', 'arm64'), { recursive: true });
    writeFileSync(join(pkg, 'bin', 'README'), 'x\n');

    const result = pruneOtherPlatforms(prefix, { platform: 'linux', arch: 'x64' });
    assert.deepEqual(result.kept, ['bin/napi-v6/linux/x64']);
    assert.deepEqual(result.removed, [
      'bin/napi-v6/darwin/arm64',
      'bin/napi-v6/linux/arm64',
      'bin/napi-v6/win32/arm64',
      'bin/napi-v6/win32/x64',
    ]);
    assert.deepEqual(tree(join(pkg, 'bin')), [
      'README',
      'napi-v6',
      'napi-v6/linux',
      'napi-v6/linux/x64',
      'napi-v6/linux/x64-musl',
      'napi-v6/linux/x64/libonnxruntime.so.1',
      'napi-v6/linux/x64/onnxruntime_binding.node',
      'napi-v6/not-a-platform',
      'napi-v6/not-a-platform/arm64',
      'napi-v6/win32', // kept: it holds a folder that is no architecture
      'napi-v6/win32/notes',
    ]);
    // The rest of the package and its dependencies are untouched.
    assert.ok(existsSync(join(pkg, 'dist', 'binding.js')));
    assert.ok(existsSync(join(prefix, 'node_modules', 'onnxruntime-common', 'package.json')));
  });

  it('keeps whichever platform the runner is (darwin/arm64, win32/x64)', (t) => {
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['win32', 'x64'],
    ] as const) {
      const prefix = tempDir(t, 'paramtrace-prune-');
      const pkg = layOut(prefix);
      const result = pruneOtherPlatforms(prefix, { platform, arch });
      assert.deepEqual(result.kept, [`bin/napi-v6/${platform}/${arch}`]);
      assert.deepEqual(readdirSync(join(pkg, 'bin', 'napi-v6')), [platform]);
      assert.deepEqual(readdirSync(join(pkg, 'bin', 'napi-v6', platform)), [arch]);
      assert.deepEqual(
        readdirSync(join(pkg, 'bin', 'napi-v6', platform, arch)).sort(),
        [...REAL_LAYOUT[`${platform}/${arch}`]!].sort(),
      );
    }
  });

  it('follows no symbolic link out of the package', (t) => {
    const outside = tempDir(t, 'paramtrace-outside-');
    for (const d of ['x64', 'lib']) {
      mkdirSync(join(outside, d), { recursive: true });
      writeFileSync(join(outside, d, 'precious'), 'keep me\n');
    }
    const before = tree(outside);

    // A link inside another platform's folder: the link goes with the folder, its target stays.
    const a = tempDir(t, 'paramtrace-prune-');
    const pkgA = layOut(a);
    symlinkSync(join(outside, 'lib'), join(pkgA, 'bin', 'napi-v6', 'win32', 'x64', 'link-out'));
    // A platform and an arch folder that are links to folders outside: not entered, not removed.
    symlinkSync(outside, join(pkgA, 'bin', 'napi-v6', 'freebsd'));
    symlinkSync(join(outside, 'x64'), join(pkgA, 'bin', 'napi-v6', 'linux', 'arm'));
    const result = pruneOtherPlatforms(a, { platform: 'linux', arch: 'x64' });
    assert.ok(result.removed.includes('bin/napi-v6/win32/x64'));
    assert.ok(!result.removed.some((r) => /freebsd|linux\/arm$/.test(r)), result.removed.join(', '));
    assert.deepEqual(readdirSync(join(pkgA, 'bin', 'napi-v6')).sort(), ['freebsd', 'linux']);
    assert.deepEqual(readdirSync(join(pkgA, 'bin', 'napi-v6', 'linux')).sort(), ['arm', 'x64']);
    assert.deepEqual(tree(outside), before);

    // A link on the way to the binaries (bin, the package, node_modules): nothing is removed.
    for (const linked of ['bin', 'pkg', 'node_modules'] as const) {
      const real = tempDir(t, 'paramtrace-real-');
      const realPkg = layOut(real);
      const prefix = tempDir(t, 'paramtrace-prune-');
      if (linked === 'node_modules') {
        symlinkSync(join(real, 'node_modules'), join(prefix, 'node_modules'));
      } else {
        mkdirSync(join(prefix, 'node_modules', 'onnxruntime-node'), { recursive: true });
        if (linked === 'pkg') {
          rmSync(join(prefix, 'node_modules', 'onnxruntime-node'), { recursive: true });
          symlinkSync(realPkg, join(prefix, 'node_modules', 'onnxruntime-node'));
        } else {
          symlinkSync(join(realPkg, 'bin'), join(prefix, 'node_modules', 'onnxruntime-node', 'bin'));
        }
      }
      const realBefore = tree(real);
      assert.deepEqual(pruneOtherPlatforms(prefix, { platform: 'linux', arch: 'x64' }), {
        removed: [],
        kept: [],
      });
      assert.deepEqual(tree(real), realBefore, `a linked ${linked} is not followed`);
    }
  });

  it('fails, removing nothing, when the package has no binding for the runner', (t) => {
    const prefix = tempDir(t, 'paramtrace-prune-');
    const pkg = layOut(prefix);
    const before = tree(pkg);
    assert.throws(
      () => pruneOtherPlatforms(prefix, { platform: 'linux', arch: 's390x' }),
      /onnxruntime-node has no native binding for this runner \(linux\/s390x\): .*napi-v6\/linux\/s390x\/onnxruntime_binding\.node is missing \(it has binaries for darwin\/arm64, linux\/arm64, linux\/x64, win32\/arm64, win32\/x64\)/,
    );
    // The folder is there but the binding is not: the same.
    rmSync(join(pkg, 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'));
    const before2 = tree(pkg);
    assert.throws(
      () => pruneOtherPlatforms(prefix, { platform: 'linux', arch: 'x64' }),
      /no native binding for this runner \(linux\/x64\)/,
    );
    assert.deepEqual(tree(pkg), before2);
    assert.notDeepEqual(before, before2);
  });

  it('leaves a package without native binaries as it is', (t) => {
    const prefix = tempDir(t, 'paramtrace-prune-');
    layOut(prefix, []);
    assert.ok(!existsSync(join(prefix, 'node_modules', 'onnxruntime-node', 'bin')));
    const before = tree(prefix);
    assert.deepEqual(pruneOtherPlatforms(prefix), { removed: [], kept: [] });
    assert.deepEqual(tree(prefix), before);
    assert.deepEqual(pruneOtherPlatforms(join(prefix, 'nothing-here')), { removed: [], kept: [] });
  });

  it('installs into the tool cache with only the runner platform, or not at all', async (t) => {
    const cache = tempDir(t, 'paramtrace-toolcache-');
    const npm = async (args: string[]) => {
      layOut(args[args.indexOf('--prefix') + 1]!);
    };
    const logs: string[] = [];
    const dir = await installOnnxRuntime({
      device: 'cpu',
      toolCache: cache,
      env: {},
      npm,
      platform: { platform: 'linux', arch: 'arm64' },
      log: (m) => logs.push(m),
    });
    assert.equal(dir, runtimeDir(cache, 'cpu'));
    const napi = join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    assert.deepEqual(tree(napi), [
      'linux',
      'linux/arm64',
      'linux/arm64/libonnxruntime.so.1',
      'linux/arm64/onnxruntime_binding.node',
    ]);
    assert.ok(existsSync(join(dir, '.paramtrace-complete')));
    assert.match(logs.join('\n'), /kept the native binaries for bin\/napi-v6\/linux\/arm64, removed 4 other/);

    // The runner's platform is missing: nothing lands in the tool cache, not even a partial folder.
    await assert.rejects(
      installOnnxRuntime({
        device: 'cuda',
        toolCache: cache,
        env: {},
        npm,
        platform: { platform: 'freebsd', arch: 'x64' },
      }),
      /no native binding for this runner \(freebsd\/x64\)/,
    );
    assert.deepEqual(readdirSync(join(cache, 'paramtrace-ort')), ['1.30.0-cpu']);
  });
});

describe('onnxruntime-node install: a tool cache restored by actions/cache', () => {
  const linux = { platform: 'linux', arch: 'x64' };
  const noNpm = async () => assert.fail('npm ran although the runtime was restored');

  /** What actions/cache does between two jobs: tar the path on one runner, untar it on a fresh one. */
  function carry(fromToolCache: string, toToolCache: string): void {
    mkdirSync(toToolCache, { recursive: true });
    const archive = join(fromToolCache, '..', 'cache.tar');
    execFileSync('tar', ['-cf', archive, '-C', fromToolCache, 'paramtrace-ort']);
    execFileSync('tar', ['-xf', archive, '-C', toToolCache]);
  }

  it('a restored folder is used as it is, in a tool cache at another path: npm does not run', async (t) => {
    const root = tempDir(t, 'paramtrace-restore-');
    const first = join(root, 'job-1', 'toolcache');
    let installs = 0;
    const npm = async (args: string[]) => {
      installs++;
      layOut(args[args.indexOf('--prefix') + 1]!);
    };
    const installed = await installOnnxRuntime({
      device: 'cpu',
      toolCache: first,
      env: {},
      npm,
      platform: linux,
    });
    assert.equal(installs, 1);

    const second = join(root, 'job-2', 'hostedtoolcache');
    carry(first, second);
    const logs: string[] = [];
    const dir = await installOnnxRuntime({
      device: 'cpu',
      toolCache: second,
      env: {},
      npm: noNpm,
      platform: linux,
      log: (m) => logs.push(m),
    });
    assert.equal(dir, runtimeDir(second, 'cpu'));
    assert.deepEqual(tree(dir), tree(installed), 'the restored files, pruned as installed');
    assert.deepEqual(logs, [`onnxruntime-node 1.30.0 (cpu) from the cache: ${dir}`]);
    // The CUDA flavour is another folder: a CPU cache does not stand in for it.
    await assert.rejects(
      installOnnxRuntime({ device: 'cuda', toolCache: second, env: {}, npm: noNpm, platform: linux }),
      /npm ran although/,
    );
  });

  it('a restored folder without the marker (a copy cut short) is replaced by a fresh install', async (t) => {
    const cache = tempDir(t, 'paramtrace-restore-');
    const dir = runtimeDir(cache, 'cpu');
    layOut(dir, ['linux/x64']);
    writeFileSync(join(dir, 'node_modules', 'onnxruntime-node', 'stale.txt'), 'left over\n');
    let installs = 0;
    const logs: string[] = [];
    const got = await installOnnxRuntime({
      device: 'cpu',
      toolCache: cache,
      env: {},
      npm: async (args) => {
        installs++;
        layOut(args[args.indexOf('--prefix') + 1]!);
      },
      platform: linux,
      log: (m) => logs.push(m),
    });
    assert.equal(got, dir);
    assert.equal(installs, 1);
    assert.ok(existsSync(join(dir, '.paramtrace-complete')));
    assert.ok(
      !existsSync(join(dir, 'node_modules', 'onnxruntime-node', 'stale.txt')),
      'the old copy is gone',
    );
    assert.match(logs.join('\n'), /has no \.paramtrace-complete marker, so it is not a finished install/);
    assert.deepEqual(readdirSync(join(cache, 'paramtrace-ort')), ['1.30.0-cpu']);
  });

  it('the documented cache step saves exactly that folder, keyed on the pinned version and the runner', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    assert.equal(dirname(runtimeDir('/T', 'cpu')), '/T/paramtrace-ort');
    assert.equal(dirname(runtimeDir('/T', 'cuda')), '/T/paramtrace-ort');
    let steps = 0;
    for (const file of ['README.md', 'docs/action.md', '.github/workflows/paramtrace-selftest.yml']) {
      const lines = readFileSync(join(root, file), 'utf8').split('\n');
      lines.forEach((line, n) => {
        if (!/uses:\s*actions\/cache@/.test(line)) return;
        const step = lines.slice(n + 1, n + 5).join('\n');
        assert.match(step, /path: \$\{\{ runner\.tool_cache \}\}\/paramtrace-ort\n/, `${file}:${n + 1}`);
        // A new pinned version must change the key: actions/cache never saves over a key it restored.
        assert.ok(
          step.includes(`key: paramtrace-ort-${ONNXRUNTIME_VERSION}-\${{ runner.os }}-\${{ runner.arch }}`),
          `${file}:${n + 1}: the key must name onnxruntime-node ${ONNXRUNTIME_VERSION}\n${step}`,
        );
        steps++;
      });
    }
    assert.ok(steps >= 3, `only ${steps} cache steps found`);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback server that accepts connections and never answers; counts them. */
async function silentServer(t: TestContext): Promise<{ port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, connections: () => sockets.length };
}

/** The real npm, against `registry`, with an empty cache and no user configuration. */
async function installAgainst(t: TestContext, registry: string) {
  const home = tempDir(t, 'paramtrace-npm-');
  mkdirSync(join(home, 'cache'));
  writeFileSync(join(home, 'npmrc'), '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    npm_config_cache: join(home, 'cache'),
    npm_config_userconfig: join(home, 'npmrc'),
    npm_config_registry: registry,
    npm_config_update_notifier: 'false',
    NO_PROXY: '*',
  };
  const cache = join(home, 'toolcache');
  const logs: string[] = [];
  const started = Date.now();
  const error = await installOnnxRuntime({
    device: 'cpu',
    toolCache: cache,
    env,
    log: (m) => logs.push(m),
  }).then(
    () => assert.fail('the install succeeded without a registry'),
    (e: unknown) => e as Error,
  );
  const seconds = (Date.now() - started) / 1000;
  // Nothing is left in the tool cache: the next run tries again.
  assert.deepEqual(readdirSync(join(cache, 'paramtrace-ort')), []);
  return { error, seconds, logs };
}

// The failure the action reported took about 74 s with npm's defaults (2 retries, 10 s to 60 s apart,
// 5 min per request); the bounds check that it gives up early, not how fast the machine is. A refused
// connection fails in about 2 s; a silent registry in about 21 s (two 10 s timeouts, 1 s apart).
const REFUSED_BOUND_S = 30;
const SILENT_BOUND_S = 45;
/** Without the short timeouts npm would wait minutes: fail the test instead of hanging. */
const TEST_TIMEOUT_MS = 120_000;

describe('onnxruntime-node install: fails fast without a registry', { concurrency: true }, () => {
  const npmMissing = findNpm(process.env) === undefined ? 'no npm on the PATH' : false;

  it(
    'a registry that refuses the connection: fails in seconds, saying which and how to skip the install',
    { skip: npmMissing, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const port = await closedPort();
      const registry = `http://127.0.0.1:${port}/`;
      const { error, seconds, logs } = await installAgainst(t, registry);
      assert.match(
        error.message,
        new RegExp(
          `^npm install onnxruntime-node@1\\.30\\.0 failed: cannot reach the npm registry http://127\\.0\\.0\\.1:${port}/ \\(ECONNREFUSED\\); to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR \\(docs/action\\.md#tracing\\)\\. npm: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`,
        ),
      );
      assert.doesNotMatch(error.message, /\n|\s+at |A complete log/, 'no stack, no log path');
      assert.ok(seconds < REFUSED_BOUND_S, `gave up after ${seconds.toFixed(1)} s`);
      assert.match(logs.join('\n'), /npm's output:\n[^]*ECONNREFUSED/, "npm's own output is in the log");
    },
  );

  it(
    'a registry that accepts and never answers: one retry, then fails in about 20 s',
    { skip: npmMissing, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const server = await silentServer(t);
      const registry = `http://127.0.0.1:${server.port}/`;
      const { error, seconds } = await installAgainst(t, registry);
      assert.match(
        error.message,
        new RegExp(
          `^npm install onnxruntime-node@1\\.30\\.0 failed: cannot reach the npm registry http://127\\.0\\.0\\.1:${server.port}/ \\(FETCH_ERROR\\); to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR .*npm: network timeout at: http://127\\.0\\.0\\.1:${server.port}/onnxruntime-node`,
        ),
      );
      assert.ok(seconds < SILENT_BOUND_S, `gave up after ${seconds.toFixed(1)} s`);
      assert.equal(server.connections(), 2, 'the request and one retry');
    },
  );

  it('passes npm the short timeouts and one retry', async (t) => {
    const cache = tempDir(t, 'paramtrace-toolcache-');
    let seen: string[] = [];
    await installOnnxRuntime({
      device: 'cpu',
      toolCache: cache,
      env: {},
      npm: async (args) => {
        seen = args;
        layOut(args[args.indexOf('--prefix') + 1]!, []);
      },
    });
    for (const option of [
      '--fetch-timeout=10000',
      '--fetch-retries=1',
      '--fetch-retry-mintimeout=1000',
      '--fetch-retry-maxtimeout=5000',
    ])
      assert.ok(seen.includes(option), `${option} in ${seen.join(' ')}`);
    assert.deepEqual([...NPM_FETCH_OPTIONS].sort(), seen.filter((a) => a.startsWith('--fetch-')).sort());
    assert.equal(seen.at(-1), 'onnxruntime-node@1.30.0');
    // A setting in npm's environment is the user's: not overridden.
    assert.deepEqual(fetchOptions({ NPM_CONFIG_FETCH_TIMEOUT: '60000', npm_config_fetch_retries: '3' }), [
      '--fetch-retry-mintimeout=1000',
      '--fetch-retry-maxtimeout=5000',
    ]);
  });
});

describe('onnxruntime-node install: what a failure says', () => {
  const ARGS = ['install', '--no-save', '--prefix', '/tmp/x', 'onnxruntime-node@1.30.0'];

  it("names the registry, the code and the way around it, then npm's message without its stack", () => {
    // What the stand-in npm of the action's tests prints.
    const stub =
      'npm error code ECONNREFUSED\nnpm error network request to https://registry.npmjs.org/onnxruntime-node failed\n';
    const message = describeNpmFailure(ARGS, { stderr: stub, code: 1, message: 'Command failed' }, {});
    assert.equal(
      message,
      'npm install onnxruntime-node@1.30.0 failed: cannot reach the npm registry https://registry.npmjs.org/ (ECONNREFUSED); to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR (docs/action.md#tracing). npm: network request to https://registry.npmjs.org/onnxruntime-node failed',
    );
    // What the footer and the warning of the comment show of it (test/action-e2e.test.ts).
    const why = `onnxruntime-node 1.30.0 could not be installed: ${message}`;
    assert.match(
      why,
      /onnxruntime-node 1\.30\.0 could not be installed: npm install onnxruntime-node@.?1\.30\.0 failed/,
    );
    assert.ok(why.indexOf('PARAMTRACE_ONNXRUNTIME_DIR') < 300, 'the way around it is within the warning');
    // A registry set in npm's environment is named as set.
    assert.match(
      describeNpmFailure(
        ARGS,
        { stderr: stub, code: 1, message: '' },
        { NPM_CONFIG_REGISTRY: 'https://npm.example/api/npm/' },
      ),
      /cannot reach the npm registry https:\/\/npm\.example\/api\/npm\/ \(ECONNREFUSED\)/,
    );
  });

  it('says it when npm was stopped, and when it failed for another reason', () => {
    assert.match(
      describeNpmFailure(
        ARGS,
        { stderr: '', killed: true, signal: 'SIGTERM', message: 'Command failed' },
        {},
      ),
      /^npm install onnxruntime-node@1\.30\.0 failed: npm did not finish within 15 min and was stopped; to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR/,
    );
    const notFound =
      'npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/onnxruntime-node - Not found\nnpm error A complete log of this run can be found in: /x.log\n';
    assert.equal(
      describeNpmFailure(ARGS, { stderr: notFound, code: 1, message: '' }, {}),
      'npm install onnxruntime-node@1.30.0 failed (exit 1); to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR (docs/action.md#tracing). npm: 404 Not Found - GET https://registry.npmjs.org/onnxruntime-node - Not found',
    );
  });

  it("reads npm's error lines without the stack and the error object", () => {
    const stderr = [
      'npm error code ECONNREFUSED',
      'npm error syscall connect',
      'npm error errno ECONNREFUSED',
      'npm error FetchError: request to http://127.0.0.1:9/onnxruntime-node failed, reason: connect ECONNREFUSED 127.0.0.1:9',
      'npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/node_modules/minipass-fetch/lib/index.js:130:14)',
      'npm error     at ClientRequest.emit (node:events:524:28) {',
      "npm error   code: 'ECONNREFUSED',",
      'npm error   port: 9,',
      'npm error }',
      'npm error',
      "npm error If you are behind a proxy, please make sure that the 'proxy' config is set properly.  See: 'npm help config'",
      'npm error A complete log of this run can be found in: /tmp/cache/_logs/x-debug-0.log',
    ].join('\n');
    assert.deepEqual(npmErrorLines(stderr), {
      code: 'ECONNREFUSED',
      lines: [
        'FetchError: request to http://127.0.0.1:9/onnxruntime-node failed, reason: connect ECONNREFUSED 127.0.0.1:9',
      ],
    });
    // No `npm error` lines (a postinstall script's output): the last lines as they are.
    assert.deepEqual(npmErrorLines('downloading...\n\nError: unzip failed\n'), {
      lines: ['downloading...', 'Error: unzip failed'],
    });
  });
});

describe('onnxruntime-node install: PARAMTRACE_ONNXRUNTIME_DIR', () => {
  const trace = (over: Partial<TraceInputs> = {}): TraceInputs => ({
    enabled: true,
    required: false,
    device: 'cpu',
    inputShapes: {},
    dims: {},
    inputFiles: {},
    inputValues: {},
    timeoutSeconds: 60,
    ...over,
  });
  const io = (said: string[]) => ({
    info: (m: string) => said.push(m),
    warning: (m: string) => said.push(`warning: ${m}`),
    notice() {},
    debug() {},
    group: <T>(_title: string, fn: () => Promise<T>) => fn(),
    untrusted: <T>(fn: (write: (chunk: Buffer) => void) => Promise<T>) => fn(() => {}),
  });

  it('is the variable the trace worker loads onnxruntime-node from', () => {
    assert.equal(PRESET_VARIABLE, RUNTIME_DIR_VARIABLE);
    const build = readFileSync(fileURLToPath(new URL('../scripts/build-dist.mjs', import.meta.url)), 'utf8');
    assert.match(build, /process\.env\.PARAMTRACE_ONNXRUNTIME_DIR/);
  });

  it('set by the user: the action installs nothing and the worker loads it from there', async () => {
    const said: string[] = [];
    const tracer = new Tracer(
      {
        trace: trace({ required: true }),
        workspace: fileURLToPath(new URL('..', import.meta.url)),
        toolCache: '/nonexistent/tool-cache',
        env: { PATH: '/bin', PARAMTRACE_ONNXRUNTIME_DIR: '/opt/ort' },
        io: io(said),
      },
      { install: () => assert.fail('installed although PARAMTRACE_ONNXRUNTIME_DIR is set') },
    );
    const plan = await tracer.plan();
    assert.notEqual(plan.options, false);
    assert.equal(plan.env.PARAMTRACE_ONNXRUNTIME_DIR, '/opt/ort');
    assert.match(
      said.join('\n'),
      /onnxruntime-node from PARAMTRACE_ONNXRUNTIME_DIR=\/opt\/ort \(not installing one\)/,
    );
  });

  it('a failed install says how to set it, in the warning and the footer', async () => {
    const said: string[] = [];
    const tracer = new Tracer(
      {
        trace: trace(),
        workspace: fileURLToPath(new URL('..', import.meta.url)),
        toolCache: '/nonexistent/tool-cache',
        env: { PATH: '/bin' },
        io: io(said),
      },
      {
        install: () =>
          Promise.reject(
            new Error(
              describeNpmFailure(
                ['install', 'onnxruntime-node@1.30.0'],
                {
                  stderr:
                    'npm error code ENOTFOUND\nnpm error request to https://registry.npmjs.org/onnxruntime-node failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org\n',
                  code: 1,
                  message: '',
                },
                {},
              ),
            ),
          ),
      },
    );
    const plan = await tracer.plan();
    assert.equal(plan.options, false);
    assert.match(
      plan.unavailable!,
      /^onnxruntime-node 1\.30\.0 could not be installed: npm install onnxruntime-node@1\.30\.0 failed: cannot reach the npm registry https:\/\/registry\.npmjs\.org\/ \(ENOTFOUND\); to skip the install, pre-install onnxruntime-node and set PARAMTRACE_ONNXRUNTIME_DIR/,
    );
    assert.match(
      said.join('\n'),
      /^warning: paramtrace: onnxruntime-node 1\.30\.0 could not be installed: .*PARAMTRACE_ONNXRUNTIME_DIR.*analyzed statically\.$/m,
    );
  });
});
