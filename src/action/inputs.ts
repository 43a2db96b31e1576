// The action's inputs, parsed and checked in one place. Pure: it takes a getter (core.getInput in
// main.ts, a map in tests) and returns a typed object or throws InputError naming the input.
import { UserError } from '../report/user-error.ts';
import { parseCount, parseGrowth } from '../compare/compare.ts';
import type { Thresholds } from '../compare/comparison.ts';
import { METRICS } from '../report/lists.ts';
import { TRACE_DEVICES, type TraceDevice } from '../trace/options.ts';
import type { CommentPolicy } from '../github/comments.ts';
import { isCommentKey } from '../github/comments.ts';
import { isLogin } from '../github/identity.ts';
import { isModelList, ModelListError, parseModelList, type ModelEntry } from './models/model-list.ts';

export class InputError extends UserError {
  readonly code = 'input';
  override name = 'InputError';
}

export type Mode = 'pr' | 'baseline' | 'post' | 'aggregate';
export type Device = TraceDevice;
export type BaselinePolicy = 'auto' | 'rebuild' | 'report';
/** A base without the model file: `new` (the pull request adds the model) or `fail`. */
export type MissingBasePolicy = 'new' | 'fail';

/** How the trace stage should run (src/action/models/tracing.ts turns this into the trace stage's options). */
export interface TraceInputs {
  enabled: boolean;
  /** `trace: required`: a failed trace fails the run instead of falling back to the static report. */
  required: boolean;
  device: Device;
  /** Input name → full shape (`input-shapes`). */
  inputShapes: Record<string, number[]>;
  /** Symbolic dimension name → size (`input-dims`). */
  dims: Record<string, number>;
  /** Input name → .npy or TensorProto .pb file, relative to the workspace (`input-files`). */
  inputFiles: Record<string, string>;
  /** Input name → its values as text, parsed by the input's dtype in the trace (`input-values`). */
  inputValues: Record<string, string[]>;
  /** Wall-clock limit of one trace, in seconds. */
  timeoutSeconds: number;
}

/** The artifact name a `mode: baseline` workflow uploads (docs/action.md#baselines). */
export const DEFAULT_BASELINE_ARTIFACT = 'paramtrace-baseline';

export interface ActionInputs {
  mode: Mode;
  /** Path relative to the workspace, or an http(s) URL. Empty only in post mode. */
  model: string;
  /** `model` as a list or glob (mode pr): several models in one run, one comment. Null: one model. */
  models: ModelEntry[] | null;
  build: string;
  baseModel: string;
  baseReport: string;
  baseline: BaselinePolicy;
  missingBase: MissingBasePolicy;
  /** The artifact `baseline: auto` looks for on the base commit's runs. */
  baselineArtifact: string;
  trace: TraceInputs;
  thresholds: Thresholds;
  comment: CommentPolicy;
  commentKey: string;
  /** The login whose marked comments may be updated; empty: whoever the token acts as. */
  commentAuthor: string;
  token: string;
  allowForkOnSelfHosted: boolean;
  /** `mode: baseline` on pull_request events (refused by default: baselines are for the default branch). */
  allowBaselineOnPullRequest: boolean;
  commitStatus: boolean;
  /** Empty: the default location (RUNNER_TEMP or the workspace). */
  reportPath: string;
  /** post mode: where actions/download-artifact put the pull request run's report. */
  artifactPath: string;
  /** aggregate mode: a directory or glob of the matrix jobs' report files (relative to the workspace). */
  reports: string;
  /** aggregate mode: comment keys that must have a report; one without fails the verdict. */
  expectedKeys: string[];
  failOnApiError: boolean;
  apiTimeoutSeconds: number;
  /** Upload the HTML report as an artifact of the run and link it from the comment. */
  htmlArtifact: boolean;
}

export const DEFAULT_COMMENT_KEY = 'default';
/** The comment key of `mode: aggregate` when `comment-key` is not given. */
export const AGGREGATE_COMMENT_KEY = 'aggregate';

type Get = (name: string) => string;

function oneOf<T extends string>(get: Get, name: string, allowed: readonly T[], fallback: T): T {
  const raw = get(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new InputError(`input '${name}' must be one of ${allowed.join(', ')}; got '${raw}'`);
  }
  return raw as T;
}

