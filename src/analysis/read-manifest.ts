// The manifest embedded in a model's metadata_props, checked before use: it is untrusted input.
import { UserError } from '../report/user-error.ts';
import type { OnnxModel } from '../onnx/model.ts';
import { MANIFEST_FORMAT, MANIFEST_KEY, type Manifest, type ManifestTensor } from './manifest.ts';
import { clip } from '../report/clip.ts';

/** A manifest that cannot be used: names the file (when known) and the problem, for a one-line error. */
export class ManifestError extends UserError {
  readonly code = 'manifest';
  constructor(
    readonly file: string | undefined,
    readonly problem: string,
  ) {
    // The problem quotes names from the manifest, which may be megabytes long: one readable line.
    const clipped = clip(problem, 2000);
    super(file === undefined ? clipped : `${file}: ${clipped}`);
    this.name = 'ManifestError';
  }
}

export function manifestOf(model: OnnxModel): Manifest | undefined {
  const raw = model.metadata[MANIFEST_KEY];
  if (raw === undefined) return undefined;
  return parseManifest(raw, model.file.path);
}

/** The manifest in `raw` (the metadata value), or a ManifestError that says what is wrong with it. */
export function parseManifest(raw: string, file?: string): Manifest {
  // `what` follows "the paramtrace.manifest metadata" ("'s tensor #3 ..." or " is not ..."). One line whatever
  // the metadata holds (JSON.parse quotes the text around the error).
  const fail = (what: string): never => {
    throw new ManifestError(file, `the ${MANIFEST_KEY} metadata${what.replace(/\s*[\r\n]+\s*/g, ' ')}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    fail(` is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail(
      ` is not a JSON object (it is ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`})`,
    );
  }
  const m = parsed as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) {
    fail(
      ` has format ${m.format === undefined ? '(none)' : `'${String(m.format)}'`}, expected '${MANIFEST_FORMAT}'`,
    );
  }
  if (!Array.isArray(m.tensors)) fail(` lists no tensors (no "tensors" array)`);
  const tensors = (m.tensors as unknown[]).map((t, i) => checkTensor(t, i, fail));
  const owner = new Map<string, string>();
  for (const t of tensors) {
    for (const n of [t.name, ...t.aliases]) {
      const prior = owner.get(n);
      if (prior !== undefined) {
        fail(` names '${n}' twice (tensors '${prior}' and '${t.name}'): each name must belong to one tensor`);
      }
      owner.set(n, t.name);
    }
  }
  return {
    format: MANIFEST_FORMAT,
    torchVersion: typeof m.torchVersion === 'string' ? m.torchVersion : '',
    exporter: typeof m.exporter === 'string' ? m.exporter : 'none',
    opset: typeof m.opset === 'number' ? m.opset : null,
    exportSettings:
      typeof m.exportSettings === 'object' && m.exportSettings !== null && !Array.isArray(m.exportSettings)
        ? (m.exportSettings as Record<string, unknown>)
        : {},
    altered: Array.isArray(m.altered) ? m.altered.map(String) : [],
    modelClass: typeof m.modelClass === 'string' ? m.modelClass : '',
    tensors,
  };
}

function checkTensor(value: unknown, index: number, fail: (what: string) => never): ManifestTensor {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`'s tensor #${index} is not an object`);
  const t = value as Record<string, unknown>;
  const label =
    typeof t.name === 'string' && t.name !== '' ? `tensor #${index} ('${t.name}')` : `tensor #${index}`;
  const bad = (what: string): never => fail(`'s ${label} ${what}`);
  if (typeof t.name !== 'string' || t.name === '') bad('has no name');
  const name = t.name as string;
  if (!Array.isArray(t.aliases) || !t.aliases.every((a) => typeof a === 'string' && a !== '')) {
    bad('has no "aliases" list of names');
  }
  if (t.kind !== 'parameter' && t.kind !== 'buffer')
    bad(`has kind ${JSON.stringify(t.kind)}, expected 'parameter' or 'buffer'`);
  if (!Array.isArray(t.shape)) bad('has no "shape" list');
  const shape = t.shape as unknown[];
  const badDim = shape.find((d) => !(typeof d === 'number' && Number.isSafeInteger(d) && d >= 0));
  if (badDim !== undefined) {
    bad(
      `has shape [${shape.map((d) => JSON.stringify(d)).join(', ')}]: dimension ${JSON.stringify(badDim)} is not a non-negative integer`,
    );
  }
  const dims = shape as number[];
  const product = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(product)) bad(`has shape [${dims.join(', ')}] whose element count is too large`);
  if (!(typeof t.numel === 'number' && Number.isSafeInteger(t.numel) && t.numel === product)) {
    bad(`has numel ${JSON.stringify(t.numel)}, but its shape [${dims.join(', ')}] holds ${product} elements`);
  }
  if (typeof t.dtype !== 'string' || t.dtype === '') bad('has no dtype');
  if (typeof t.requiresGrad !== 'boolean')
    bad(`has requiresGrad ${JSON.stringify(t.requiresGrad)}, expected true or false`);
  if (typeof t.fingerprint !== 'string') bad('has no fingerprint');
  return {
    name,
    aliases: [...new Set((t.aliases as string[]).filter((a) => a !== name))],
    kind: t.kind as ManifestTensor['kind'],
    shape: dims,
    dtype: t.dtype as string,
    numel: t.numel as number,
    requiresGrad: t.kind === 'parameter' && (t.requiresGrad as boolean),
    fingerprint: t.fingerprint as string,
    module: typeof t.module === 'string' ? t.module : '',
    moduleClass: typeof t.moduleClass === 'string' ? t.moduleClass : '',
  };
}
