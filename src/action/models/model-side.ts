// One side of a comparison from source: run the build in a checkout, find the model, analyze it.
import type { Report } from '../../report/report.ts';
import { analyzeModel, formatTimings } from './analyze-model.ts';
import { runBuild } from './exec.ts';
import type { Io } from '../runner-log.ts';
import { ActionError } from '../runner-log.ts';
import { downloadModel, isUrl, locateModel, relativeModelPath } from './model-file.ts';
import type { Tracer } from './tracing.ts';
import type { RunContext } from '../context.ts';

export interface Side {
  /** The checkout the build runs in. */
  root: string;
  /** `head` or `base (merge-base abc123)`, for messages. */
  label: string;
}

export interface BuildContext {
  build: string;
  env: NodeJS.ProcessEnv;
  io: Io;
}

/** Runs the build (if any) in the side's checkout; BuildError when it fails. */
export async function buildSide(side: Side, ctx: BuildContext): Promise<void> {
  if (!ctx.build) return;
  await ctx.io.group(`paramtrace: build ${side.label}`, () =>
    ctx.io.untrusted((write) =>
      runBuild(ctx.build, { cwd: side.root, env: ctx.env, label: side.label, onOutput: write }),
    ),
  );
}

export function missingModelMessage(rel: string, side: Side, build: string): string {
  return build
    ? `the build for ${side.label} (\`${build}\`) succeeded but did not produce the model at ${rel}`
    : `no model at ${rel} in ${side.label} (set \`build\` to the command that produces it)`;
}

/** Analyzes the model at `rel` under the side's checkout; undefined when the file is not there. */
export async function analyzeSide(
  side: Side,
  rel: string,
  tracer: Tracer,
  io: Io,
): Promise<Report | undefined> {
  const file = locateModel(side.root, rel);
  if (!file) return undefined;
  await tracer.plan(); // installs onnxruntime-node (in its own log group) the first time
  const report = await io.group(`paramtrace: analyze ${side.label} ${rel}`, async () => {
    try {
      return await analyzeModel(file, { displayName: rel, tracer, log: (line) => io.info(line) });
    } catch (error) {
      throw new ActionError(`cannot analyze ${side.label} model ${rel}: ${(error as Error).message}`);
    }
  });
  // Outside the group, so that it shows without opening it.
  io.info(`paramtrace: ${side.label} ${rel}: ${formatTimings(report.timings ?? [])}`);
  return report;
}

/** The base from an explicit model (`base-model`: a path in the workspace or a URL). */
export async function explicitBaseModel(location: string, ctx: RunContext, tracer: Tracer): Promise<Report> {
  if (isUrl(location)) {
    const file = await downloadModel(location, ctx.tempDir, { proxy: ctx.proxy });
    return analyzeModel(file, { displayName: location, tracer });
  }
  const rel = relativeModelPath(ctx.workspace, location);
  const file = locateModel(ctx.workspace, rel);
  if (!file) throw new ActionError(`base-model ${rel} does not exist`);
  return analyzeModel(file, { displayName: rel, tracer });
}

/** What to do when a pull request adds the model together with its build (the base cannot build it). */
export const BASE_BUILD_HINT =
  'A base that cannot be built fails the check; if this pull request adds the model or its build, make ' +
  'the build exit 0 without writing the model when its sources are absent (e.g. ' +
  '`[ -f export.py ] || exit 0; python export.py`): a base without the model counts as a new model';
