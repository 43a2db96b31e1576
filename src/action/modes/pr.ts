// mode: pr — the pull request's model against its base: build and analyze head in the workspace, the base
// from a report, a model, or a git worktree of the merge-base; compare; write the report file and the
// job summary; then post the comment and the status.
import type { Report } from '../../report/report.ts';
import { analyzeModel } from '../models/analyze-model.ts';
import { finishComparison } from './finish.ts';
import { BuildError, buildEnvironment, withBuildTemp } from '../models/exec.ts';
import type { ActionInputs } from '../inputs.ts';
import type { Io, RunResult } from '../runner-log.ts';
import { ActionError } from '../runner-log.ts';
import { commentLinks, type RunContext } from '../context.ts';
import { downloadModel, isUrl, relativeModelPath } from '../models/model-file.ts';
import {
  analyzeSide,
  BASE_BUILD_HINT,
  buildSide,
  explicitBaseModel,
  missingModelMessage,
  type Side,
} from '../models/model-side.ts';
import { clientFor, publishRequestFor, publishWithClient } from '../publishing/client.ts';
import { tracerFor } from '../models/tracing.ts';
import { guardRun } from '../safety.ts';
import { MissingFileError, readBaseline } from '../untrusted/read-bundle.ts';
import { resolveBaseCommit, withWorktree } from '../models/worktree.ts';
import { baselineFromArtifact } from '../models/baseline-artifact.ts';
import type { Tracer } from '../models/tracing.ts';

interface Sides {
  head: Report;
  base: Report | null;
  baseCommit: { sha: string; how: string } | null;
  notes: string[];
  /** Why the base could not be had (its build failed): the verdict fails with it. */
  baseError?: string;
}

async function headReport(
  inputs: ActionInputs,
  ctx: RunContext,
  env: NodeJS.ProcessEnv,
  tracer: Tracer,
  io: Io,
) {
  const side: Side = { root: ctx.workspace, label: 'head' };
  await buildSide(side, { build: inputs.build, env, io });
  if (isUrl(inputs.model)) {
    const file = await downloadModel(inputs.model, ctx.tempDir, { proxy: ctx.proxy });
    return analyzeModel(file, { displayName: inputs.model, tracer });
  }
  const rel = relativeModelPath(ctx.workspace, inputs.model);
  const report = await analyzeSide(side, rel, tracer, io);
  if (!report) throw new ActionError(missingModelMessage(rel, side, inputs.build));
  return report;
}

