// Duplicated storage: initializers holding equal values, or values equal after a 2-D transpose (PyTorch's
// constant folding stores a tied embedding's output head as a transposed copy). Only tensors that share
// dtype and element count are candidates, so only those are read and hashed.
import type { DuplicateStorage } from '../report/report.ts';
import { byteSize } from '../onnx/tensor-bytes.ts';
import type { TensorContent } from './analyze.ts';
import type { ConstantTensor } from './graph-walk.ts';

export interface Duplicates {
  /** Each group's first member is the one counted; the others are copies. */
  groups: ConstantTensor[][];
  findings: DuplicateStorage[];
}

export function findDuplicates(candidates: ConstantTensor[], content: TensorContent): Duplicates {
  const buckets = new Map<string, ConstantTensor[]>();
  for (const c of candidates) {
    if (c.kind === 'sparse-initializer' || c.numel < 2) continue;
    const key = `${c.tensor.dataType}:${c.numel}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(c);
    else buckets.set(key, [c]);
  }
  const groups: ConstantTensor[][] = [];
  const findings: DuplicateStorage[] = [];
  for (const bucket of buckets.values()) {
    if (bucket.length < 2) continue;
    // All-equal values (fresh zeros, ones) match by coincidence of initialisation, not by copying.
    const members = bucket.filter((c) => !content.isUniform(c.tensor));
    const byHash = new Map<string, ConstantTensor[]>();
    for (const c of members) {
      const hash = content.fingerprint(c.tensor);
      const same = byHash.get(hash);
      if (same) same.push(c);
      else byHash.set(hash, [c]);
    }
    const grouped = new Set<string>();
    for (const same of byHash.values()) {
      if (same.length < 2) continue;
      const group = canonicalFirst(same);
      group.forEach((c) => grouped.add(c.key));
      groups.push(group);
      findings.push(finding(group, false));
    }
    for (const c of members) {
      if (grouped.has(c.key) || c.tensor.dims.length !== 2 || c.tensor.dims[0] === c.tensor.dims[1]) continue;
      const transposed = content.transposedFingerprint(c.tensor);
      const twin =
        transposed === undefined
          ? undefined
          : byHash.get(transposed)?.find((o) => !grouped.has(o.key) && o !== c);
      if (!twin) continue;
      const group = canonicalFirst([twin, c]);
      group.forEach((g) => grouped.add(g.key));
      groups.push(group);
      findings.push(finding(group, true));
    }
  }
  return { groups, findings };
}

/** The copy to count under: a real (PyTorch) name over an exporter-generated one (`onnx::MatMul_20`). */
function canonicalFirst(group: ConstantTensor[]): ConstantTensor[] {
  const generated = (c: ConstantTensor): number => (/^onnx::|^_?[0-9]+$|^$/.test(c.name) ? 1 : 0);
  return [...group].sort((a, b) => generated(a) - generated(b));
}

function finding(group: ConstantTensor[], transposed: boolean): DuplicateStorage {
  const first = group[0]!;
  return {
    names: group.map((c) => c.name),
    numel: first.numel,
    transposed,
    bytesWasted: byteSize(first.tensor.dataType, first.numel) * (group.length - 1),
  };
}
