// Checks on the Markdown paramtrace writes for GitHub (comments, job summaries), shared by the limit
// and the escaping tests.
import assert from 'node:assert/strict';

/** Checks a rendered comment or summary is well-formed Markdown of the shapes paramtrace writes. */
export function assertWellFormed(body: string): void {
  const lines = body.split('\n');
  // Tables: a header row, a delimiter row, then rows with as many cells, each row whole.
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|')) continue;
    const cells = (line: string): number => line.split('|').length - 2;
    const header = cells(lines[i]!);
    assert.match(
      lines[i + 1] ?? '',
      /^\|( *:?-+:? *\|)+$/,
      `a table without its delimiter row at line ${i + 1}`,
    );
    let j = i;
    for (; j < lines.length && lines[j]!.startsWith('|'); j++) {
      assert.ok(lines[j]!.endsWith('|'), `table row cut at line ${j + 1}: ${lines[j]!.slice(-80)}`);
      assert.equal(cells(lines[j]!), header, `row ${j + 1} has another number of cells`);
    }
    assert.ok(j === lines.length || lines[j] === '', `a table not followed by an empty line (line ${j + 1})`);
    i = j;
  }
  const count = (re: RegExp): number => body.match(re)?.length ?? 0;
  assert.equal(count(/<details>/g), count(/<\/details>/g), 'unbalanced <details>');
  assert.equal(count(/<code>/g), count(/<\/code>/g), 'unbalanced <code>');
}
