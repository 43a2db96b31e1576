// A small strict validator for JSON that came from somewhere we do not trust (a report artifact written by
// a fork's workflow run). Every object must have exactly the listed keys, every string is bounded and free
// of control and bidirectional-override characters, every number is finite and in range, every array is
// bounded. Validators are typed, so `const v: Validator<Report> = ...` fails to compile when the type
// gains a field the validator does not check.

export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path || '(root)'}: ${problem}`);
    this.name = 'SchemaError';
  }
}

export type Validator<T> = (value: unknown, path: string) => T;
export type Out<V> = V extends Validator<infer T> ? T : never;

// C0 controls except tab and newline, DEL, C1 controls, bidirectional embeddings/overrides/isolates and
// marks (Trojan Source), zero-width joiners that can hide text, line/paragraph separators, BOM.
/* eslint-disable no-control-regex -- control characters are exactly what is refused */
const FORBIDDEN_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;
const FORBIDDEN_MULTI_LINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;
/* eslint-enable no-control-regex */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export interface StringRules {
  /** Maximum length in UTF-16 code units. */
  max: number;
  min?: number;
  /** Allow newlines and tabs. */
  multiline?: boolean;
  pattern?: RegExp;
}

export function str(rules: StringRules): Validator<string> {
  return (value, path) => {
    if (typeof value !== 'string') throw new SchemaError(path, `expected a string, got ${describe(value)}`);
    if (value.length > rules.max) throw new SchemaError(path, `string longer than ${rules.max} characters`);
    if (value.length < (rules.min ?? 0))
      throw new SchemaError(path, `string shorter than ${rules.min} characters`);
    const forbidden = rules.multiline ? FORBIDDEN_MULTI_LINE : FORBIDDEN_SINGLE_LINE;
    const bad = forbidden.exec(value);
    if (bad) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new SchemaError(path, `string contains a forbidden character U+${code}`);
    }
    if (LONE_SURROGATE.test(value)) throw new SchemaError(path, 'string is not well-formed Unicode');
    if (rules.pattern && !rules.pattern.test(value)) {
      throw new SchemaError(path, `string does not match ${rules.pattern.source}`);
    }
    return value;
  };
}

export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Validator<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new SchemaError(
        path,
        `expected an integer, got ${describe(value)}${typeof value === 'number' ? ` ${value}` : ''}`,
      );
    }
    if (value < min || value > max) throw new SchemaError(path, `${value} is outside [${min}, ${max}]`);
    return value;
  };
}

export function num(min = -Number.MAX_VALUE, max = Number.MAX_VALUE): Validator<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SchemaError(path, `expected a finite number, got ${describe(value)}`);
    }
    if (value < min || value > max) throw new SchemaError(path, `${value} is outside [${min}, ${max}]`);
    return value;
  };
}

export const bool: Validator<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new SchemaError(path, `expected a boolean, got ${describe(value)}`);
  return value;
};

export function lit<const T extends string | number | boolean | null>(...allowed: T[]): Validator<T> {
  return (value, path) => {
    if (!(allowed as unknown[]).includes(value)) {
      throw new SchemaError(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return value as T;
  };
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (value, path) => (value === null ? null : inner(value, path));
}

export function arr<T>(item: Validator<T>, max: number): Validator<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new SchemaError(path, `expected an array, got ${describe(value)}`);
    if (value.length > max) throw new SchemaError(path, `array longer than ${max} items`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

function plainObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SchemaError(path, `expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

type Shape = Record<string, Validator<unknown>>;
type Required_<R extends Shape> = { [K in keyof R]: Out<R[K]> };
type Optional_<O extends Shape> = { [K in keyof O]?: Out<O[K]> };

/** An object with exactly these keys (and, optionally present, the `optional` ones); nothing else. */
export function obj<R extends Shape, O extends Shape = Record<never, never>>(
  required: R,
  optional?: O,
): Validator<Required_<R> & Optional_<O>> {
  return (value, path) => {
    const o = plainObject(value, path);
    for (const k of Object.keys(o)) {
      if (!(k in required) && !(optional && k in optional)) {
        throw new SchemaError(path, `unexpected key ${JSON.stringify(k.slice(0, 60))}`);
      }
    }
    const out: [string, unknown][] = [];
    for (const [k, v] of Object.entries(required)) {
      if (!Object.hasOwn(o, k)) throw new SchemaError(path, `missing key ${JSON.stringify(k)}`);
      out.push([k, v(o[k], `${path}.${k}`)]);
    }
    for (const [k, v] of Object.entries(optional ?? {})) {
      if (Object.hasOwn(o, k) && o[k] !== undefined) out.push([k, v(o[k], `${path}.${k}`)]);
    }
    return Object.fromEntries(out) as Required_<R> & Optional_<O>;
  };
}
