// The action's entry point (bundled to dist/index.js). The only module that reads inputs with
// @actions/core and sets outputs and the job's result.
import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';
import { readRunContext } from './context.ts';
import { parseInputs } from './inputs.ts';
import { logLine, type Io } from './runner-log.ts';
import { failureMessage, failureSummary, runMode } from './dispatch.ts';
import { plainLine } from '../report/plain-line.ts';

/** The longest annotation message: GitHub shows a few thousand characters of one. */
const ANNOTATION_LIMIT = 4000;

/** A step output: one line, escaped; comment-body is Markdown, escaped by its renderer, and keeps its lines. */
function outputValue(name: string, value: string): string {
  return name === 'comment-body' ? value : plainLine(value, 8000);
}

const io: Io = {
  // Every message one line, escaped: names in it cannot start a line, add one, or hide (io.ts).
  info: (m) => core.info(logLine(m)),
  warning: (m) => core.warning(logLine(m, ANNOTATION_LIMIT)),
  notice: (m) => core.notice(logLine(m, ANNOTATION_LIMIT)),
  debug: (m) => core.debug(logLine(m)),
  group: (title, fn) => core.group(logLine(title), fn),
  async untrusted(fn) {
    // Stop the runner from acting on workflow commands (::add-mask::, ::warning::, ...) in a build's output.
    const token = randomUUID().replace(/-/g, '');
    process.stdout.write(`::stop-commands::${token}\n`);
    try {
      return await fn((chunk) => process.stdout.write(chunk));
    } finally {
      process.stdout.write(`\n::${token}::\n`);
    }
  },
};

/**
 * Credentials the runner put in this process's environment. The token is read once (into `inputs`); the
 * rest the action never uses. Removing them keeps them out of every child's environment by default. It
 * does not hide them from a build running as the same user: /proc/<pid>/environ shows the environment a
 * process started with (docs/action.md#what-the-build-can-reach).
 */
const CREDENTIALS = [
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
];

function forgetCredentials(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(env)) {
    if (key.toUpperCase() === 'INPUT_GITHUB-TOKEN' || CREDENTIALS.includes(key.toUpperCase()))
      delete env[key];
  }
}

async function main(): Promise<void> {
  let summaryPath: string | null = process.env.GITHUB_STEP_SUMMARY || null;
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    if (inputs.token) core.setSecret(inputs.token);
    // The context keeps the artifact service's token (for the HTML report) before it leaves process.env.
    const ctx = readRunContext(process.env);
    if (ctx.artifactRuntime) core.setSecret(ctx.artifactRuntime.token);
    forgetCredentials(process.env);
    summaryPath = ctx.stepSummaryPath;
    const result = await runMode(inputs, ctx, io);
    for (const [name, value] of Object.entries(result.outputs))
      core.setOutput(name, outputValue(name, value));
    if (result.failure) core.setFailed(logLine(result.failure, ANNOTATION_LIMIT));
  } catch (error) {
    const { message, annotation, internal } = failureMessage(error);
    if (internal && error instanceof Error && error.stack) core.debug(logLine(error.stack));
    failureSummary(summaryPath, message);
    core.setFailed(annotation);
  }
}

await main();
