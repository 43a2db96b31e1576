// mode: baseline — on a push to the default branch: build and analyze the model, write the report file
// for the workflow to upload as an artifact, so pull requests can compare with it without rebuilding.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { code } from '../../render/escape.ts';
import { formatCount } from '../../report/format.ts';
import { renderText } from '../../render/text.ts';
import { makeBundle, reportFileName, serializeBundle } from '../report-file.ts';
import { modelsIn } from '../models/model-set.ts';
import { analyzeFound, buildOf, modelReportsDir, ownTraceInputs } from './pr-models.ts';
import type { Report } from '../../report/report.ts';
import type { RunContext } from '../context.ts';
import { analyzeModel } from '../models/analyze-model.ts';
import { buildEnvironment, withBuildTemp } from '../models/exec.ts';
import type { ActionInputs } from '../inputs.ts';
import type { Io, RunResult } from '../runner-log.ts';
import { ActionError } from '../runner-log.ts';
import { downloadModel, isUrl, relativeModelPath } from '../models/model-file.ts';
import { analyzeSide, buildSide, missingModelMessage, type Side } from '../models/model-side.ts';
import { reportOutputs } from '../publishing/outputs.ts';
import { guardRun } from '../safety.ts';
import { reportPathFor } from '../report-file.ts';
import { tracerFor, type Tracer } from '../models/tracing.ts';
import { appendSummary, fenced } from '../publishing/job-summary.ts';

export async function runBaseline(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  guardRun('baseline', inputs, ctx, io);
  return withBuildTemp((buildTemp) => analyzeBaseline(inputs, ctx, io, buildTemp));
}

async function analyzeBaseline(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  buildTemp: string,
): Promise<RunResult> {
  const env = buildEnvironment(process.env, [inputs.token], buildTemp);
  const tracer = tracerFor(inputs, ctx, env, io);
  const side: Side = { root: ctx.workspace, label: `commit ${ctx.sha.slice(0, 12) || 'HEAD'}` };
  await buildSide(side, { build: inputs.build, env, io });
  if (inputs.models) return baselineModels(inputs, ctx, io, { side, env, tracer });
  let report;
  if (isUrl(inputs.model)) {
    report = await analyzeModel(await downloadModel(inputs.model, ctx.tempDir, { proxy: ctx.proxy }), {
      displayName: inputs.model,
      tracer,
    });
  } else {
    const rel = relativeModelPath(ctx.workspace, inputs.model);
    report = await analyzeSide(side, rel, tracer, io);
    if (!report) throw new ActionError(missingModelMessage(rel, side, inputs.build));
  }
  const reportPath = reportPathFor(inputs, ctx);
  writeFileSync(reportPath, baselineFile(inputs.commentKey, report, ctx));
  const c = report.counts;
  appendSummary(
    ctx.stepSummaryPath,
    [
      `### paramtrace baseline: ${formatCount(c.unique)} unique parameters`,
      '',
      fenced(renderText(report)),
      '',
    ].join('\n'),
  );
  io.info(`paramtrace: baseline report written to ${reportPath}`);
  return {
    outputs: { ...reportOutputs(report), 'report-path': reportPath, verdict: 'pass', 'comment-body': '' },
    failure: null,
  };
}

/**
 * A model list's baseline: every model of the commit (after `build` and each item's own), each written as
 * its own report file in `model-reports`, the folder to upload as the baseline artifact. A model that
 * cannot be analyzed fails the run: a baseline with a model missing would only make pull requests rebuild.
 */
async function baselineModels(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  { side, env, tracer }: { side: Side; env: NodeJS.ProcessEnv; tracer: Tracer },
): Promise<RunResult> {
  const entries = inputs.models!;
  for (const entry of entries)
    await buildSide({ ...side, label: `${side.label}, ${entry.where}` }, { build: entry.build, env, io });
  const found = await modelsIn(side.root, entries);
  const unmatched = entries.find((e) => ![...found.values()].some((m) => m.entry === e));
  if (unmatched)
    throw new ActionError(`${unmatched.where}: the pattern '${unmatched.model}' matched no model file`);
  const dir = modelReportsDir(reportPathFor(inputs, ctx));
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  for (const [key, model] of found) {
    const report = await analyzeFound(
      { ctx, io },
      side,
      model,
      tracer.withInputs(ownTraceInputs(model.entry)),
    );
    if (!report)
      throw new ActionError(
        `${key}: ${missingModelMessage(model.location, side, buildOf(inputs, model.entry))}`,
      );
    writeFileSync(join(dir, reportFileName(key, '')), baselineFile(key, report, ctx));
    rows.push(`| ${code(key, 100)} | ${formatCount(report.counts.unique)} |`);
  }
  appendSummary(
    ctx.stepSummaryPath,
    [
      `### paramtrace baseline: ${found.size} models`,
      '',
      '| Model | unique |',
      '| :- | -: |',
      ...rows,
      '',
    ].join('\n'),
  );
  io.info(`paramtrace: ${found.size} baseline report files written to ${dir}`);
  return {
    outputs: { 'model-reports': dir, 'report-path': '', verdict: 'pass', 'comment-body': '' },
    failure: null,
  };
}

/** A baseline report file: one model's report of the pushed commit, under its comment key. */
function baselineFile(commentKey: string, report: Report, ctx: RunContext): string {
  return serializeBundle(
    makeBundle({
      mode: 'baseline',
      commentKey,
      commits: { head: /^[0-9a-f]{40,64}$/.test(ctx.sha) ? ctx.sha : null, base: null },
      pullRequest: null,
      base: null,
      head: report,
      comparison: null,
      notes: [],
    }),
  );
}
