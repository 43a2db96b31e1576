import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The pipeline runs one way (README, "Architecture"): `report` (the types and words every stage shares),
 * read the model (`onnx`), trace it (`trace`), analyze it (`analysis`; `pipeline` wires these), compare two
 * reports (`compare`), render, publish (`github`); the action and the CLI are the two edges. A folder may
 * import the folders before it in this list, never one after it (and the two edges not each other).
 */
const STAGES = ['report', 'onnx', 'trace', 'analysis', 'cost', 'pipeline', 'compare', 'render', 'github'];
const EDGES = ['action', 'cli'];
const zones = [
  ...STAGES.map((stage, i) => ({
    target: `./src/${stage}`,
    from: [...STAGES.slice(i + 1), ...EDGES].map((later) => `./src/${later}`),
    message: `src/${stage} may not import a later stage of the pipeline or an edge`,
  })),
  { target: './src/action', from: ['./src/cli'], message: 'the action and the CLI are separate edges' },
  { target: './src/cli', from: ['./src/action'], message: 'the action and the CLI are separate edges' },
];

export default tseslint.config(
  { ignores: ['node_modules', 'lib', 'dist', '.cache', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js', '.mjs'],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones }],
    },
  },
);
