// The comparison's counts as table rows (label, base, head, change, %), the same for the Markdown
// comment and the terminal's text table: the parameter counts, the size in MB, and the MACs of one run
// where either report measured them.
import type { Comparison, CountName, Delta } from '../compare/comparison.ts';
import { formatCount, formatMegabytes, formatPercent, formatSigned } from '../report/format.ts';

/** The counts the tables show, in order, with their labels (parameterBytes is the size row). */
const COUNT_ROWS: [CountName, string][] = [
  ['unique', 'Unique (used)'],
  ['declared', 'Declared'],
  ['summary', 'Summary-style'],
  ['trainable', 'Trainable'],
  ['frozen', 'Frozen'],
  ['buffers', 'Buffers'],
];

export type CountRow = [label: string, base: string, head: string, change: string, percent: string];

function countRow(label: string, d: Delta): CountRow {
  return [
    label,
    d.base === null ? 'n/a' : formatCount(d.base),
    d.head === null ? 'n/a' : formatCount(d.head),
    d.delta === null ? 'n/a' : formatSigned(d.delta),
    d.delta === null || d.base === null ? '' : formatPercent(d.delta, d.base),
  ];
}

const known = (d: Delta): boolean => d.base !== null || d.head !== null;

export function countRows(c: Comparison): CountRow[] {
  const rows = COUNT_ROWS.filter(([name]) => known(c.counts[name])).map(([name, label]) =>
    countRow(label, c.counts[name]),
  );
  const bytes = c.counts.parameterBytes;
  rows.push([
    'Size (MB)',
    formatMegabytes(bytes.base ?? 0),
    formatMegabytes(bytes.head ?? 0),
    `${(bytes.delta ?? 0) >= 0 ? '+' : ''}${formatMegabytes(bytes.delta ?? 0)}`,
    '',
  ]);
  // What one run costs (src/cost), where either report measured it.
  if (known(c.counts.macs)) rows.push(countRow('MACs (one run)', c.counts.macs));
  return rows;
}
