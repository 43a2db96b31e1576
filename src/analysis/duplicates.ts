// Duplicated storage: initializers holding equal values, or values equal after a 2-D transpose (PyTorch's
// constant folding stores a tied embedding's output head as a transposed copy). Only tensors that share
// dtype and element count are candidates; of those, a few sampled elements are read first, and only
// candidates whose samples agree are read whole (compared, or hashed when three or more agree).
import type { OnnxTensor } from '../onnx/model.ts';
import type { DuplicateStorage } from '../report/report.ts';
import { byteSize } from '../onnx/dtype.ts';
import type { SampleKey } from '../onnx/tensor-bytes.ts';
import type { TensorContent } from './analyze.ts';
import type { ConstantTensor } from './graph-walk.ts';

export interface Duplicates {
  /** Each group's first member is the one counted; the others are copies. */
  groups: ConstantTensor[][];
  findings: DuplicateStorage[];
}

/**
 * What a content reader may offer beyond TensorContent so that duplicates are found without reading
 * every candidate whole (TensorReader offers all of it): a sampled prefilter, then a full comparison only
 * of the candidates whose samples still agree.
 */
export interface PrefilterContent {
  sampleKey(tensor: OnnxTensor): SampleKey;
  /** The key the 2-D tensor's transpose would have, or undefined when it has no transpose to compare. */
  transposedSampleKey(tensor: OnnxTensor): SampleKey | undefined;
  sameContent(a: OnnxTensor, b: OnnxTensor): boolean;
  /** Whether `other` holds `tensor` transposed. */
  isTransposeOf(tensor: OnnxTensor, other: OnnxTensor): boolean;
}

/** Without a prefilter, the full fingerprints are the keys (exact, up to sha256). */
function withPrefilter(content: TensorContent & Partial<PrefilterContent>): PrefilterContent {
  if (content.sampleKey && content.transposedSampleKey && content.sameContent && content.isTransposeOf) {
    return content as PrefilterContent;
  }
  return {
    sampleKey: (t) => ({ key: content.fingerprint(t), exact: true }),
    transposedSampleKey: (t) => {
      const key = content.transposedFingerprint(t);
      return key === undefined ? undefined : { key, exact: true };
    },
    sameContent: (a, b) => content.fingerprint(a) === content.fingerprint(b),
    isTransposeOf: (t, o) => content.transposedFingerprint(t) === content.fingerprint(o),
  };
}

export function findDuplicates(
  candidates: ConstantTensor[],
  content: TensorContent & Partial<PrefilterContent>,
): Duplicates {
  const buckets = new Map<string, ConstantTensor[]>();
  for (const c of candidates) {
    if (c.kind === 'sparse-initializer' || c.numel < 2) continue;
    const key = `${c.tensor.dataType}:${c.numel}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(c);
    else buckets.set(key, [c]);
  }
  const prefilter = withPrefilter(content);
  const groups: ConstantTensor[][] = [];
  const findings: DuplicateStorage[] = [];
  for (const bucket of buckets.values()) {
    if (bucket.length < 2) continue;
    // All-equal values (fresh zeros, ones) match by coincidence of initialisation, not by copying; only
    // tensors whose samples collide with another's can be duplicates, so only those are checked.
    const uniform = new Map<ConstantTensor, boolean>();
    const isUniform = (c: ConstantTensor): boolean => {
      let u = uniform.get(c);
      if (u === undefined) uniform.set(c, (u = content.isUniform(c.tensor)));
      return u;
    };
    const bySample = new Map<string, ConstantTensor[]>();
    const exact = new Set<string>();
    for (const c of bucket) {
      const { key, exact: isExact } = prefilter.sampleKey(c.tensor);
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
      else classes.push(...equalContents(members, prefilter, content));
    }
    classes.sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
    const grouped = new Set<string>();
    for (const same of classes) {
      if (same.length < 2) continue;
      const group = canonicalFirst(same);
      group.forEach((c) => grouped.add(c.key));
      groups.push(group);
      findings.push(finding(group, false));
    }
    for (const c of bucket) {
      if (grouped.has(c.key) || c.tensor.dims.length !== 2 || c.tensor.dims[0] === c.tensor.dims[1]) continue;
      const transposed = prefilter.transposedSampleKey(c.tensor);
      if (!transposed) continue;
      const others = (bySample.get(transposed.key) ?? []).filter((o) => !grouped.has(o.key) && o !== c);
      if (others.length === 0 || isUniform(c)) continue;
      const twin = others.find(
        (o) => !isUniform(o) && (transposed.exact || prefilter.isTransposeOf(c.tensor, o.tensor)),
      );
      if (!twin) continue;
      const group = canonicalFirst([twin, c]);
      group.forEach((g) => grouped.add(g.key));
      groups.push(group);
      findings.push(finding(group, true));
    }
  }
  return { groups, findings };
}

/** Splits tensors whose samples agree into classes of equal content: compared directly, or hashed. */
function equalContents(
  members: ConstantTensor[],
  prefilter: PrefilterContent,
  content: TensorContent,
): ConstantTensor[][] {
  if (members.length === 2) {
    const [a, b] = members as [ConstantTensor, ConstantTensor];
    return prefilter.sameContent(a.tensor, b.tensor) ? [[a, b]] : [];
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
