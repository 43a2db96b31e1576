// mode: baseline — on a push to the default branch: build and analyze the model, write the report file
// for the workflow to upload as an artifact, so pull requests can compare with it without rebuilding.
import { writeFileSync } from 'node:fs';
import { formatCount } from '../../report/format.ts';
import { renderText } from '../../render/text.ts';
import { makeBundle, serializeBundle } from '../report-file.ts';
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
import { tracerFor } from '../models/tracing.ts';
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
  const sha = /^[0-9a-f]{40,64}$/.test(ctx.sha) ? ctx.sha : null;
  writeFileSync(
    reportPath,
    serializeBundle(
      makeBundle({
        mode: 'baseline',
        commentKey: inputs.commentKey,
        commits: { head: sha, base: null },
        pullRequest: null,
        base: null,
        head: report,
        comparison: null,
        notes: [],
      }),
    ),
  );
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
