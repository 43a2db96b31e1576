// The two ways a trace fails: the inputs cannot be built (the user must say more), or the run itself
// failed (unsupported operator, out of memory, timeout, crash). Both carry a one-line message. A
// TraceUsageError is an input error the user typed (an option naming no input of the model): it is never
// turned into a static fall-back.
import { UserError } from '../report/user-error.ts';

/** Inputs for the run cannot be built from the model and the options: names the input and what to set. */
export class TraceInputError extends UserError {
  readonly code: string = 'trace-input';
  constructor(message: string) {
    super(message);
    this.name = 'TraceInputError';
  }
}

/**
 * The trace options contradict the model or themselves: `--input`, `--input-file` or `--value` naming no
 * input, a value that is no number of the input's type, as many values as the shape does not hold. A usage
 * error even when the trace is optional: the user asked for something that cannot be.
 */
export class TraceUsageError extends TraceInputError {
  override readonly code = 'trace-usage';
  constructor(message: string) {
    super(message);
    this.name = 'TraceUsageError';
  }
}

export type TraceFailure =
  'timeout' | 'memory' | 'crash' | 'onnxruntime' | 'device' | 'profile-limit' | 'worker';

/** The traced run failed; `kind` says how, the message says what happened in one line. */
export class TraceError extends UserError {
  readonly code = 'trace';
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

/**
 * onnxruntime's message without its plumbing: the status-code preamble becomes `NODE_NAME:` (the
 * trace's node names say the op type when describeTraceNames has replaced them),
 * source paths with line numbers and C++ signatures go, the colour escapes of its log lines too.
 */
export function cleanOrtMessage(message: string): string {
  return message
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '')
    .replace(
      /Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message:\s*/g,
      (_, op: string, name: string) => (name ? `${name}: ` : `${op} node: `),
    )
    .replace(new RegExp(`${SOURCE_LINE.source}(?:${SIGNATURE.source}|[\\w~]+(?:\\(\\))?\\s+)?`, 'g'), '')
    .replace(new RegExp(`(^|: )${SIGNATURE.source}`, 'g'), '$1')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.\s]+$/, '');
}

/** `/onnxruntime_src/onnxruntime/core/providers/cpu/tensor/gather.cc:123 `, or just `dft.cc:539 `. */
const SOURCE_LINE = /(?:\S*\/)?[\w.-]+\.(?:cc|cpp|cxx|h|hpp):\d+\s+/;

/**
 * A C++ function signature as onnxruntime's ORT_ENFORCE prints it: return type, qualified name (maybe
 * `operator()`), parameters, `const`, a gcc `[with T = float; ...]` suffix.
 */
const SIGNATURE =
  /(?:virtual )?(?:[\w<>,*&~]+(?:::[\w<>,*&~]+)* )*[\w<>~]+(?:::[\w<>~]+)*::(?:operator\(\)|[\w~]+)\([^()]*\)(?: const)?(?: \[with [^\]]*\])?\s+/;