async function collectSides(
  inputs: ActionInputs,
  ctx: RunContext,
  env: NodeJS.ProcessEnv,
  buildTemp: string,
  io: Io,
): Promise<Sides> {
  const tracer = tracerFor(inputs, ctx, env, io);
  const notes: string[] = [];
  // 1. An explicit baseline report (e.g. the artifact of the base branch's `mode: baseline` run).
  if (inputs.baseReport && inputs.baseline !== 'rebuild') {
    try {
      const { report, commit } = readBaseline(inputs.baseReport);
      io.info(
        `paramtrace: base from report ${inputs.baseReport}${commit ? ` (commit ${commit.slice(0, 12)})` : ''}`,
      );
      const head = await headReport(inputs, ctx, env, tracer, io);
      return {
        head,
        base: report,
        baseCommit: commit ? { sha: commit, how: 'baseline report' } : null,
        notes,
      };
    } catch (error) {
      const missing = error instanceof MissingFileError;
      if (inputs.baseline === 'report' || !missing) throw new ActionError((error as Error).message);
      io.info(`paramtrace: no base report at ${inputs.baseReport}; building the base instead`);
    }
  }
  // 2. An explicit base model (after the head's build, which may produce what `input-files` names).
  if (inputs.baseModel) {
    const head = await headReport(inputs, ctx, env, tracer, io);
    const base = await explicitBaseModel(inputs.baseModel, ctx, tracer);
    return { head, base, baseCommit: null, notes };
  }
  // 3. The report artifact of the merge-base's own `mode: baseline` run (baseline: auto), else rebuild
  // the base in a worktree of the merge-base. Git runs before the head build, so nothing the build
  // leaves in .git can affect it.
  const pr = ctx.pullRequest;
  if (!pr)
    throw new ActionError(
      'mode: pr needs a pull_request event, or `base-model` / `base-report` to compare with',
    );
  if (isUrl(inputs.model))
    throw new ActionError('a model URL has no base to rebuild: give `base-model` or `base-report`');
  const rel = relativeModelPath(ctx.workspace, inputs.model);
  const baseCommit = await resolveBaseCommit(ctx.workspace, pr.baseSha, env);
  if (baseCommit.note) {
    io.warning(baseCommit.note);
    notes.push(baseCommit.note);
  }
  if (inputs.baseline === 'auto') {
    const artifact = inputs.token
      ? await baselineFromArtifact(clientFor(inputs, ctx, io), inputs, ctx, baseCommit.sha)
      : { found: false as const, why: 'no github-token to look for the baseline artifact with' };
    if (artifact.found) {
      io.info(
        `paramtrace: base from the '${inputs.baselineArtifact}' artifact ${artifact.artifactId}` +
          `${artifact.runId ? ` of run ${artifact.runId}` : ''} (commit ${baseCommit.sha.slice(0, 12)})`,
      );
      const head = await headReport(inputs, ctx, env, tracer, io);
      return {
        head,
        base: artifact.report,
        baseCommit: { sha: baseCommit.sha, how: 'baseline artifact' },
        notes,
      };
    }
    io.warning(`paramtrace: ${artifact.why}. Rebuilding the base instead.`);
  }
  // The worktree goes in the build's own temporary folder: under RUNNER_TEMP, the base's build would
  // find the runner's command files next to it.
  return withWorktree(ctx.workspace, baseCommit.sha, buildTemp, env, async (dir) => {
    const head = await headReport(inputs, ctx, env, tracer, io);
    const label = `base (${baseCommit.how} ${baseCommit.sha.slice(0, 12)})`;
    const side: Side = { root: dir, label };
    try {
      await buildSide(side, { build: inputs.build, env, io });
    } catch (error) {
      if (!(error instanceof BuildError)) throw error;
      // Never a pass: a base that cannot be built would let any head through. The head's report is
      // still compared with an empty model and posted, so the reviewer sees it and why the check failed.
      io.warning(`${error.message}\n${BASE_BUILD_HINT}`);
      notes.push(BASE_BUILD_HINT);
      return { head, base: null, baseCommit, notes, baseError: error.message.split('\n', 1)[0]! };
    }
    const base = (await analyzeSide(side, rel, tracer, io)) ?? null;
    if (base) return { head, base, baseCommit, notes };
    const missing = missingModelMessage(rel, side, inputs.build);
    if (inputs.missingBase === 'fail') {
      return { head, base: null, baseCommit, notes, baseError: `${missing} (missing-base: fail)` };
    }
    notes.push(`${missing}; compared with an empty model (a new model: only max-params applies)`);
    return { head, base: null, baseCommit, notes };
  });
}

export async function runPr(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  guardRun('pr', inputs, ctx, io);
  return withBuildTemp((buildTemp) => comparePullRequest(inputs, ctx, io, buildTemp));
}

async function comparePullRequest(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  buildTemp: string,
): Promise<RunResult> {
  const pr = ctx.pullRequest;
  const env = buildEnvironment(process.env, [inputs.token], buildTemp);
  const sides = await collectSides(inputs, ctx, env, buildTemp, io);
  for (const note of sides.notes) io.notice(note);

  return finishComparison(
    inputs,
    ctx,
    io,
    {
      head: sides.head,
      base: sides.base,
      baseError: sides.baseError,
      commits: {
        head: pr?.headSha ?? (ctx.sha || null),
        base: sides.baseCommit?.sha ?? null,
        baseHow: sides.baseCommit?.how,
      },
      pullRequest: pr
        ? { number: pr.number, headSha: pr.headSha, baseSha: pr.baseSha, headRepo: pr.headRepo }
        : null,
      notes: sides.notes,
      links: commentLinks(ctx, {
        base: sides.baseCommit?.sha ?? null,
        head: pr?.headSha ?? (ctx.sha || null),
        baseHow: sides.baseCommit?.how,
      }),
    },
    async (comparison, body) => {
      if (!pr) return { outputs: { 'pull-request': '' }, problems: [] };
      const request = publishRequestFor(
        inputs,
        ctx,
        { pullNumber: pr.number, headSha: pr.headSha },
        comparison,
        body,
      );
      const published = await publishWithClient(inputs, ctx, io, request);
      return { ...published, outputs: { ...published.outputs, 'pull-request': String(pr.number) } };
    },
  );
}
