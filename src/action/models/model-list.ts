// `model` as a list: several models in one run, each with its own key (its row in the one comment, its
// report file), and in the YAML form its own build, base model and trace inputs. Parsing is pure; globs
// are expanded in each checkout after that side's builds (model-set.ts), since builds may write the files.
import { isDynamicPattern } from 'tinyglobby';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { isCommentKey } from '../../render/comment-marker.ts';
import { UserError } from '../../report/user-error.ts';
import { isUrl } from './model-file.ts';

export class ModelListError extends UserError {
  readonly code = 'input';
  override name = 'ModelListError';
}

/** A model's own trace inputs, in the syntax of the action's inputs of the same names. */
export interface ModelTraceText {
  inputShapes?: string;
  dims?: string;
  inputFiles?: string;
  inputValues?: string;
}

export interface ModelEntry {
  /** Given with `key=` or `key:`; null: each model's key is its path (model-set.ts keyForPath). */
  key: string | null;
  /** A path in the checkout, a glob, or an http(s) URL. */
  model: string;
  /** Run after the action's `build`, in the same checkout, for this entry only ('' for none). */
  build: string;
  /** Compare with this model (path or URL) instead of the rebuilt base ('' for none). */
  baseModel: string;
  trace: ModelTraceText;
  /** Where it was written, for messages: `model line 2`, `model item 3`. */
  where: string;
}

/** At most this many models in one run: the one comment has a row and a section for each. */
export const MAX_MODELS = 100;

/** `key=path` in the line form: a comment key, then `=` (a URL has `:` before any `=`). */
const KEYED_LINE = /^([A-Za-z0-9._/-]+)\s*=\s*(\S.*)$/;

/** The fields of a YAML item, as the action's inputs of the same names. */
const ITEM_FIELDS = [
  'key',
  'model',
  'build',
  'base-model',
  'input-shapes',
  'input-dims',
  'input-files',
  'input-values',
] as const;

/**
 * Whether `model` names several models: more than one line, a glob, or a YAML list. One plain path or
 * URL is the single-model run, unchanged.
 */
export function isModelList(raw: string): boolean {
  const lines = meaningfulLines(raw);
  if (lines.length !== 1) return lines.length > 1;
  const line = lines[0]!;
  return line.startsWith('- ') || line === '-' || (!isUrl(line) && isDynamicPattern(line));
}

function meaningfulLines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The entries of a model list: one a line (`[key=]path-or-glob-or-url`), or a YAML list. */
export function parseModelList(raw: string): ModelEntry[] {
  const yaml = meaningfulLines(raw)[0]?.startsWith('-') ?? false;
  const entries = yaml ? yamlEntries(raw) : lineEntries(raw);
  if (entries.length === 0) throw new ModelListError(`input 'model' names no model`);
  if (entries.length > MAX_MODELS)
    throw new ModelListError(
      `input 'model' names ${entries.length} models; at most ${MAX_MODELS} fit one comment`,
    );
  const keys = new Map<string, string>();
  for (const entry of entries) {
    checkEntry(entry);
    if (entry.key === null) continue;
    const other = keys.get(entry.key);
    if (other)
      throw new ModelListError(`input 'model': ${other} and ${entry.where} both have the key '${entry.key}'`);
    keys.set(entry.key, entry.where);
  }
  return entries;
}

function lineEntries(raw: string): ModelEntry[] {
  const entries: ModelEntry[] = [];
  raw.split(/\r?\n/).forEach((text, i) => {
    const line = text.trim();
    if (line === '' || line.startsWith('#')) return;
    const keyed = isUrl(line) ? null : KEYED_LINE.exec(line);
    entries.push({
      key: keyed ? keyed[1]! : null,
      model: keyed ? keyed[2]!.trim() : line,
      build: '',
      baseModel: '',
      trace: {},
      where: `model line ${i + 1}`,
    });
  });
  return entries;
}

