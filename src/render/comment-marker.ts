// The hidden first line that identifies paramtrace's comment for a comment key, written once: the
// renderer puts it first in the comment, src/github/comments.ts finds the comment by it, and the report
// bundle's schema checks the key it carries with the same pattern.

/**
 * A comment key is a short identifier; it ends up inside an HTML comment, so nothing else is allowed (and
 * no `--`, which would end the comment).
 */
export const COMMENT_KEY_PATTERN = '^(?!.*--)[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$';
const KEY = new RegExp(COMMENT_KEY_PATTERN);

export function isCommentKey(key: string): boolean {
  return KEY.test(key);
}

/** The marker line for `key`; characters a key may not hold become `_`. */
export function commentMarker(key: string): string {
  return `<!-- paramtrace:comment-key=${key.replace(/[^A-Za-z0-9_.\-/]/g, '_')} -->`;
}
