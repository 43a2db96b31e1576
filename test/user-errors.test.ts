// One shape for the errors a user should see (src/report/user-error.ts): every such class is a UserError
// with its own stable code, and both edges (the CLI, the action) recognize it by that alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../src/analysis/read-manifest.ts';
import { ContextError } from '../src/action/context.ts';
import { BuildError, GitError } from '../src/action/models/exec.ts';
import { InputError } from '../src/action/inputs.ts';
import { ActionError } from '../src/action/runner-log.ts';
import { ModelLocationError } from '../src/action/models/model-file.ts';
import { failureMessage } from '../src/action/dispatch.ts';
import {
  MissingArtifactError,
  MissingFileError,
  UntrustedInputError,
} from '../src/action/untrusted/read-bundle.ts';
import { ModelReadError } from '../src/onnx/read-model.ts';
import { ReportError } from '../src/report/report-error.ts';
import { UserError } from '../src/report/user-error.ts';
import { TraceError, TraceInputError, TraceUsageError } from '../src/trace/errors.ts';

const errors: UserError[] = [
  new ActionError('a'),
  new BuildError('b'),
  new ContextError('c'),
  new GitError('g'),
  new InputError('i'),
  new ManifestError('m.json', 'm'),
  new MissingArtifactError('ma'),
  new MissingFileError('mf'),
  new ModelLocationError('ml'),
  new ModelReadError('mr.onnx', 'mr'),
  new ReportError('r'),
  new TraceError('crash', 't'),
  new TraceInputError('ti'),
  new TraceUsageError('tu'),
  new UntrustedInputError('u'),
];

test('every error a user should see is a UserError with its own stable code and exit status 2', () => {
  for (const e of errors) {
    assert.ok(e instanceof UserError, e.name);
    assert.match(e.code, /^[a-z]+(-[a-z]+)*$/, e.name);
    assert.equal(e.exitCode, 2, e.name);
  }
  const codes = errors.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, `codes repeat: ${codes.join(', ')}`);
});

test('the action shows each as it is, including a ReportError (once missing from its list)', () => {
  for (const e of errors) assert.deepEqual(failureMessage(e).internal, false, e.name);
  assert.equal(failureMessage(new ReportError('not a report')).message, 'not a report');
  const bug = failureMessage(new TypeError('Cannot read properties of null'));
  assert.equal(bug.internal, true);
  assert.match(bug.message, /^internal error: Cannot read properties of null/);
});
