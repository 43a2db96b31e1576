// The declared-parameter manifest that python/paramtrace_torch.py embeds in an ONNX file's metadata_props
// under MANIFEST_KEY: what the PyTorch model declared, including what the exporter dropped.

export const MANIFEST_KEY = 'paramtrace.manifest';
export const MANIFEST_FORMAT = 'paramtrace.manifest/1';

export interface ManifestTensor {
  /** Canonical name: the first name `named_parameters()` / `named_buffers()` gives. */
  name: string;
  /** Other names of the same tensor (tied weights), from `named_parameters(remove_duplicate=False)`. */
  aliases: string[];
  kind: 'parameter' | 'buffer';
  shape: number[];
  /** float32, float16, bfloat16, float64, int64, ... (ONNX-style names, as in model.ts DataType). */
  dtype: string;
  numel: number;
  /** Parameters only; buffers have false. */
  requiresGrad: boolean;
  /** `sha256:` + hex of the tensor's contiguous little-endian bytes in its dtype. */
  fingerprint: string;
  /** Qualified name of the owning module ('' for the root) and its class. */
  module: string;
  moduleClass: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  torchVersion: string;
  /** 'torchscript' | 'dynamo', or 'none' when made by manifest() without an export. */
  exporter: string;
  opset: number | null;
  /** Settings passed to the exporter, and what the helper could not keep faithful. */
  exportSettings: Record<string, unknown>;
  altered: string[];
  modelClass: string;
  tensors: ManifestTensor[];
}
