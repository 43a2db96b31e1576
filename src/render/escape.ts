// Everything that reaches a comment from a model, a PR or an artifact (layer names, tensor names, paths)
// is untrusted. It is shown as inline code (or escaped text) with every character that Markdown, HTML, a
// table, a mention or an autolink could act on there replaced by an entity, so it renders as the same
// text and does nothing; characters that cannot act where they stand stay as they are, to keep a
// comment readable and small.
import { clip } from '../report/clip.ts';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
  '`': '&#96;',
  '\\': '&#92;',
  '[': '&#91;',
  ']': '&#93;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '#': '&#35;',
  '!': '&#33;',
  '(': '&#40;',
  ')': '&#41;',
  ':': '&#58;',
};

/** Word joiner: invisible, and it ends the word a mention, a reference or an autolink would need. */
const JOINER = '\u2060';

/**
 * Characters that change how the text around them is shown without being seen: bidirectional overrides
 * and isolates (a name that reads differently from what it is, as in "Trojan Source"), zero-width
 * characters (two names that look the same), and the word joiner paramtrace itself inserts. They are
 * shown as their code point, e.g. [U+202E].
 */
const INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class -- each listed on its own, on purpose
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** Every character Markdown, HTML, a table, a link or an image could act on. */
const SPECIAL = /[&<>"'|`\\[\]*_~#!():]/g;
/** The same less `:` and parentheses, which need a `[` or an autolink to act: for lines read as text. */
const SPECIAL_IN_PROSE = /[&<>"'|`\\[\]*_~#!]/g;

/**
 * The same for text between <code> and </code>: GitHub runs no mention, emoji or reference filter there,
 * and without a `[` neither `(`, `)`, `:` nor `!` can make a link or an image; quotes only matter inside
 * a tag. An `_` acts only at the edge of a word (CommonMark's flanking rules): one between two letters or
 * digits stays as it is (a run of them too: `a__b`), so `conv1_1` reads as `conv1_1`, not `conv1&#95;1`.
 */
const SPECIAL_IN_CODE = /[&<>|`\\[\]*~#]|(?<![A-Za-z0-9_])_+|_+(?![A-Za-z0-9_])/g;

/** Entities for the special characters; no line breaks, no invisible characters; bounded length. */
function entities(value: string, maxLength: number, special: RegExp): string {
  return (
    clip(value, maxLength)
      // Control characters and line breaks could end a table row or a code span.
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
      // A lone surrogate is not text; GitHub would show it as a replacement character anyway.
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      .replace(special, (run) => Array.from(run, (c) => ENTITIES[c]!).join(''))
      .replace(INVISIBLE, (c) => `&#91;U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}&#93;`)
      // GitHub links no mention inside <code>; a word joiner after @ is the guard for text outside it.
      .replace(/@/g, `@${JOINER}`)
  );
}

/**
 * GitHub's Markdown autolinks URLs and www. addresses in any text, including the text between <code>
 * and </code> (to Markdown those are two inline HTML tags around ordinary text): a word joiner breaks
 * the pattern and shows nothing.
 */
function noAutolinks(escaped: string): string {
  return escaped.replace(/(:|&#58;)\/\//g, `$1${JOINER}//`).replace(/\b(www)\./gi, `$1${JOINER}.`);
}

/** Outside <code>, GitHub's reference filter would also link #12: a word joiner there too. */
function unlinked(escaped: string): string {
  return noAutolinks(escaped).replace(/&#35;(?=[0-9])/g, `&#35;${JOINER}`);
}

/** Untrusted text shown outside <code> (a table cell, a note): every special character an entity. */
export function escapeText(value: string, maxLength = 200): string {
  return unlinked(entities(value, maxLength, SPECIAL));
}

/**
 * Untrusted text that reads as a sentence (the verdict, which names parameters): as escapeText, but
 * colons and parentheses stay as they are, since without a `[` or an autolink they do nothing.
 */
export function escapeLine(value: string, maxLength = 500): string {
  return unlinked(entities(value, maxLength, SPECIAL_IN_PROSE));
}

/** An untrusted name as inline code. */
export function code(value: string, maxLength = 200): string {
  return `<code>${noAutolinks(entities(value, maxLength, SPECIAL_IN_CODE))}</code>`;
}
