// mode: pr with a list or glob in `model`: several models in one run. Each side is built once (the
// action's `build`, then each model's own), the models are found (globs expanded in each checkout), each
// is analyzed and compared as mode: pr compares one, and the run ends as mode: aggregate does: one
// verdict, one comment, one status. Each model's report file (a mode: pr bundle) is written too, so the
// fork-safe pair can post them with mode: aggregate.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isDynamicPattern } from 'tinyglobby';
import { join, relative } from 'node:path';
import type { ModelUnavailable } from '../../compare/aggregate.ts';
import { renderHtmlReport } from '../../render/html.ts';
import type { Report } from '../../report/report.ts';
import { UserError } from '../../report/user-error.ts';
import type { RunContext } from '../context.ts';
import {
  parseInputDims,
  parseInputFiles,
  parseInputShapes,
  parseInputValues,
  type ActionInputs,
  type TraceInputs,
} from '../inputs.ts';
import { analyzeModel, emptyReport } from '../models/analyze-model.ts';
import { BuildError, buildEnvironment, withBuildTemp } from '../models/exec.ts';
import { downloadModel, isUrl, relativeModelPath } from '../models/model-file.ts';
import type { ModelEntry } from '../models/model-list.ts';
import { modelsIn, type FoundModel } from '../models/model-set.ts';
import {
  analyzeSide,
  BASE_BUILD_HINT,
  buildSide,
  explicitBaseModel,
  missingModelMessage,
  type Side,
} from '../models/model-side.ts';
import { tracerFor, type Tracer } from '../models/tracing.ts';
import { resolveBaseCommit, withWorktree, type BaseCommit } from '../models/worktree.ts';
import { htmlPathFor, reportFileName, reportPathFor, serializeBundle } from '../report-file.ts';
import { compareSides, prBundle, type ModelSides } from './finish.ts';
import { ActionError, type Io, type RunResult } from '../runner-log.ts';
import { guardRun } from '../safety.ts';
import { clientFor } from '../publishing/client.ts';
import { baselinesFromArtifact, type ArtifactBaselines } from '../models/baseline-artifact.ts';
import { finishAggregate, type ModelReport } from './aggregate.ts';

/** Every model's report from the merge-base's baseline artifact. */
type Baselines = Extract<ArtifactBaselines, { found: true }>;

/** One model's two sides, as analyzed; or why it could not be. */
type Outcome = (ModelSides & { key: string }) | { key: string; unavailable: string };

interface Run {
  inputs: ActionInputs;
  ctx: RunContext;
  io: Io;
  env: NodeJS.ProcessEnv;
  tracer: Tracer;
}

export async function runPrModels(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  guardRun('pr', inputs, ctx, io);
  return withBuildTemp(async (buildTemp) => {
    const env = buildEnvironment(process.env, [inputs.token], buildTemp);
    const run: Run = { inputs, ctx, io, env, tracer: tracerFor(inputs, ctx, env, io) };
    const entries = inputs.models!;
    const pr = ctx.pullRequest;
    const notes: string[] = [];
    let baseCommit: BaseCommit | null = null;
    let outcomes: Outcome[];
    if (entries.every((e) => e.baseModel)) {
      outcomes = await analyzeModels(run, entries, null);
    } else {
      if (!pr)
        throw new ActionError(
          'several models in mode: pr need a pull_request event (the base is rebuilt at the merge-base), or a base-model for each',
        );
      baseCommit = await resolveBaseCommit(ctx.workspace, pr.baseSha, env);
      if (baseCommit.note) {
        io.warning(baseCommit.note);
        notes.push(baseCommit.note);
      }
      // `baseline: auto`: every model's report from the merge-base's own `mode: baseline` run, if it has one.
      let baseline: Baselines | null = null;
      if (inputs.baseline === 'auto') {
        const artifact = inputs.token
          ? await baselinesFromArtifact(clientFor(inputs, ctx, io), inputs, ctx, baseCommit.sha)
          : { found: false as const, why: 'no github-token to look for the baseline artifact with' };
        if (artifact.found) baseline = artifact;
        else io.warning(`paramtrace: ${artifact.why}. Rebuilding the base instead.`);
      }
      const label = `base (${baseCommit.how} ${baseCommit.sha.slice(0, 12)})`;
      // Git runs before the head's build, so nothing the build leaves in .git can affect it.
      outcomes = await withWorktree(ctx.workspace, baseCommit.sha, buildTemp, env, (dir) =>
        analyzeModels(run, entries, { root: dir, label }, baseline),
      );
    }
    return finish(run, outcomes, notes, baseCommit);
  });
}

