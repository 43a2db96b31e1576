// Names come from the model and can be any length; the report schema bounds every string (a report read
// back is untrusted), so the analysis clips them once, here, rather than each place a name is made.
export const MAX_STRING = 4096;

function clip(text: string): string {
  if (text.length <= MAX_STRING) return text;
  // Do not split a surrogate pair.
  let end = MAX_STRING - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end--;
  return `${text.slice(0, end)}…`;
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
