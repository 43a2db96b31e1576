// Runs the bundled action (`node dist/index.js`) as a child process the way a GitHub runner does: inputs
// as INPUT_* variables, the event payload in a file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the
// API at GITHUB_API_URL. Returns the exit code, the log, the outputs and the summary.
//
// Nothing reaches the network: `npm` on the PATH is a stand-in that records how the action called it and
// "installs" a wrapper around this checkout's onnxruntime-node (with stand-in native binaries for every
// platform, which the action prunes), which records the environment of the trace worker that loads it;
// `nvidia-smi` is a stand-in that shows a GPU or none.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout's onnxruntime-node, which the stand-in npm links into the tool cache. */
export const REPO_ONNXRUNTIME = fileURLToPath(
  new URL('../../node_modules/onnxruntime-node', import.meta.url),
);

export interface ActionRunOptions {
  /** The action's entry, e.g. <built dist>/index.js. */
  entry: string;
  workspace: string;
  inputs: Record<string, string>;
  eventName: string;
  event: unknown;
  repository: string;
  sha: string;
  apiUrl: string;
  /** Extra environment (RUNNER_ENVIRONMENT, RUNNER_TOOL_CACHE, ...). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The stand-in nvidia-smi lists a GPU. Default: no GPU. */
  gpu?: boolean;
  /** The stand-in npm fails for these ONNXRUNTIME_NODE_INSTALL values (`skip`, `cuda12`), or always. */
  npmFails?: 'always' | string[];
}

/** One call of the stand-in npm. */
export interface NpmCall {
  /** ONNXRUNTIME_NODE_INSTALL as npm saw it. */
  install: string;
  args: string[];
  /** npm's environment, as `env` prints it. */
  env: string;
}

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr together, in order. */
  log: string;
  outputs: Record<string, string>;
  summary: string;
  /** RUNNER_TEMP of the run (kept until cleanup()). */
  runnerTemp: string;
  npmCalls: NpmCall[];
  /** The environment of each trace worker that loaded onnxruntime-node from the tool cache. */
  workerEnvs: Record<string, string>[];
  ms: number;
  cleanup(): void;
}

/** GITHUB_OUTPUT's format: `name<<DELIM\nvalue\nDELIM\n` (and plain `name=value`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      outputs[name!] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]),
  );
}

/** The folders of onnxruntime-node 1.30.0's bin/napi-v6/, and the runner's own (the stand-in lays them out). */
export const PLATFORM_FOLDERS = [
  ...new Set([
    'darwin/arm64',
    'linux/arm64',
    'linux/x64',
    'win32/arm64',
    'win32/x64',
    `${process.platform}/${process.arch}`,
  ]),
];

/** A shell script that records its calls and, unless told to fail, "installs" the wrapper package. */
function fakeNpm(records: string, fails: ActionRunOptions['npmFails']): string {
  const failing =
    fails === 'always'
      ? 'true'
      : `case "\${ONNXRUNTIME_NODE_INSTALL:-}" in ${(fails ?? []).map((f) => `${f})`).join(' true;; ') || 'never-matches)'} true;; *) false;; esac`;
  const wrapper = `const fs = require('node:fs');
fs.writeFileSync(${JSON.stringify(records)} + '/worker-env-' + process.pid + '.json', JSON.stringify(process.env));
module.exports = require(${JSON.stringify(REPO_ONNXRUNTIME)});
`;
  return `#!/bin/bash
# Stand-in for npm in the action's tests (test/support/action-runner.ts): no network.
set -euo pipefail
n=$(ls ${JSON.stringify(records)} | grep -c '^npm-' || true)
printf '%s\n' "\${ONNXRUNTIME_NODE_INSTALL:-}" "$*" > ${JSON.stringify(records)}/npm-$n.args
env > ${JSON.stringify(records)}/npm-$n.env
if ${failing}; then
  echo "npm error code ECONNREFUSED" >&2
  echo "npm error network request to https://registry.npmjs.org/onnxruntime-node failed" >&2
  exit 1
fi
prefix=
while [ $# -gt 0 ]; do
  if [ "$1" = --prefix ]; then prefix=$2; shift; fi
  shift
done
pkg="$prefix/node_modules/onnxruntime-node"
mkdir -p "$pkg"
echo '{"name":"onnxruntime-node","version":"1.30.0","main":"index.js"}' > "$pkg/package.json"
# The real package's layout of native binaries, every platform's (the action keeps the runner's own).
for dir in ${PLATFORM_FOLDERS.join(' ')}; do
  mkdir -p "$pkg/bin/napi-v6/$dir"
  echo stand-in > "$pkg/bin/napi-v6/$dir/onnxruntime_binding.node"
done
cat > "$pkg/index.js" <<'WRAPPER'
${wrapper}WRAPPER
`;
}

function fakeNvidiaSmi(gpu: boolean): string {
  return gpu
    ? '#!/bin/sh\necho "GPU 0: NVIDIA H200 (UUID: GPU-00000000-0000-0000-0000-000000000000)"\n'
    : '#!/bin/sh\necho "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9\n';
}

function readRecords(records: string): { npmCalls: NpmCall[]; workerEnvs: Record<string, string>[] } {
  const files = existsSync(records) ? readdirSync(records).sort() : [];
  const npmCalls = files
    .filter((f) => /^npm-\d+\.args$/.test(f))
    .sort((a, b) => Number(a.slice(4, -5)) - Number(b.slice(4, -5)))
    .map((f) => {
      const [install = '', args = ''] = readFileSync(join(records, f), 'utf8').split('\n');
      return {
        install,
        args: args.split(' '),
        env: readFileSync(join(records, f.replace(/\.args$/, '.env')), 'utf8'),
      };
    });
  const workerEnvs = files
    .filter((f) => f.startsWith('worker-env-'))
    .map((f) => JSON.parse(readFileSync(join(records, f), 'utf8')) as Record<string, string>);
  return { npmCalls, workerEnvs };
}

export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const home = mkdtempSync(join(tmpdir(), 'paramtrace-runner-'));
  const runnerTemp = join(home, 'temp');
  mkdirSync(runnerTemp);
  const bin = join(home, 'bin');
  const records = join(home, 'records');
  mkdirSync(bin);
  mkdirSync(records);
  writeFileSync(join(bin, 'npm'), fakeNpm(records, options.npmFails));
  writeFileSync(join(bin, 'nvidia-smi'), fakeNvidiaSmi(options.gpu ?? false));
  chmodSync(join(bin, 'npm'), 0o755);
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  const outputFile = join(home, 'output');
  const summaryFile = join(home, 'summary.md');
  const eventFile = join(home, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(options.event));
  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.eventName,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_REPOSITORY: options.repository,
    GITHUB_SHA: options.sha,
    GITHUB_API_URL: options.apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: join(home, 'toolcache'),
    RUNNER_ENVIRONMENT: 'github-hosted',
    ...inputEnv(options.inputs),
    ...options.env,
  };
  const started = Date.now();
  const child = spawn(process.execPath, [options.entry], {
    cwd: options.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (c: Buffer) => (log += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return {
    code,
    signal,
    log,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '',
    runnerTemp,
    ...readRecords(records),
    ms: Date.now() - started,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