/** Builds and finds every model on both sides, then analyzes each; a model that fails is unavailable. */
async function analyzeModels(
  run: Run,
  entries: ModelEntry[],
  baseSide: Side | null,
  baseline: Baselines | null = null,
): Promise<Outcome[]> {
  const { inputs, ctx, io, env } = run;
  const head: Side = { root: ctx.workspace, label: 'head' };
  // The head's builds fail the run, as with one model: nothing could be compared.
  await buildSide(head, { build: inputs.build, env, io });
  for (const entry of entries)
    await buildSide({ ...head, label: `head, ${entry.where}` }, { build: entry.build, env, io });
  const headModels = await modelsIn(head.root, entries);

  // The baseline artifact stands for the base only when it has every head model the base is rebuilt for:
  // a model it lacks may be new or may be missing from it, and only the rebuilt base can tell.
  let fromArtifact: Map<string, Report> | null = null;
  if (baseline) {
    const rebuilt = [...headModels].filter(([, m]) => !m.entry.baseModel).map(([key]) => key);
    const missing = rebuilt.filter((key) => !baseline.reports.has(key));
    const name = `'${inputs.baselineArtifact}' artifact ${baseline.artifactId}${baseline.runId ? ` of run ${baseline.runId}` : ''}`;
    if (missing.length === 0) {
      fromArtifact = baseline.reports;
      io.info(`paramtrace: base from the ${name} (${baseline.reports.size} models)`);
    } else
      io.warning(
        `paramtrace: the ${name} has no report for ${missing.join(', ')} (a new model, or a baseline of another list). Rebuilding the base instead.`,
      );
  }

  // The base's builds: one that fails fails its models' verdicts (never a pass), as with one model.
  const baseErrors = new Map<ModelEntry, string>();
  let baseModels = new Map<string, FoundModel>();
  if (baseSide && !fromArtifact) {
    const rebuilt = entries.filter((e) => !e.baseModel);
    const failed = await tryBuild(run, baseSide, inputs.build);
    for (const entry of rebuilt) {
      const error =
        failed ??
        (await tryBuild(run, { ...baseSide, label: `${baseSide.label}, ${entry.where}` }, entry.build));
      if (error) baseErrors.set(entry, error);
    }
    baseModels = await modelsIn(
      baseSide.root,
      rebuilt.filter((e) => !baseErrors.has(e)),
    );
  }

  // With a baseline artifact the base's files are not looked at: a model only in the artifact may be one
  // the pull request removes or one this list does not name, so it is not shown.
  const keys = [...new Set([...headModels.keys(), ...baseModels.keys()])];
  // A pattern that matches nothing on either side is a mistake in `model`, not a model to report.
  const found = [...headModels.values(), ...baseModels.values()];
  const e = entries.find((entry) => !baseErrors.has(entry) && !found.some((m) => m.entry === entry));
  if (e) {
    throw new ActionError(
      `${e.where}: the pattern '${e.model}' matched no model file in the head or the base${e.build || inputs.build ? ' after the build' : ''}`,
    );
  }
  const outcomes: Outcome[] = [];
  for (const key of keys) {
    const found = (headModels.get(key) ?? baseModels.get(key))!;
    const artifactReport = fromArtifact?.get(key);
    try {
      outcomes.push(
        await analyzeOne(run, key, found.entry, headModels.get(key), baseModels.get(key), {
          baseSide,
          baseError: baseErrors.get(found.entry),
          fromArtifact: artifactReport,
        }),
      );
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // One model's failure does not hide the others' reports: it fails the verdict with its reason.
      io.warning(`paramtrace: ${key}: ${error.message}`);
      outcomes.push({ key, unavailable: error.message.split('\n', 1)[0]! });
    }
  }
  return outcomes;
}

/** Runs a build; returns why it failed (BuildError), or undefined. */
async function tryBuild(run: Run, side: Side, build: string): Promise<string | undefined> {
  try {
    await buildSide(side, { build, env: run.env, io: run.io });
    return undefined;
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    run.io.warning(`${error.message}\n${BASE_BUILD_HINT}`);
    return error.message.split('\n', 1)[0]!;
  }
}

async function analyzeOne(
  run: Run,
  key: string,
  entry: ModelEntry,
  headModel: FoundModel | undefined,
  baseModel: FoundModel | undefined,
  base: { baseSide: Side | null; baseError: string | undefined; fromArtifact?: Report | undefined },
): Promise<Outcome> {
  const { inputs, ctx } = run;
  const tracer = run.tracer.withInputs(ownTraceInputs(entry));
  const notes: string[] = [];
  const headSide: Side = { root: ctx.workspace, label: 'head' };
  let head: Report;
  if (headModel) {
    const report = await analyzeFound(run, headSide, headModel, tracer);
    if (!report)
      return { key, unavailable: missingModelMessage(headModel.location, headSide, buildOf(inputs, entry)) };
    head = report;
  } else {
    // Only a pattern's match can be at the base alone: the pull request removes that model.
    const note = 'the model does not exist at the head: this pull request removes it';
    head = emptyReport(baseModel!.location, note);
    notes.push(note);
  }
  if (entry.baseModel) {
    return { key, head, base: await explicitBaseModel(entry.baseModel, ctx, tracer), notes };
  }
  if (base.fromArtifact) return { key, head, base: base.fromArtifact, notes };
  if (base.baseError) {
    notes.push(BASE_BUILD_HINT);
    return { key, head, base: null, baseError: base.baseError, notes };
  }
  const baseReport =
    baseModel && base.baseSide ? await analyzeFound(run, base.baseSide, baseModel, tracer) : undefined;
  if (baseReport) return { key, head, base: baseReport, notes };
  // A pattern's match only at the head is a model the pull request adds; a listed path the base's build
  // did not write is said as with one model.
  const missing = isPattern(entry)
    ? 'the model does not exist at the base: this pull request adds it'
    : missingModelMessage(entry.model, base.baseSide ?? headSide, buildOf(inputs, entry));
  if (inputs.missingBase === 'fail')
    return { key, head, base: null, baseError: `${missing} (missing-base: fail)`, notes };
  notes.push(`${missing}; compared with an empty model (a new model: only max-params applies)`);
  return { key, head, base: null, notes };
}

