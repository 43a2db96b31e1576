// Dispatch by mode, and the one place that turns an error into the message the user sees.
import { ManifestError } from '../analysis/read-manifest.ts';
import { ModelReadError } from '../onnx/read-model.ts';
import { ContextError, type RunContext } from './context.ts';
import { BuildError, GitError } from './exec.ts';
import { InputError, type ActionInputs } from './inputs.ts';
import { ActionError, type Io, type RunResult } from './io.ts';
import { runBaseline } from './mode-baseline.ts';
import { runPost } from './mode-post.ts';
import { runPr } from './mode-pr.ts';
import { ModelLocationError } from './model-file.ts';
import { appendSummary, fenced } from './summary.ts';
import { UntrustedInputError } from './untrusted/read-bundle.ts';
import { TraceError, TraceInputError } from '../trace/index.ts';

export function runMode(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  switch (inputs.mode) {
    case 'pr':
      return runPr(inputs, ctx, io);
    case 'baseline':
      return runBaseline(inputs, ctx, io);
    case 'post':
      return runPost(inputs, ctx, io);
  }
}

const KNOWN = [
  ActionError,
  InputError,
  ContextError,
  BuildError,
  GitError,
  ModelLocationError,
  ModelReadError,
  ManifestError,
  UntrustedInputError,
  TraceError,
  TraceInputError,
];

/** The message for a failed run: known failures as they are, anything else as an internal error. */
export function failureMessage(error: unknown): { message: string; internal: boolean } {
  if (KNOWN.some((k) => error instanceof k)) return { message: (error as Error).message, internal: false };
  const message = error instanceof Error ? error.message : String(error);
  return {
    message: `internal error: ${message} (please report it with this log)`,
    internal: true,
  };
}

/** The summary of a run that could not finish: the reason in a block nothing in it can break out of. */
export function failureSummary(path: string | null, message: string): void {
  try {
    appendSummary(path, `### paramtrace: ❌ could not run\n\n${fenced(message)}\n`);
  } catch {
    // the summary is a courtesy; the failure itself is reported by setFailed
  }
}
