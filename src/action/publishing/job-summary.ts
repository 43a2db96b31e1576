// The job summary: written on every run that gets far enough to have something to say, before any API
// call, so a failing comment never loses the report.
import { appendFileSync } from 'node:fs';
import { SUMMARY_LIMIT } from '../../render/markdown.ts';

/** Appends Markdown to GITHUB_STEP_SUMMARY (no-op outside Actions), never past GitHub's 1 MiB. */
export function appendSummary(path: string | null, markdown: string): void {
  if (!path) return;
  let text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  if (Buffer.byteLength(text) > SUMMARY_LIMIT) {
    const note = '\n\n_Summary cut at GitHub’s 1 MiB limit; the full report is in the report file._\n';
    text =
      Buffer.from(text)
        .subarray(0, SUMMARY_LIMIT - Buffer.byteLength(note) - 4)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + note;
  }
  appendFileSync(path, text);
}

/** Untrusted text (build output, error messages) as a fenced code block nothing can break out of. */
export function fenced(text: string, maxChars = 20_000): string {
  const clipped = text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
  const longest = Math.max(0, ...(clipped.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${clipped}\n${fence}`;
}