function isPattern(entry: ModelEntry): boolean {
  return !isUrl(entry.model) && isDynamicPattern(entry.model);
}

/** The build commands a model of the list gets: the action's, then its item's own. */
export function buildOf(inputs: Pick<ActionInputs, 'build'>, entry: ModelEntry): string {
  return [inputs.build, entry.build].filter((b) => b).join(' && ');
}

/** A found model analyzed: downloaded when it is a URL; undefined when its file is not there. */
export async function analyzeFound(
  run: Pick<Run, 'ctx' | 'io'>,
  side: Side,
  model: FoundModel,
  tracer: Tracer,
): Promise<Report | undefined> {
  if (isUrl(model.location)) {
    const file = await downloadModel(model.location, run.ctx.tempDir, { proxy: run.ctx.proxy });
    return analyzeModel(file, { displayName: model.location, tracer });
  }
  return analyzeSide(side, relativeModelPath(side.root, model.location), tracer, run.io);
}

/** A model's own `input-shapes`, ... (YAML list), parsed as the action's inputs of the same names. */
export function ownTraceInputs(entry: ModelEntry): Partial<TraceInputs> {
  const own: Partial<TraceInputs> = {};
  const { trace } = entry;
  try {
    if (trace.inputShapes !== undefined) own.inputShapes = parseInputShapes(trace.inputShapes);
    if (trace.dims !== undefined) own.dims = parseInputDims(trace.dims);
    if (trace.inputFiles !== undefined) own.inputFiles = parseInputFiles(trace.inputFiles);
    if (trace.inputValues !== undefined) own.inputValues = parseInputValues(trace.inputValues);
  } catch (error) {
    throw new ActionError(`${entry.where}: ${(error as Error).message}`);
  }
  return own;
}

/** Each model compared and written as its own report file (and page), then one comment for all. */
async function finish(run: Run, outcomes: Outcome[], notes: string[], baseCommit: BaseCommit | null) {
  const { inputs, ctx } = run;
  const pr = ctx.pullRequest;
  const dir = modelReportsDir(reportPathFor(inputs, ctx));
  mkdirSync(dir, { recursive: true });
  const models: ModelReport[] = [];
  const pages: string[] = [];
  const unavailable: ModelUnavailable[] = [];
  for (const outcome of outcomes) {
    if ('unavailable' in outcome) {
      unavailable.push({ key: outcome.key, reason: outcome.unavailable });
      continue;
    }
    const { base, comparison } = compareSides(outcome, inputs.thresholds);
    const bundle = prBundle(
      outcome.key,
      { ...outcome, notes: [...notes, ...outcome.notes] },
      {
        base,
        comparison,
        commits: { head: pr?.headSha ?? (ctx.sha || null), base: baseCommit?.sha ?? null },
        pr: pr
          ? { number: pr.number, headSha: pr.headSha, baseSha: pr.baseSha, headRepo: pr.headRepo }
          : null,
      },
    );
    const file = join(dir, reportFileName(outcome.key, ''));
    writeFileSync(file, serializeBundle(bundle));
    pages.push(htmlPathFor(file));
    writeFileSync(htmlPathFor(file), renderHtmlReport({ base, head: outcome.head, comparison }));
    const shown = relative(ctx.workspace, file).startsWith('..') ? file : relative(ctx.workspace, file);
    models.push({ file: shown, bundle, comparison, base });
  }
  const result = await finishAggregate(inputs, ctx, run.io, {
    models,
    target: {
      number: pr?.number ?? null,
      headSha: pr?.headSha ?? ctx.sha,
      headRepo: pr?.headRepo ?? null,
      run: null,
    },
    expected: [],
    unavailable,
    pages,
  });
  return { ...result, outputs: { ...result.outputs, 'model-reports': dir } };
}

/** Where each model's report file goes: `paramtrace-report.json` → the folder `paramtrace-report/`. */
export function modelReportsDir(reportPath: string): string {
  return reportPath.replace(/\.json$/i, '') + (reportPath.toLowerCase().endsWith('.json') ? '' : '.models');
}