export function parseBoolean(name: string, raw: string, fallback: boolean): boolean {
  const v = raw.trim();
  if (v === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  if (['false', 'False', 'FALSE'].includes(v)) return false;
  throw new InputError(`input '${name}' must be true or false; got '${v}'`);
}

/** `1500000`, `1_500_000`, `1.5M`, `200k` → a number of parameters (the CLI's parser). */
export function parseCountInput(name: string, raw: string): number {
  try {
    return parseCount(raw);
  } catch (error) {
    throw new InputError(`input '${name}': ${(error as Error).message}`);
  }
}

/** `5%` → percent; `100000` or `1.5M` → absolute number of parameters (the CLI's parser). */
export function parseGrowthInput(raw: string): Pick<Thresholds, 'maxGrowthPercent' | 'maxGrowthAbsolute'> {
  try {
    return parseGrowth(raw.trim().replace(/^\+/, ''));
  } catch (error) {
    throw new InputError(`input 'max-growth': ${(error as Error).message}`);
  }
}

/**
 * `input=1x3x224x224; mask=1x128` (separated by `;`, `,` between entries or newlines), or a JSON object
 * `{"input": [1, 3, 224, 224]}`.
 */
export function parseInputShapes(raw: string): Record<string, number[]> {
  const v = raw.trim();
  if (v === '') return {};
  const fail = (why: string): never => {
    throw new InputError(`input 'input-shapes' ${why}; expected e.g. 'input=1x3x224x224; mask=1x128'`);
  };
  const shapes: Record<string, number[]> = Object.create(null);
  const dims = (name: string, list: unknown[]): number[] =>
    list.map((d) => {
      const n = typeof d === 'string' ? Number(d) : d;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
        fail(`has a bad dimension '${String(d)}' for '${name}'`);
      return n as number;
    });
  if (v.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      fail('is not valid JSON');
    }
    for (const [name, list] of Object.entries(parsed as Record<string, unknown>)) {
      if (!Array.isArray(list)) fail(`has a non-list shape for '${name}'`);
      shapes[name] = dims(name, list as unknown[]);
    }
    return { ...shapes };
  }
  for (const entry of v.split(ENTRIES)) {
    const e = entry.trim();
    if (e === '') continue;
    const m = /^([^=\s]+)\s*=\s*\[?\s*([0-9x×,\s]*?)\s*\]?$/.exec(e);
    if (!m) fail(`has a bad entry '${e}'`);
    shapes[m![1]!] = dims(
      m![1]!,
      m![2]!.split(/\s*[x×,]\s*/).filter((d) => d !== ''),
    );
  }
  return { ...shapes };
}

/** Between entries: `;`, a new line, or a comma that starts another `name=`. */
const ENTRIES = /[;\n]+|,(?=\s*[^\s,=]+\s*=)/;

/** Splits `a=1; b=2`, `a=1, b=2` or one entry a line into [name, value] pairs. */
function assignments(input: string, raw: string, example: string): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of raw.trim().split(ENTRIES)) {
    const e = entry.trim();
    if (e === '') continue;
    const at = e.indexOf('=');
    if (at <= 0 || e.slice(0, at).trim() === '')
      throw new InputError(`input '${input}' has a bad entry '${e}'; expected e.g. '${example}'`);
    out.push([e.slice(0, at).trim(), e.slice(at + 1).trim()]);
  }
  return out;
}

/** `batch=1; seq=128`: sizes of symbolic dimensions, by dim_param name (the CLI's `--dim`). */
export function parseInputDims(raw: string): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const [name, value] of assignments('input-dims', raw, 'batch=1; seq=128')) {
    const n = Number(value);
    if (value === '' || !Number.isSafeInteger(n) || n < 0)
      throw new InputError(`input 'input-dims': '${value}' is not a dimension size for '${name}'`);
    dims[name] = n;
  }
  return dims;
}

