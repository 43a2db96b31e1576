/**
 * Validates requests to and responses from the fake GitHub API against GitHub's official OpenAPI
 * description (the dereferenced api.github.com variant shipped in `@octokit/openapi`).
 *
 * GitHub's description is OpenAPI 3.0.3, whose schema objects are not JSON Schema. Each schema is
 * converted to JSON Schema 2020-12 before it is compiled with Ajv2020 + ajv-formats. The conversion
 * and the validator deliberately tolerate some of GitHub's quirks; each tolerance is listed in
 * TOLERANCES below (and referenced by its key where it is applied) so that a test that relies on
 * one can say so.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

export const TOLERANCES = {
  annotations:
    'OpenAPI-only keywords (description, example, examples, externalDocs, xml, discriminator) and ' +
    'vendor extensions (x-*, e.g. x-github-breaking-changes, whose patches are not schemas) are ' +
    'dropped before compiling; they do not constrain instances.',
  nullable:
    'OpenAPI 3.0 `nullable: true` becomes `type: [T, "null"]` (and null is added to an `enum`); a ' +
    'nullable schema without `type` (allOf/anyOf/oneOf) becomes `anyOf: [{type: "null"}, schema]`.',
  oneOfAsAnyOf:
    "GitHub's oneOf branches overlap (two `nullable` branches both accept null; objects without " +
    'additionalProperties: false match several branches), so exclusivity cannot hold for valid ' +
    'payloads: oneOf is checked as anyOf.',
  exclusiveBounds:
    'OpenAPI 3.0 boolean exclusiveMinimum/exclusiveMaximum are rewritten to the numeric 2020-12 form.',
  requiredNotInProperties:
    'Some GitHub schemas list required names that are not in `properties`; Ajv strictRequired is off ' +
    'so they are enforced as plain `required` without a schema.',
  strictTypes:
    'Ajv strictTypes is off: GitHub schemas use `properties`/`items` next to union types or without ' +
    '`type`, which is valid JSON Schema but trips Ajv strict type checks.',
  undocumentedErrorStatus:
    'An error status (>= 400) that an operation does not list (e.g. 404 on DELETE a comment, 401, ' +
    '403 on POST statuses, injected 5xx faults) is validated against basic-error, the schema ' +
    'GitHub uses for its documented 4xx/5xx answers. An undocumented success status is a violation.',
  unknownQueryParameter:
    'Stricter than GitHub (which ignores them): a query parameter the operation does not declare is a ' +
    'request violation, to catch misspelt parameters in the client.',
} as const;

export type Tolerance = keyof typeof TOLERANCES;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
/** `${METHOD} ${OpenAPI path template}`, e.g. `GET /repos/{owner}/{repo}/pulls/{pull_number}`. */
export type RouteKey = `${HttpMethod} /${string}`;

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonObject;
  /** GitHub extension: the path parameter may span several segments (a ref such as `heads/main`). */
  multiSegment: boolean;
}

export interface OperationInfo {
  route: RouteKey;
  method: HttpMethod;
  path: string;
  operationId: string;
  /** The operation's docs page, used as `documentation_url` in GitHub's error bodies. */
  documentationUrl: string;
  parameters: OpenApiParameter[];
  requestBody: { required: boolean; schema: JsonObject | undefined } | undefined;
  /** Documented response statuses (e.g. "200", "404", "default"). */
  responseStatuses: string[];
}

export interface SchemaIssue {
  /** Where: `path.pull_number`, `query.per_page`, `body/state`, `response/0/user/login`. */
  location: string;
  message: string;
}

const require = createRequire(import.meta.url);
/** The dereferenced description: every $ref is inlined, so each operation is self-contained. */
export const OPENAPI_FILE = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');

const ANNOTATION_KEYS = new Set([
  'description',
  'example',
  'examples',
  'externalDocs',
  'xml',
  'discriminator',
]);

interface RawOperation {
  operationId: string;
  externalDocs?: { url?: string };
  parameters?: JsonObject[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonObject }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonObject }> }>;
}

interface LoadedOperation {
  info: OperationInfo;
  raw: RawOperation;
}

// The description is 70 MB; parse it once per process and keep only the operations asked for.
const operationCache = new Map<RouteKey, LoadedOperation>();
let basicErrorSchema: JsonObject | undefined;
let loading: Promise<void> = Promise.resolve();

