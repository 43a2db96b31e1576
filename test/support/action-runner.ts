// Runs the bundled action (`node dist/index.js`) as a child process the way a GitHub runner does: inputs
// as INPUT_* variables, the event payload in a file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the
// API at GITHUB_API_URL. Returns the exit code, the log, the outputs and the summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  /** Extra environment (RUNNER_ENVIRONMENT, ...). */
  env?: Record<string, string>;
  timeoutMs?: number;
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

export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const home = mkdtempSync(join(tmpdir(), 'paramtrace-runner-'));
  const runnerTemp = join(home, 'temp');
  mkdirSync(runnerTemp);
  const outputFile = join(home, 'output');
  const summaryFile = join(home, 'summary.md');
  const eventFile = join(home, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(options.event));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
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
    ms: Date.now() - started,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
