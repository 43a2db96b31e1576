import { UserError } from './user-error.ts';

// Its own module so that code which only catches it does not load the (large) generated validator.

/** A report from outside this process (a file, an artifact) that cannot be read or is not a report. */
export class ReportError extends UserError {
  readonly code = 'report';
}
