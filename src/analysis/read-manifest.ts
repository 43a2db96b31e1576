// The manifest embedded in a model's metadata_props, checked before use: it is untrusted input.
import type { OnnxModel } from '../onnx/model.ts';
import { MANIFEST_FORMAT, MANIFEST_KEY, type Manifest } from './manifest.ts';

export class ManifestError extends Error {}

export function manifestOf(model: OnnxModel): Manifest | undefined {
  const raw = model.metadata[MANIFEST_KEY];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ManifestError(`the ${MANIFEST_KEY} metadata is not valid JSON: ${(error as Error).message}`);
  }
  const m = parsed as Partial<Manifest>;
  if (m.format !== MANIFEST_FORMAT) {
    throw new ManifestError(
      `the ${MANIFEST_KEY} metadata has format '${String(m.format)}', expected '${MANIFEST_FORMAT}'`,
    );
  }
  if (!Array.isArray(m.tensors)) throw new ManifestError(`the ${MANIFEST_KEY} metadata lists no tensors`);
  m.tensors.forEach((t, i) => {
    const ok =
      t &&
      typeof t.name === 'string' &&
      Array.isArray(t.aliases) &&
      (t.kind === 'parameter' || t.kind === 'buffer') &&
      Array.isArray(t.shape) &&
      t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      Number.isSafeInteger(t.numel) &&
      t.numel === t.shape.reduce((a, b) => a * b, 1) &&
      typeof t.fingerprint === 'string';
    if (!ok) throw new ManifestError(`the ${MANIFEST_KEY} metadata's tensor #${i} is malformed`);
  });
  return {
    ...m,
    altered: Array.isArray(m.altered) ? m.altered.map(String) : [],
    exportSettings: m.exportSettings ?? {},
  } as Manifest;
}