const BASIC_ERROR_SOURCE: RouteKey = 'GET /repos/{owner}/{repo}/issues/comments/{comment_id}';

function loadOperations(routes: readonly RouteKey[]): Promise<void> {
  // Chained so that concurrent loads never parse the file twice for the same routes.
  loading = loading.then(async () => {
    const wanted = [...routes, BASIC_ERROR_SOURCE].filter((route) => !operationCache.has(route));
    if (wanted.length === 0) return;
    const spec = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const route of wanted) {
      const [method, path] = splitRoute(route);
      const pathItem = spec.paths[path];
      const raw = pathItem?.[method.toLowerCase()] as RawOperation | undefined;
      if (!pathItem || !raw) throw new Error(`OpenAPI description has no operation ${route}`);
      const shared = (pathItem.parameters as JsonObject[] | undefined) ?? [];
      operationCache.set(route, { raw, info: describeOperation(route, raw, shared) });
    }
    const source = operationCache.get(BASIC_ERROR_SOURCE)?.raw.responses['404'];
    basicErrorSchema = source?.content?.['application/json']?.schema;
    if (!basicErrorSchema) throw new Error('OpenAPI description: no basic-error schema found');
  });
  return loading;
}

function splitRoute(route: RouteKey): [HttpMethod, string] {
  const space = route.indexOf(' ');
  return [route.slice(0, space) as HttpMethod, route.slice(space + 1)];
}

function describeOperation(route: RouteKey, raw: RawOperation, shared: JsonObject[]): OperationInfo {
  const [method, path] = splitRoute(route);
  const parameters = [...shared, ...(raw.parameters ?? [])].map((p): OpenApiParameter => ({
    name: String(p.name),
    in: p.in as OpenApiParameter['in'],
    required: p.required === true,
    schema: (p.schema as JsonObject | undefined) ?? {},
    multiSegment: p['x-multi-segment'] === true,
  }));
  const json = raw.requestBody?.content?.['application/json'];
  return {
    route,
    method,
    path,
    operationId: raw.operationId,
    documentationUrl: raw.externalDocs?.url ?? 'https://docs.github.com/rest',
    parameters,
    requestBody: raw.requestBody
      ? { required: raw.requestBody.required === true, schema: json?.schema }
      : undefined,
    responseStatuses: Object.keys(raw.responses),
  };
}

/** Converts an OpenAPI 3.0 schema object to JSON Schema 2020-12 (see TOLERANCES). */
export function toJsonSchema(schema: JsonValue): JsonValue {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATION_KEYS.has(key) || key.startsWith('x-') || key === 'nullable') continue; // annotations
    if (key === 'enum' || key === 'const' || key === 'default') {
      out[key] = value; // literal values, not schemas
    } else if (key === 'properties' || key === 'patternProperties' || key === '$defs') {
      // Keys of these maps are property names, not keywords: a property may be called "description".
      out[key] = Object.fromEntries(
        Object.entries(value as JsonObject).map(([name, sub]) => [name, toJsonSchema(sub)]),
      );
    } else if (key === 'oneOf') {
      out.anyOf = toJsonSchema(value); // oneOfAsAnyOf
    } else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') {
      continue; // exclusiveBounds: handled below together with minimum/maximum
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  // exclusiveBounds
  if (schema.exclusiveMinimum === true && typeof schema.minimum === 'number') {
    out.exclusiveMinimum = schema.minimum;
    delete out.minimum;
  }
  if (schema.exclusiveMaximum === true && typeof schema.maximum === 'number') {
    out.exclusiveMaximum = schema.maximum;
    delete out.maximum;
  }
  if (schema.nullable === true) {
    // nullable
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else if (out.type === undefined) {
      return { anyOf: [{ type: 'null' }, out] };
    }
  }
  return out;
}

const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  strictTypes: false, // strictTypes
  strictRequired: false, // requiredNotInProperties
  strictTuples: false,
});
ajvFormats.default(ajv);

const compiled = new Map<string, ValidateFunction>();

function compile(cacheKey: string, schema: JsonObject): ValidateFunction {
  let validate = compiled.get(cacheKey);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(schema) as object);
    compiled.set(cacheKey, validate);
  }
  return validate;
}

