// The action's entry point (bundled to dist/index.js). The only module that reads inputs with
// @actions/core and sets outputs and the job's result.
import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';
import { readRunContext } from './context.ts';
import { parseInputs } from './inputs.ts';
import { logLine, type Io } from './io.ts';
import { failureMessage, failureSummary, runMode } from './run.ts';

const io: Io = {
  info: (m) => core.info(logLine(m)),
  warning: (m) => core.warning(m),
  notice: (m) => core.notice(m),
  debug: (m) => core.debug(logLine(m)),
  group: (title, fn) => core.group(title, fn),
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

async function main(): Promise<void> {
  let summaryPath: string | null = process.env.GITHUB_STEP_SUMMARY || null;
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    if (inputs.token) core.setSecret(inputs.token);
    const ctx = readRunContext(process.env);
    summaryPath = ctx.stepSummaryPath;
    const result = await runMode(inputs, ctx, io);
    for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value);
    if (result.failure) core.setFailed(result.failure);
  } catch (error) {
    const { message, internal } = failureMessage(error);
    if (internal && error instanceof Error && error.stack) core.debug(error.stack);
    failureSummary(summaryPath, message);
    core.setFailed(message);
  }
}

await main();
