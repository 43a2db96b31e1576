// How the flows talk to the runner's log: implemented with @actions/core in main.ts, with arrays in tests.
import { UserError } from '../report/user-error.ts';
import { joinedLine } from '../report/plain-line.ts';

export interface Io {
  info(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  debug(message: string): void;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
  /** Writes output of untrusted code (a build) so that the runner does not take it for workflow commands. */
  untrusted<T>(fn: (write: (chunk: Buffer) => void) => Promise<T>): Promise<T>;
}

/** What a run ends with: step outputs, and the failure message when a threshold (or the run) failed. */
export interface RunResult {
  outputs: Record<string, string>;
  failure: string | null;
}

/** An error with a message meant for the user: shown as is, without a stack. */
export class ActionError extends UserError {
  readonly code = 'action';
  override name = 'ActionError';
}

/**
 * One log line or annotation: core.info writes its text raw, and the runner takes a line that starts with
 * `::` (or holds `##[`) for a workflow command, so text that may carry model or PR names (a verdict) must
 * not start a new line. Lines are joined with ` ⏎ `; control, bidirectional and invisible characters are
 * shown as `\uXXXX` (src/report/plain-line.ts).
 */
export function logLine(message: string, max = 8000): string {
  return joinedLine(message, max);
}