function issuesFrom(prefix: string, errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).map((e) => {
    const where = `${prefix}${e.instancePath}`;
    if (e.keyword === 'required') {
      return { location: where, message: `"${String(e.params.missingProperty)}" wasn't supplied` };
    }
    if (e.keyword === 'enum') {
      return { location: where, message: `must be one of ${JSON.stringify(e.params.allowedValues)}` };
    }
    return { location: where, message: e.message ?? e.keyword };
  });
}

/** Parses a path or query string the way GitHub reads it, given the parameter's schema. */
function coerceParameter(raw: string, schema: JsonObject): unknown {
  const type = schema.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (type === 'array') return raw.split(',');
  return raw;
}

export interface ParameterResult {
  values: Record<string, unknown>;
  issues: SchemaIssue[];
}

export class OpenApiValidator {
  private constructor(private readonly routes: ReadonlySet<RouteKey>) {}

  /** Loads (once per process) the operations for `routes` from the OpenAPI description. */
  static async create(routes: readonly RouteKey[]): Promise<OpenApiValidator> {
    await loadOperations(routes);
    return new OpenApiValidator(new Set(routes));
  }

  operation(route: RouteKey): OperationInfo {
    return this.loaded(route).info;
  }

  private loaded(route: RouteKey): LoadedOperation {
    const op = this.routes.has(route) ? operationCache.get(route) : undefined;
    if (!op) throw new Error(`operation ${route} was not loaded`);
    return op;
  }

  /** Checks path and query parameters; returns their values converted to the schema's types. */
  validateParameters(
    route: RouteKey,
    pathParams: Record<string, string>,
    query: URLSearchParams,
  ): ParameterResult {
    const { info } = this.loaded(route);
    const values: Record<string, unknown> = {};
    const issues: SchemaIssue[] = [];
    for (const param of info.parameters) {
      if (param.in !== 'path' && param.in !== 'query') continue; // headers/cookies: none on our routes
      const raw = param.in === 'path' ? pathParams[param.name] : (query.get(param.name) ?? undefined);
      const location = `${param.in}.${param.name}`;
      if (raw === undefined) {
        if (param.required) issues.push({ location, message: 'is required' });
        continue;
      }
      const value = coerceParameter(raw, param.schema);
      const validate = compile(`${route}#param:${param.in}:${param.name}`, param.schema);
      if (validate(value)) values[param.name] = value;
      else issues.push(...issuesFrom(location, validate.errors));
    }
    const declared = new Set(info.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys())) {
      // unknownQueryParameter
      if (!declared.has(name))
        issues.push({ location: `query.${name}`, message: 'is not a parameter of this operation' });
    }
    return { values, issues };
  }

  /** Checks a parsed JSON request body (`undefined` when the request had none). */
  validateRequestBody(route: RouteKey, body: unknown): SchemaIssue[] {
    const { info } = this.loaded(route);
    const spec = info.requestBody;
    if (body === undefined) {
      return spec?.required ? [{ location: 'body', message: 'a JSON request body is required' }] : [];
    }
    if (!spec?.schema) return []; // GitHub ignores bodies on operations that take none
    const validate = compile(`${route}#request`, spec.schema);
    return validate(body) ? [] : issuesFrom('body', validate.errors);
  }

  /**
   * Checks a response body (`undefined` for an empty body) against the schema documented for
   * `status`, falling back to basic-error for undocumented error statuses (undocumentedErrorStatus).
   */
  validateResponse(route: RouteKey, status: number, body: unknown): SchemaIssue[] {
    const { raw } = this.loaded(route);
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in raw.responses);
    let schema: JsonObject | undefined;
    let cacheKey: string;
    if (key !== undefined) {
      schema = raw.responses[key]?.content?.['application/json']?.schema;
      cacheKey = `${route}#response:${key}`;
      if (!schema) {
        // Documented without content (204, 304): the body must be empty.
        return body === undefined ? [] : [{ location: 'response', message: `status ${status} has no body` }];
      }
    } else if (status >= 400) {
      schema = basicErrorSchema;
      cacheKey = '#basic-error';
    } else {
      return [{ location: 'response', message: `status ${status} is not documented for ${route}` }];
    }
    if (!schema) return [];
    if (body === undefined)
      return [{ location: 'response', message: `status ${status} must have a JSON body` }];
    const validate = compile(cacheKey, schema);
    return validate(body) ? [] : issuesFrom('response', validate.errors);
  }
}
