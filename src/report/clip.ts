// Names come from the model and can be any length; the report schema bounds every string (a report read
// back is untrusted), so the analysis clips them once, here, rather than each place a name is made.
export const MAX_STRING = 4096;

/** Clips to at most `max` UTF-16 units, an ellipsis last, without splitting a surrogate pair. */
export function clip(text: string, max = MAX_STRING): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end--;
  return `${text.slice(0, end)}…`;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must go
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Control characters (C0, DEL, C1, line and paragraph separators) written as `\uXXXX`: text from a file
 * stays on one line and cannot steer a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The JSON-like value with every string (and object key) at most MAX_STRING characters: the value itself
 * when none is longer (nearly always), else a copy with the long ones clipped.
 */
export function clipStrings<T>(value: T): T {
  return hasLongString(value) ? clipped(value) : value;
}

function hasLongString(value: unknown): boolean {
  if (typeof value === 'string') return value.length > MAX_STRING;
  if (Array.isArray(value)) return value.some(hasLongString);
  if (value && typeof value === 'object') {
    for (const key in value) {
      if (key.length > MAX_STRING || hasLongString((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
}

function clipped<T>(value: T): T {
  if (typeof value === 'string') return clip(value) as T;
  if (Array.isArray(value)) return value.map(clipped) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [clip(k), clipped(v)])) as T;
  }
  return value;
}
