// Ties the graph's initializers to the manifest's PyTorch tensors: by name (canonical or alias) first,
// then by content fingerprint, exact or of the 2-D transpose, so that renamed and transposed copies made
// by a plain export still count as the one PyTorch tensor they came from.
import type { Classified, LogicalTensor, TensorContent } from './analyze.ts';
import type { ConstantTensor, GraphWalk } from './graph-walk.ts';
import type { Manifest, ManifestTensor } from './manifest.ts';

export function mapManifest(
  manifest: Manifest,
  walk: GraphWalk,
  classified: Classified,
  content: TensorContent,
): { tensors: LogicalTensor[]; notes: string[] } {
  const notes: string[] = [];
  const byName = new Map<string, ManifestTensor>();
  for (const t of manifest.tensors) for (const n of [t.name, ...t.aliases]) byName.set(n, t);
  const byFingerprint = new Map<string, ManifestTensor[]>();
  for (const t of manifest.tensors) {
    const fp = t.fingerprint.replace(/^sha256:/, '');
    byFingerprint.set(fp, [...(byFingerprint.get(fp) ?? []), t]);
  }

  const stored = new Map<ManifestTensor, ConstantTensor[]>();
  const unmapped: ConstantTensor[] = [];
  const ambiguous: string[] = [];
  const candidates = [...walk.constants.values()].filter(
    (c) => classified.parameters.has(c.key) || classified.buffers.has(c.key),
  );
  for (const c of candidates) {
    let entry = c.graphPath === '' ? byName.get(c.name) : undefined;
    if (!entry) {
      const exact = byFingerprint.get(content.fingerprint(c.tensor)) ?? [];
      const transposed =
        exact.length > 0 ? [] : (byFingerprint.get(content.transposedFingerprint(c.tensor) ?? '') ?? []);
      const matches = [...exact, ...transposed];
      if (matches.length === 1) entry = matches[0];
      else if (matches.length > 1) ambiguous.push(`${c.name} (${matches.map((m) => m.name).join(', ')})`);
    }
    if (!entry) {
      unmapped.push(c);
      continue;
    }
    const sameShape =
      sameDims(entry.shape, c.tensor.dims) || sameDims(entry.shape, [...c.tensor.dims].reverse());
    if (!sameShape || entry.numel !== c.numel) {
      notes.push(
        `Manifest and graph disagree on '${entry.name}': the manifest says shape [${entry.shape.join(', ')}], initializer '${c.name}' has [${c.tensor.dims.join(', ')}]; the manifest's size is counted.`,
      );
    }
    stored.set(entry, [...(stored.get(entry) ?? []), c]);
  }
  if (ambiguous.length > 0) {
    notes.push(
      `Initializers whose values match several manifest tensors (equal values, e.g. fresh zeros) were not mapped: ${ambiguous.join('; ')}.`,
    );
  }
  if (unmapped.length > 0) {
    notes.push(
      `Initializers that hold parameter-like tensors the manifest does not list (not counted): ${unmapped.map((c) => c.name).join(', ')}.`,
    );
  }

  const tensors = manifest.tensors.map((t): LogicalTensor => ({
    name: t.name,
    aliases: t.aliases,
    kind: t.kind,
    storedAs: stored.get(t) ?? [],
    dtype: t.dtype,
    shape: t.shape,
    numel: t.numel,
    trainable: t.kind === 'parameter' ? t.requiresGrad : null,
    notExported: t.kind === 'parameter' && !stored.has(t),
  }));
  if (manifest.altered.length > 0)
    notes.push(`The export altered the model: ${manifest.altered.join('; ')}.`);
  return { tensors, notes };
}

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
