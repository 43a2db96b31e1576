// Duplicated storage: initializers holding equal values, or values equal after a 2-D transpose (PyTorch's
// constant folding stores a tied embedding's output head as a transposed copy). Only a copy the exporter
// made (an exporter-generated name) is the same parameter stored twice: two tensors with their own names
// are two parameters, equal or not (a fresh model's deep-copied layers are equal until trained), and are
// only noted. Only tensors that share dtype and element count are candidates; of those, a few sampled
// elements are read first, and only candidates whose samples agree are read whole (compared, or hashed
// when three or more agree).
import type { DuplicateStorage } from '../report/report.ts';
import { byteSize } from '../onnx/dtype.ts';
import { isGeneratedName } from './call-names.ts';
import type { TensorContent } from './types.ts';
import type { ConstantTensor } from './graph-walk.ts';

export interface Duplicates {
  /** Each group's first member is the one counted; the others are copies. */
  groups: ConstantTensor[][];
  findings: DuplicateStorage[];
  /** Named tensors with identical values, each still its own parameter (counting.md). */
  equalNamed: ConstantTensor[][];
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
  const equalNamed: ConstantTensor[][] = [];
  for (const bucket of buckets.values()) {
    if (bucket.length < 2) continue;
    // All-equal values (fresh zeros, ones) match by coincidence of initialisation, not by copying; only
    // tensors whose samples collide with another's can be duplicates, so only those are checked.
    const isUniform = (c: ConstantTensor): boolean => content.isUniform(c.tensor);
    const bySample = new Map<string, ConstantTensor[]>();
    const exact = new Set<string>();
    for (const c of bucket) {
      const { key, exact: isExact } = content.sampleKey(c.tensor);
      if (isExact) exact.add(key);
      const same = bySample.get(key);
      if (same) same.push(c);
      else bySample.set(key, [c]);
    }
    // Equal contents, in the order of each group's first member.
    const order = new Map(bucket.map((c, i) => [c, i]));
    const classes: ConstantTensor[][] = [];
    for (const [key, same] of bySample) {
      if (same.length < 2) continue;
      const members = same.filter((c) => !isUniform(c));
      if (members.length < 2) continue;
      if (exact.has(key)) classes.push(members);
      else classes.push(...equalContents(members, content));
    }
    classes.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
    const grouped = new Set<string>();
    for (const same of classes) {
      if (same.length < 2) continue;
      const named = same.filter((c) => !isGeneratedName(c.name));
      if (named.length >= 2) equalNamed.push(named);
      // The exporter's copies go with the first named tensor; named tensors are never merged.
      const group = [...named.slice(0, 1), ...same.filter((c) => isGeneratedName(c.name))];
      if (group.length < 2) continue;
      group.forEach((c) => grouped.add(c.key));
      groups.push(group);
      findings.push(finding(group, false));
    }
    for (const c of bucket) {
      if (grouped.has(c.key) || c.tensor.dims.length !== 2 || c.tensor.dims[0] === c.tensor.dims[1]) continue;
      const transposed = content.transposedSampleKey(c.tensor);
      if (!transposed) continue;
      const others = (bySample.get(transposed.key) ?? []).filter((o) => !grouped.has(o.key) && o !== c);
      if (others.length === 0 || isUniform(c)) continue;
      // A transposed copy is the exporter's (constant folding) only when one of the two has its name.
      const twin = others.find(
        (o) =>
          (isGeneratedName(o.name) || isGeneratedName(c.name)) &&
          !isUniform(o) &&
          (transposed.exact || content.isTransposeOf(c.tensor, o.tensor)),
      );
      if (!twin) continue;
      const group = canonicalFirst([twin, c]);
      group.forEach((g) => grouped.add(g.key));
      groups.push(group);
      findings.push(finding(group, true));
    }
  }
  return { groups, findings, equalNamed };
}

/** Splits tensors whose samples agree into classes of equal content: compared directly, or hashed. */
function equalContents(members: ConstantTensor[], content: TensorContent): ConstantTensor[][] {
  if (members.length === 2) {
    const [a, b] = members as [ConstantTensor, ConstantTensor];
    return content.sameContent(a.tensor, b.tensor) ? [[a, b]] : [];
  }
  // Three or more: one full read each (hash), rather than up to one comparison per pair.
  const byHash = new Map<string, ConstantTensor[]>();
  for (const c of members) {
    const hash = content.fingerprint(c.tensor);
    const same = byHash.get(hash);
    if (same) same.push(c);
    else byHash.set(hash, [c]);
  }
  return [...byHash.values()];
}

/** The copy to count under: a real (PyTorch) name over an exporter-generated one. */
function canonicalFirst(group: ConstantTensor[]): ConstantTensor[] {
  const generated = (c: ConstantTensor): number => (isGeneratedName(c.name) ? 1 : 0);
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
