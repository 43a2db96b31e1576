// The fixed values of the report bundle's format (bundle-schema.ts), as plain values: writing a bundle
// (src/action/report-file.ts) needs them without loading the schema library.
export const BUNDLE_SCHEMA_VERSION = 1;
export const BUNDLE_KIND = 'paramtrace-run';
/** `pr`: a comparison of a pull request with its base; `baseline`: one commit's report. */
export const BUNDLE_MODES = ['pr', 'baseline'] as const;
