// Test helpers: analyze a committed fixture the way the CLI does, and read its expectations.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../../src/pipeline/analyze-file.ts';
import type { Report } from '../../src/report/report.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture(name: string): string {
  return `${FIXTURES}${name}`;
}

export interface GraphExpectation {
  declared: number;
  unique: number;
  summary: number;
  shared: Record<string, number>;
  unused: Record<string, string>;
  duplicates: { names: string[]; transposed: boolean }[];
  valueMerged?: Record<string, string[]>;
  callsUsing?: Record<string, string[]>;
}

export interface Expectation {
  description: string;
  torch?: { declared: number; used: number; buffers?: number };
  graph: GraphExpectation;
}

export function expectation(name: string): Expectation {
  return JSON.parse(readFileSync(fixture(`${name}.expect.json`), 'utf8')) as Expectation;
}

export function analyzeFixture(name: string): Promise<Report> {
  return analyzeFile(fixture(`${name}.onnx`));
}
