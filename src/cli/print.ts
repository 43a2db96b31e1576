// How the CLI prints and fails on usage, for every command: through the last-resort guard of
// src/report/plain-line.ts, and a usage error that carries its command for the help it points at.
import { plainLines } from '../report/plain-line.ts';
import { UserError } from '../report/user-error.ts';

/**
 * What the CLI prints, through the last-resort guard: a name in a report is untrusted, and the CLI may run
 * in a CI step whose log a runner reads for workflow commands. Renderers already escape the names they
 * print; here no control, bidirectional or invisible character passes raw, no line holds `##[`, and none
 * starts with `::` (src/report/plain-line.ts). JSON stays the same JSON value.
 */
export function print(text: string, options: { markdown?: boolean } = {}): void {
  process.stdout.write(plainLines(text, options));
}

export function printError(text: string): void {
  process.stderr.write(plainLines(text));
}

/** A usage problem: exit code 2 with the message and the usage of the command (all of them without one). */
export class UsageError extends UserError {
  readonly code = 'usage';
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
