// The one shape of an error a user should see as it is, whichever edge shows it: the CLI prints its
// message on one line and exits with `exitCode`; the action fails the step with it. Anything that is not
// a UserError reaching an edge is a bug, shown as an internal error.

export abstract class UserError extends Error {
  /** Stable, for programs and tests: what kind of problem (`model-read`, `build`, `usage`, ...). */
  abstract readonly code: string;
  /** The CLI's exit status: 2, the input or the environment is at fault (README, "Command line"). */
  readonly exitCode: number = 2;
}
