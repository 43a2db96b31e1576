// Number, shape and trace formatting shared by the renderers (text table, Markdown comment, the verdict's
// words in src/render/verdict.ts).
import type { Dim } from './report.ts';

// Made on first use of a fraction: loading ICU's number formatting costs ~15 ms of every start.
let grouped: Intl.NumberFormat | undefined;

/** 11689512 → "11,689,512" (as en-US formats it). */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return (grouped ??= new Intl.NumberFormat('en-US')).format(n);
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let at = out.length; at < digits.length; at += 3) out += `,${digits.slice(at, at + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** 11689512 → "11.7M"; 9 → "9". For summaries where the exact figure is one click away. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  for (const [limit, suffix] of [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ] as const) {
    if (abs >= limit)
      return `${(n / limit).toFixed(abs / limit >= 100 ? 0 : 1).replace(/\.0$/, '')}${suffix}`;
  }
  return String(n);
}

/** "+1,234" / "-9" / "0". */
export function formatSigned(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : formatCount(n);
}

/** "+12.5%", "-3.1%", "n/a" when the base is 0. */
export function formatPercent(delta: number, base: number): string {
  if (delta === 0) return '0%';
  if (base === 0) return 'new';
  const pct = (delta / base) * 100;
  const digits = Math.abs(pct) < 10 ? 2 : 1;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(digits)}%`;
}

export function formatMegabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(2);
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** How a side's counts were decided: a report's `trace`, or the comparison's summary of it. */
export type TraceWords =
  | { mode: 'static' }
  | { mode: 'failed'; error: string }
  | { mode: 'onnxruntime'; onnxruntimeVersion: string; device: string };

/**
 * A report's trace (or a comparison side's) in a few words: `traced with onnxruntime 1.30.0 on cpu`,
 * `static (not traced)`.
 */
export function traceLine(subject: { trace: TraceWords }): string {
  const t = subject.trace;
  if (t.mode === 'static') return 'static (not traced)';
  if (t.mode === 'failed') return `static (trace failed: ${t.error})`;
  return `traced with onnxruntime ${t.onnxruntimeVersion} on ${t.device}`;
}
