// Untrusted text (model, parameter and input names, messages that quote them) on one line of plain text:
// a log line, a step output, an annotation, a commit status, a line the CLI prints. A GitHub runner takes
// a log line for a workflow command when, after leading white space, it starts with `::`, and anywhere
// it contains `##[` (the old form); a terminal or a browser lets bidirectional controls reorder what is
// shown. So every character that could break the line, steer a terminal or hide itself is written as its
// `\uXXXX` escape, `##[` as `#\u0023[`, and a line never starts with `::`. The Markdown of the comment
// has its own escaping (src/render/escape.ts).

/**
 * Shown as `\uXXXX`: C0 and C1 controls, DEL, line and paragraph separators (every line break), the
 * bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E/F, U+202A–202E, U+2066–2069),
 * zero-width and other invisible characters, and lone surrogates.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- each listed on its own, on purpose
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The same less the line feed: for a block of lines, each made safe on its own. */
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- as UNSAFE
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The old form of a workflow command, which the runner finds anywhere in a line. */
const OLD_COMMAND = /##\[/g;

/** A line that is a workflow command: `::` after leading white space (the runner trims as String.TrimStart). */
const COMMAND_START = /^([^\S\n]*):(?=:)/gm;

/** Longest untrusted text on one line, unless the caller says otherwise. */
export const MAX_PLAIN = 1000;

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Every unsafe character as `\uXXXX` (the line feed too) and `##[` as `#\u0023[`: one line that shows
 * the text as it is, escapes visible. Also valid inside a JSON string, as the same value.
 */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, escapeChar).replace(OLD_COMMAND, '#\\u0023[');
}

/** escapeUnsafe, at most `max` characters (an ellipsis last), never cutting an escape or a surrogate pair. */
export function plainText(text: string, max = MAX_PLAIN): string {
  // Escapes only lengthen the text: its first max + 1 characters decide where it is cut.
  const escaped = escapeUnsafe(text.length > max + 1 ? text.slice(0, max + 1) : text);
  if (escaped.length <= max) return escaped;
  let end = Math.max(0, max - 1);
  const partial = /\\(u[0-9a-f]{0,3})?$/.exec(escaped.slice(Math.max(0, end - 5), end));
  if (partial) end -= partial[0].length;
  else if (/[\ud800-\udbff]/.test(escaped[end - 1] ?? '')) end--;
  return `${escaped.slice(0, end)}…`;
}

/**
 * A whole line that may start with untrusted text: plainText, and a leading `::` written `\u003a:` so the
 * runner cannot take it for a workflow command.
 */
export function plainLine(text: string, max = MAX_PLAIN): string {
  const line = guardStart(plainText(text, max));
  // The guard lengthens a line by five characters.
  return line.length <= max ? line : guardStart(plainText(text, max - GUARD_LENGTH));
}

const GUARD_LENGTH = '\\u003a'.length - 1;

/** What src/render/escape.ts inserts to stop links and mentions; it shows a name's own as [U+2060]. */
const WORD_JOINER = '\u2060';

/**
 * Text of many lines (what the CLI prints) made safe line by line, the last resort at the edge: unsafe
 * characters but the line feed escaped, `##[` broken, no line starting with `::`. Lengths unchanged
 * otherwise; JSON stays the same JSON value (these characters only occur inside its strings). Markdown
 * from src/render/markdown.ts keeps the word joiners its escaping put in (`markdown`).
 */
export function plainLines(text: string, options: { markdown?: boolean } = {}): string {
  const escaped = text.replace(UNSAFE_BUT_NEWLINE, (c) =>
    options.markdown && c === WORD_JOINER ? c : escapeChar(c),
  );
  return guardStart(escaped.replace(OLD_COMMAND, '#\\u0023['));
}

function guardStart(text: string): string {
  return text.replace(COMMAND_START, '$1\\u003a');
}

/**
 * Text of several lines (an error with a build's output) as one: each line escaped, joined with ` ⏎ `,
 * at most `max` characters; when longer, the first line and the end are kept (the end of a build's
 * output says why it failed), `…` between them.
 */
export function joinedLine(text: string, max = 4000): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => escapeUnsafe(l.trimEnd()))
    .filter((l) => l !== '');
  const joined = lines.join(' ⏎ ');
  const limit = guardStart(joined) === joined ? max : max - GUARD_LENGTH;
  if (joined.length <= limit) return guardStart(joined);
  const first = plainText(lines[0] ?? '', Math.floor(limit / 2));
  const room = limit - first.length - ' ⏎ … '.length;
  let rest = joined.slice(joined.length - room);
  // Not half a surrogate pair (a cut escape only shows fewer characters of itself).
  if (/^[\udc00-\udfff]/.test(rest)) rest = rest.slice(1);
  return guardStart(`${first} ⏎ … ${rest}`);
}
