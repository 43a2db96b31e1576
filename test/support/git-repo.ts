// A real git repository in a temporary directory for the action's end-to-end tests: a base commit on
// main and head commits on a branch, each with a committed "source" model that the build step copies
// into place (`cp model-src.onnx model.onnx`), as a build that exports the model would.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from './analyze-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const BUILD = 'cp model-src.onnx model.onnx';
export const MODEL = 'model.onnx';

export interface ModelRepo {
  dir: string;
  /** Label → commit sha. */
  commits: Record<string, string>;
  git(...args: string[]): string;
  checkout(label: string): void;
  remove(): void;
}

export interface CommitSpec {
  label: string;
  /**
   * Fixture name (without .onnx) committed as model-src.onnx, or a path ending in .onnx relative to the
   * repository root (`examples/head.onnx`); null removes it.
   */
  model: string | null;
  branch?: string;
  /** Extra files to commit (folders made as needed). */
  files?: Record<string, string | Uint8Array>;
  /** Files to delete in this commit. */
  remove?: string[];
}

export function createModelRepo(commits: CommitSpec[]): ModelRepo {
  const dir = mkdtempSync(join(tmpdir(), 'paramtrace-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
        GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
      },
    }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('config', 'user.name', 'paramtrace tests');
  git('config', 'user.email', 'tests@example.invalid');
  git('config', 'commit.gpgsign', 'false');
  writeFileSync(join(dir, '.gitignore'), `${MODEL}\n`);
  const shas: Record<string, string> = {};
  for (const spec of commits) {
    if (spec.branch) {
      const exists = git('branch', '--list', spec.branch) !== '';
      git('checkout', '--quiet', ...(exists ? [] : ['-b']), spec.branch);
    }
    if (spec.model === null) rmSync(join(dir, 'model-src.onnx'), { force: true });
    else {
      const source = spec.model.endsWith('.onnx') ? join(ROOT, spec.model) : fixture(`${spec.model}.onnx`);
      copyFileSync(source, join(dir, 'model-src.onnx'));
    }
    for (const [name, content] of Object.entries(spec.files ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    for (const name of spec.remove ?? []) rmSync(join(dir, name));
    git('add', '--all');
    git('commit', '--quiet', '--allow-empty', '-m', spec.label);
    shas[spec.label] = git('rev-parse', 'HEAD');
  }
  return {
    dir,
    commits: shas,
    git,
    checkout(label: string) {
      git('checkout', '--quiet', '--detach', shas[label]!);
      rmSync(join(dir, MODEL), { force: true });
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