/** `input=inputs/x.npy; mask=inputs/mask.pb`: real input values, .npy or TensorProto .pb (the CLI's `--input-file`). */
export function parseInputFiles(raw: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, value] of assignments('input-files', raw, 'input=inputs/x.npy')) {
    if (value === '') throw new InputError(`input 'input-files': no file for '${name}'`);
    files[name] = value;
  }
  return files;
}

/**
 * `sr=16000; ids=1,2,3` (the CLI's `--value`; a comma list is one input's values unless a `name=`
 * follows it), or a JSON object `{"sr": 16000, "ids": [1, 2, 3]}`.
 */
export function parseInputValues(raw: string): Record<string, string[]> {
  const v = raw.trim();
  const values: Record<string, string[]> = Object.create(null);
  const fail = (why: string): never => {
    throw new InputError(`input 'input-values' ${why}; expected e.g. 'sr=16000; ids=1,2,3'`);
  };
  if (v.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      fail('is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('is not a JSON object');
    const scalar = (name: string, x: unknown): string => {
      if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string') return String(x);
      return fail(`has a value for '${name}' that is not a number, boolean or string`);
    };
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      const list = Array.isArray(value) ? value.map((x) => scalar(name, x)) : [scalar(name, value)];
      if (list.length === 0) fail(`has no value for '${name}'`);
      values[name] = list;
    }
    return { ...values };
  }
  for (const [name, value] of assignments('input-values', raw, 'sr=16000; ids=1,2,3')) {
    const list = value.replace(/^\[(.*)\]$/s, '$1').trim();
    if (list === '') fail(`has no value for '${name}'`);
    values[name] = list.split(',').map((x) => x.trim());
  }
  return { ...values };
}

function parseTrace(get: Get): Pick<TraceInputs, 'enabled' | 'required'> {
  const raw = get('trace').trim();
  if (raw === '') return { enabled: true, required: false };
  if (raw.toLowerCase() === 'required') return { enabled: true, required: true };
  try {
    return { enabled: parseBoolean('trace', raw, true), required: false };
  } catch {
    throw new InputError(`input 'trace' must be true, false or required; got '${raw}'`);
  }
}

function parseSeconds(name: string, raw: string, fallback: number, max: number): number {
  const v = raw.trim();
  const n = v === '' ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new InputError(`input '${name}' must be a number of seconds between 0 and ${max}; got '${v}'`);
  }
  return n;
}

