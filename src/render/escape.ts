// Everything that reaches a comment from a model, a PR or an artifact (layer names, tensor names, paths)
// is untrusted. It is shown as inline code with every character that Markdown, HTML, a table, a mention
// or an autolink could act on replaced by an entity, so it renders as the same text and does nothing.

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

/** Plain text for Markdown/HTML: special characters as entities, no line breaks, bounded length. */
export function escapeText(value: string, maxLength = 200): string {
  const clipped = value.length > maxLength ? `${value.slice(0, maxLength - 1)}…` : value;
  return (
    clipped
      // Control characters and line breaks could end a table row or a code span.
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')
      .replace(/[&<>"'|`\\[\]*_~#!():]/g, (c) => ENTITIES[c]!)
      // GitHub processes neither mentions nor autolinks inside <code>; a word joiner after @ is a second
      // guard for text shown outside it.
      .replace(/@/g, '@\u2060')
  );
}

/** An untrusted name as inline code. */
export function code(value: string, maxLength = 200): string {
  return `<code>${escapeText(value, maxLength)}</code>`;
}
