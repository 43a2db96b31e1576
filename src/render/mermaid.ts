// A small chart of where the watched count changed, by top-level module, as a Mermaid `xychart-beta`
// block GitHub draws in a comment: bars for head, a line for base. Inside a fenced block no entity is
// decoded, so module names (untrusted) keep only letters, digits and `_ . - / ( )`, inside the quotes of
// a Mermaid string: nothing Mermaid, HTML or Markdown reads as syntax there (no quote, square bracket,
// `%%` directive, `#` entity, `<` tag, `:`, backtick or line break).
import type { ModuleTable } from '../compare/module-table.ts';

/** More changed modules than this make a chart too crowded to read: the table alone shows them. */
export const CHART_MAX_MODULES = 12;
/** The most characters of a module's name the chart's axis shows. */
const LABEL_MAX = 24;

/** A module's name as a chart label: unsafe characters as `?`, clipped, distinct from the others. */
export function chartLabel(name: string, taken: Set<string> = new Set()): string {
  let label = name.replace(/[^A-Za-z0-9_.\-/()]/g, '?');
  // Clipped in the middle: sibling modules often differ only at the end (`x_encoder`, `x_decoder`).
  if (label.length > LABEL_MAX) label = `${label.slice(0, 10)}~${label.slice(-(LABEL_MAX - 11))}`;
  // Two names may end up alike (`a<b` and `a>b`): a number keeps their bars apart.
  let unique = label;
  for (let i = 2; taken.has(unique); i++) unique = `${label}-${i}`;
  taken.add(unique);
  return unique;
}

/** The fenced block's lines, or none when nothing changed or too many modules did. */
export function moduleChart(table: ModuleTable, metricLabel: string): string[] {
  const rows = table.changed;
  if (rows.length === 0 || rows.length > CHART_MAX_MODULES) return [];
  const taken = new Set<string>();
  const labels = rows.map((r) => `"${chartLabel(r.name, taken)}"`);
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${metricLabel} by module (bars: head, line: base)"`,
    `  x-axis [${labels.join(', ')}]`,
    '  y-axis "Parameters"',
    `  bar [${rows.map((r) => r.head).join(', ')}]`,
    `  line [${rows.map((r) => r.base).join(', ')}]`,
    '```',
  ];
}
