// The two ways a trace fails: the inputs cannot be built (the user must say more), or the run itself
// failed (unsupported operator, out of memory, timeout, crash). Both carry a one-line message.

/** Inputs for the run cannot be built from the model and the options: names the input and what to set. */
export class TraceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceInputError';
  }
}

export type TraceFailure =
  'timeout' | 'memory' | 'crash' | 'onnxruntime' | 'device' | 'profile-limit' | 'worker';

/** The traced run failed; `kind` says how, the message says what happened in one line. */
export class TraceError extends Error {
  constructor(
    readonly kind: TraceFailure,
    message: string,
    /** The worker process, when one was started (already killed when this is thrown). */
    readonly pid?: number,
  ) {
    super(oneLine(message));
    this.name = 'TraceError';
  }
}

export function oneLine(text: string, max = Infinity): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
