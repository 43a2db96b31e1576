// Ties the graph's initializers to the manifest's PyTorch tensors: by name (canonical or alias) first,
// then by content fingerprint, exact or of the 2-D transpose, so that renamed and transposed copies made
// by a plain export still count as the one PyTorch tensor they came from.
import { byteSize } from '../onnx/dtype.ts';
import type { Classified, LogicalTensor, TensorContent } from './types.ts';
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

  // Hashing reads a tensor whole: only an initializer with the byte length of some manifest tensor can
  // have its bytes (or its transpose's), so no other is read.
  const lengths = new Set(manifest.tensors.map((t) => byteSize(t.dtype, t.numel)));
  const mayShareBytes = (c: ConstantTensor): boolean =>
    lengths.has(byteSize(c.tensor.dataType, c.numel)) || lengths.has(0);

  const stored = new Map<ManifestTensor, ConstantTensor[]>();
  const unmapped: { c: ConstantTensor; why: string }[] = [];
  const ambiguous: string[] = [];
  const candidates = [...walk.constants.values()].filter(
    (c) => classified.parameters.has(c.key) || classified.buffers.has(c.key),
  );
  for (const c of candidates) {
    let entry = c.graphPath === '' ? byName.get(c.name) : undefined;
    if (entry) {
      if (!sameDims(entry.shape, c.tensor.dims) || entry.numel !== c.numel) {
        notes.push(
          `Manifest and graph disagree on '${entry.name}': the manifest says shape [${entry.shape.join(', ')}], initializer '${c.name}' has [${c.tensor.dims.join(', ')}]; the manifest's size is counted.`,
        );
      }
    } else {
      // By content: the same bytes in the same dtype and shape, or a 2-D transpose of them. Bytes alone are
      // not enough (a [1, 1, 32] zero state has a [32] zero bias's bytes), and all-equal values (fresh zeros,
      // ones) match by coincidence of initialisation, not because one is a copy of the other.
      const dims = c.tensor.dims;
      const fits = (t: ManifestTensor, transposed: boolean): boolean =>
        t.dtype === c.tensor.dataType && sameDims(t.shape, transposed ? [...dims].reverse() : dims);
      const uniform = content.isUniform(c.tensor);
      const hashed = !uniform && mayShareBytes(c);
      const sameBytes = hashed ? (byFingerprint.get(content.fingerprint(c.tensor)) ?? []) : [];
      const exact = sameBytes.filter((t) => fits(t, false));
      const transposedBytes =
        !hashed || exact.length > 0 || dims.length !== 2
          ? []
          : (byFingerprint.get(content.transposedFingerprint(c.tensor) ?? '') ?? []);
      const transposed = transposedBytes.filter((t) => fits(t, true));
      const matches = [...new Set([...exact, ...transposed])];
      if (matches.length === 1) entry = matches[0];
      else if (matches.length > 1) ambiguous.push(`${c.name} (${matches.map((m) => m.name).join(', ')})`);
      else {
        const misfit = [...sameBytes, ...transposedBytes][0];
        unmapped.push({
          c,
          why: uniform
            ? 'all elements equal, so its values identify nothing'
            : misfit
              ? `same bytes as '${misfit.name}' but ${c.tensor.dataType} [${dims.join(', ')}] where the manifest says ${misfit.dtype} [${misfit.shape.join(', ')}]`
              : '',
        });
      }
    }
    if (entry) stored.set(entry, [...(stored.get(entry) ?? []), c]);
  }
  if (ambiguous.length > 0) {
    notes.push(
      `Initializers whose values match several manifest tensors were not mapped (not counted): ${ambiguous.join('; ')}.`,
    );
  }
  const describe = (u: { c: ConstantTensor; why: string }): string =>
    `${u.c.name} [${u.c.tensor.dims.join(', ')}]${u.c.graphPath === '' ? '' : ` in ${u.c.graphPath}`}${u.why ? ` (${u.why})` : ''}`;
  const unmappedInitializers = unmapped.filter((u) => u.c.kind !== 'constant-node');
  const unmappedConstants = unmapped.filter((u) => u.c.kind === 'constant-node');
  if (unmappedInitializers.length > 0) {
    notes.push(
      `Initializers that map to no manifest tensor, by name or by value (not counted): ${unmappedInitializers.map(describe).join(', ')}.`,
    );
  }
  if (unmappedConstants.length > 0) {
    notes.push(
      `Constant-node tensors the manifest does not list (exporter-made constants, not counted): ${unmappedConstants.map(describe).join(', ')}.`,
    );
  }
  const missing = manifest.tensors.filter((t) => t.kind === 'parameter' && !stored.has(t));
  if (missing.length > 0 && (unmappedInitializers.length > 0 || ambiguous.length > 0)) {
    notes.push(
      `${missing.length} manifest parameter(s) are in the graph neither by name nor by value and are reported as not exported: ${missing.map((t) => t.name).join(', ')}. Some may not have been dropped but transformed into the unmapped initializers above (an eval-mode export with constant folding folds BatchNormalization into Conv and reorders and concatenates LSTM/GRU gate weights); export with python/paramtrace_torch.py for a faithful file.`,
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
