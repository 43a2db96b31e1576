// Dispatch by mode, and the one place that turns an error into the message the user sees.
import { UserError } from '../report/user-error.ts';
import type { RunContext } from './context.ts';
import type { ActionInputs } from './inputs.ts';
import { logLine, type Io, type RunResult } from './runner-log.ts';
import { runAggregate } from './modes/aggregate.ts';
import { runBaseline } from './modes/baseline.ts';
import { runPost } from './modes/post.ts';
import { runPr } from './modes/pr.ts';
import { runPrModels } from './modes/pr-models.ts';
import { appendSummary, fenced } from './publishing/job-summary.ts';

export function runMode(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  switch (inputs.mode) {
    case 'pr':
      return inputs.models ? runPrModels(inputs, ctx, io) : runPr(inputs, ctx, io);
    case 'baseline':
      return runBaseline(inputs, ctx, io);
    case 'post':
      return runPost(inputs, ctx, io);
    case 'aggregate':
      return runAggregate(inputs, ctx, io);
  }
}

/**
 * The message for a failed run: known failures as they are, anything else as an internal error. `message`
 * may have many lines (a failed build's output) and goes to the job summary, fenced; `annotation` is the
 * same on one line, escaped, for the ::error:: annotation: its first line and the last lines of the rest.
 */
export function failureMessage(error: unknown): { message: string; annotation: string; internal: boolean } {
  const known = error instanceof UserError;
  const text = error instanceof Error ? error.message : String(error);
  const message = known ? text : `internal error: ${text} (please report it with this log)`;
  return { message, annotation: annotationLine(message), internal: !known };
}

/** Lines of a failure's detail the annotation keeps, from the end (the summary has them all). */
const ANNOTATION_TAIL_LINES = 10;

/** A failure on one line: the first line, then the last lines of the rest, joined with ` ⏎ `. */
export function annotationLine(message: string): string {
  const lines = message.split(/\r?\n/).filter((l) => l.trim() !== '');
  const kept =
    lines.length <= ANNOTATION_TAIL_LINES + 2
      ? lines
      : [lines[0]!, lines[1]!, '…', ...lines.slice(-ANNOTATION_TAIL_LINES)];
  return logLine(kept.join('\n'), 4000);
}

/** The summary of a run that could not finish: the reason in a block nothing in it can break out of. */
export function failureSummary(path: string | null, message: string): void {
  try {
    appendSummary(path, `### paramtrace: ❌ could not run\n\n${fenced(message)}\n`);
  } catch {
    // the summary is a courtesy; the failure itself is reported by setFailed
  }
}
