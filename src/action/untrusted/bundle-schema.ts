// The report file the action writes (`report-path`) and the fork-safe flow carries as an artifact, defined
// once: this TypeBox schema is what a bundle read back must match (untrusted: bounded, no extra keys), and
// src/action/report-file.ts derives the ReportBundle type from it. The reports and the comparison in it
// are checked by their own schemas, by reference. scripts/gen-report-validator.ts compiles it.
import { Type, type Static } from '@sinclair/typebox';
import { COMPARISON_ID, ComparisonSchema } from '../../compare/comparison-schema.ts';
import { nullable, object, oneOf, ReportRef } from '../../report/report-schema.ts';
import { COMMENT_KEY_PATTERN } from '../../render/comment-marker.ts';
import { BUNDLE_KIND, BUNDLE_MODES, BUNDLE_SCHEMA_VERSION } from './bundle-constants.ts';

export const BUNDLE_ID = 'paramtrace-bundle';

const sha = Type.String({ maxLength: 64, pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' });
const repoName = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' });
const ComparisonRef = Type.Unsafe<Static<typeof ComparisonSchema>>({ $ref: COMPARISON_ID });

export const BundlePullRequestSchema = object({
  number: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
  headSha: sha,
  baseSha: sha,
  /** owner/name of the head repository; null when the fork was deleted. */
  headRepo: nullable(repoName),
});

export const BundleSchema = Type.Object(
  {
    schemaVersion: Type.Literal(BUNDLE_SCHEMA_VERSION),
    kind: Type.Literal(BUNDLE_KIND),
    /** `pr`: a comparison of a pull request with its base; `baseline`: one commit's report. */
    mode: oneOf(BUNDLE_MODES),
    tool: object({
      name: Type.Literal('paramtrace'),
      version: Type.String({ maxLength: 64, pattern: '^[0-9A-Za-z.+_-]+$' }),
    }),
    commentKey: Type.String({ maxLength: 100, pattern: COMMENT_KEY_PATTERN }),
    commits: object({
      /** The commit the head report is of (the pull request head, or the pushed commit). */
      head: nullable(sha),
      /** The commit the base report is of (the merge-base), when known. */
      base: nullable(sha),
    }),
    pullRequest: nullable(BundlePullRequestSchema),
    base: nullable(ReportRef),
    head: ReportRef,
    comparison: nullable(ComparisonRef),
    /** What the run had to work around (no model at base, baseline from another commit, ...). */
    notes: Type.Array(Type.String({ maxLength: 16_384 }), { maxItems: 1000 }),
    /** `mode: pr`: why the base could not be had (its build failed); the verdict fails with it. */
    baseError: Type.Optional(Type.String({ maxLength: 4096 })),
    /** `mode: pr`: the base had no model file (a new model); its report is an empty stand-in. */
    baseMissing: Type.Optional(Type.Literal(true)),
  },
  { $id: BUNDLE_ID, additionalProperties: false },
);
