// The one path from a model file to a report, shared by the CLI and the action: read the model, its
// manifest, optionally trace it, analyze. This is the edge that touches the file system.
import { analyze } from '../analysis/analyze.ts';
import { manifestOf } from '../analysis/read-manifest.ts';
import { readModel } from '../onnx/read-model.ts';
import { TensorReader } from '../onnx/tensor-bytes.ts';
import type { Report } from '../report/report.ts';

export interface AnalyzeFileOptions {
  /** Report the file under this name instead of its path (e.g. the path relative to the repository). */
  displayName?: string;
}

export async function analyzeFile(file: string, options: AnalyzeFileOptions = {}): Promise<Report> {
  const model = readModel(file);
  const manifest = manifestOf(model);
  const content = new TensorReader(model);
  try {
    const report = analyze({ model, content, manifest });
    if (options.displayName) report.model.file = options.displayName;
    return report;
  } finally {
    content.close();
  }
}