export function parseInputs(get: Get): ActionInputs {
  const mode = oneOf<Mode>(get, 'mode', ['pr', 'baseline', 'post', 'aggregate'], 'pr');
  const model = get('model').trim();
  if ((mode === 'pr' || mode === 'baseline') && model === '')
    throw new InputError(`input 'model' is required in mode '${mode}'`);
  const commentAuthor = get('comment-author').trim();
  if (commentAuthor && !isLogin(commentAuthor)) {
    throw new InputError(
      `input 'comment-author' must be a GitHub login such as 'my-app[bot]' or 'octocat'; got '${commentAuthor}'`,
    );
  }
  const commentKey =
    get('comment-key').trim() || (mode === 'aggregate' ? AGGREGATE_COMMENT_KEY : DEFAULT_COMMENT_KEY);
  if (!isCommentKey(commentKey)) {
    throw new InputError(
      `input 'comment-key' must be letters, digits, '.', '_', '-' or '/' (at most 100, no '--'); got '${commentKey}'`,
    );
  }
  const maxParams = get('max-params').trim();
  const apiTimeoutSeconds = parseSeconds('api-timeout', get('api-timeout'), 30, 600);
  const baselineArtifact = get('baseline-artifact').trim() || DEFAULT_BASELINE_ARTIFACT;
  if (!/^[^"<>:|*?\\/\r\n]{1,200}$/.test(baselineArtifact)) {
    throw new InputError(`input 'baseline-artifact' is not an artifact name: '${baselineArtifact}'`);
  }
  const thresholds: Thresholds = {
    ...parseGrowthInput(get('max-growth')),
    ...(maxParams === '' ? {} : { maxParams: parseCountInput('max-params', maxParams) }),
    failOnNewShared: parseBoolean('fail-on-new-shared', get('fail-on-new-shared'), false),
    failOnNewUnused: parseBoolean('fail-on-new-unused', get('fail-on-new-unused'), false),
    metric: oneOf(get, 'metric', METRICS, 'unique'),
  };
  const inputs: ActionInputs = {
    mode,
    model,
    models: isModelList(model) ? modelList(mode, model) : null,
    build: get('build').trim(),
    baseModel: get('base-model').trim(),
    baseReport: get('base-report').trim(),
    baseline: oneOf<BaselinePolicy>(get, 'baseline', ['auto', 'rebuild', 'report'], 'auto'),
    missingBase: oneOf<MissingBasePolicy>(get, 'missing-base', ['new', 'fail'], 'new'),
    baselineArtifact,
    trace: {
      ...parseTrace(get),
      device: oneOf(get, 'device', TRACE_DEVICES, 'auto'),
      inputShapes: parseInputShapes(get('input-shapes')),
      dims: parseInputDims(get('input-dims')),
      inputFiles: parseInputFiles(get('input-files')),
      inputValues: parseInputValues(get('input-values')),
      timeoutSeconds: parseSeconds('trace-timeout', get('trace-timeout'), 120, 3600),
    },
    thresholds,
    comment: oneOf<CommentPolicy>(get, 'comment', ['always', 'on-change', 'never'], 'always'),
    commentKey,
    commentAuthor,
    token: get('github-token').trim(),
    allowForkOnSelfHosted: parseBoolean('allow-fork-on-self-hosted', get('allow-fork-on-self-hosted'), false),
    allowBaselineOnPullRequest: parseBoolean(
      'allow-baseline-on-pull-request',
      get('allow-baseline-on-pull-request'),
      false,
    ),
    commitStatus: parseBoolean('commit-status', get('commit-status'), false),
    reportPath: get('report-path').trim(),
    artifactPath: get('artifact-path').trim(),
    reports: get('reports').trim(),
    expectedKeys: parseExpectedKeys(get('expected-keys')),
    failOnApiError: parseBoolean('fail-on-api-error', get('fail-on-api-error'), false),
    apiTimeoutSeconds,
    htmlArtifact: parseBoolean('html-artifact', get('html-artifact'), true),
  };
  if (inputs.models) checkModelListInputs(inputs);
  if (inputs.baseline === 'report' && inputs.baseReport === '' && mode === 'pr') {
    throw new InputError(`input 'baseline: report' needs 'base-report'`);
  }
  if (mode === 'post' && inputs.artifactPath === '') {
    throw new InputError(
      `input 'artifact-path' is required in mode 'post' (the directory actions/download-artifact wrote)`,
    );
  }
  if (mode === 'aggregate' && inputs.reports === '') {
    throw new InputError(
      `input 'reports' is required in mode 'aggregate' (the directory or glob of the report files actions/download-artifact wrote)`,
    );
  }
  return inputs;
}

function modelList(mode: Mode, raw: string): ModelEntry[] {
  if (mode !== 'pr' && mode !== 'baseline')
    throw new InputError(`input 'model' names several models, which mode '${mode}' does not take`);
  try {
    return parseModelList(raw);
  } catch (error) {
    if (error instanceof ModelListError) throw new InputError(error.message);
    throw error;
  }
}

/** The inputs that are about one model have a per-model form in the list, or none. */
function checkModelListInputs(inputs: ActionInputs): void {
  if (inputs.baseModel)
    throw new InputError(
      `input 'base-model' is one model's base; with several models give each its own 'base-model:' in the YAML list`,
    );
  if (inputs.baseReport || inputs.baseline === 'report')
    throw new InputError(
      `inputs 'base-report' and 'baseline: report' hold one model's report; with several models the base comes from the baseline artifact or is rebuilt (or give each model a 'base-model:')`,
    );
}

/** `vision, text` or one a line: comment keys, each checked as `comment-key` is. */
function parseExpectedKeys(raw: string): string[] {
  const keys = raw.split(/[\s,]+/).filter((k) => k !== '');
  for (const key of keys) {
    if (!isCommentKey(key))
      throw new InputError(
        `input 'expected-keys': '${key}' is not a comment key (letters, digits, '.', '_', '-', '/')`,
      );
  }
  return [...new Set(keys)];
}