function yamlEntries(raw: string): ModelEntry[] {
  let parsed: unknown;
  try {
    // No aliases: a list of a hundred models never needs them, and they are how YAML bombs grow.
    parsed = parseYaml(raw, { schema: 'core', uniqueKeys: true, maxAliasCount: 0, prettyErrors: false });
  } catch (error) {
    const why = error instanceof YAMLParseError ? error.message.split('\n', 1)[0] : String(error);
    throw new ModelListError(`input 'model' is not a valid YAML list: ${why}`);
  }
  if (!Array.isArray(parsed)) throw new ModelListError(`input 'model' must be a YAML list of models`);
  return parsed.map((item: unknown, i) => yamlEntry(item, `model item ${i + 1}`));
}

function yamlEntry(item: unknown, where: string): ModelEntry {
  if (typeof item === 'string') {
    const entry = lineEntries(item)[0];
    if (!entry) throw new ModelListError(`input 'model': ${where} is empty`);
    return { ...entry, where };
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new ModelListError(`input 'model': ${where} must be a path or a mapping with 'model:'`);
  const fields = item as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!(ITEM_FIELDS as readonly string[]).includes(name))
      throw new ModelListError(
        `input 'model': ${where} has an unknown field '${name}' (known: ${ITEM_FIELDS.join(', ')})`,
      );
  }
  const text = (name: (typeof ITEM_FIELDS)[number]): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number') return String(value);
    // input-shapes / input-values may be written as YAML mappings: the inputs' JSON form.
    if (typeof value === 'object' && (name === 'input-shapes' || name === 'input-values'))
      return JSON.stringify(value);
    throw new ModelListError(`input 'model': ${where} has a '${name}' that is not text`);
  };
  const model = text('model');
  if (!model) throw new ModelListError(`input 'model': ${where} has no 'model:' (its path, glob or URL)`);
  const trace: ModelTraceText = {};
  const shapes = text('input-shapes');
  const dims = text('input-dims');
  const files = text('input-files');
  const values = text('input-values');
  if (shapes !== undefined) trace.inputShapes = shapes;
  if (dims !== undefined) trace.dims = dims;
  if (files !== undefined) trace.inputFiles = files;
  if (values !== undefined) trace.inputValues = values;
  return {
    key: text('key') || null,
    model,
    build: text('build') ?? '',
    baseModel: text('base-model') ?? '',
    trace,
    where,
  };
}

function checkEntry(entry: ModelEntry): void {
  const { key, model, where } = entry;
  if (key !== null && !isCommentKey(key))
    throw new ModelListError(
      `input 'model': ${where} has the key '${key}'; a key is letters, digits, '.', '_', '-' or '/' (at most 100, no '--')`,
    );
  const glob = !isUrl(model) && isDynamicPattern(model);
  if (glob && key !== null)
    throw new ModelListError(
      `input 'model': ${where} gives one key to the pattern '${model}'; each file it matches is keyed by its path`,
    );
  if (isUrl(model) && !entry.baseModel)
    throw new ModelListError(
      `input 'model': ${where} is a URL, which has no base to rebuild: give it a 'base-model:' in the YAML list`,
    );
  if (glob && entry.baseModel)
    throw new ModelListError(`input 'model': ${where} gives one base-model to the pattern '${model}'`);
}

/**
 * A model's key from its path: `models/encoder.onnx` → `models/encoder`; characters a key cannot have
 * become `_`. Null when even that is no key (e.g. longer than 100 characters).
 */
export function keyForPath(path: string): string | null {
  const name = isUrl(path) ? (new URL(path).pathname.split('/').pop() ?? '') : path;
  const key = name
    .replace(/\.onnx$/i, '')
    .replace(/[^A-Za-z0-9._/-]/g, '_')
    .replace(/-{2,}/g, '-')
    .replace(/^\/+|\/+$/g, '');
  return isCommentKey(key) ? key : null;
}
