// A loopback Actions "results" service for @actions/artifact: the Twirp JSON routes of
// github.actions.results.api.v1.ArtifactService that an upload and a delete call, strict about what it
// accepts (a request the real service would refuse fails here too), and a real Azure Storage emulator
// (Azurite) for the signed upload URL it hands out.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type ContainerClient,
} from '@azure/storage-blob';

const SERVICE = 'github.actions.results.api.v1.ArtifactService';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Azurite's well-known development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'actions-results';

export interface BackendIds {
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
}

/**
 * An ACTIONS_RUNTIME_TOKEN for `ids`: @actions/artifact only decodes it (jwt-decode, util.js
 * getBackendIdsFromToken) to read the ids from the Actions.Results scope, so it is an unsigned JWT.
 */
export function runtimeToken(ids: BackendIds): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const scp = [
    'Actions.GenericRead:00000000-0000-0000-0000-000000000000',
    `Actions.Results:${ids.workflowRunBackendId}:${ids.workflowJobRunBackendId}`,
    'Actions.UploadArtifacts:00000000-0000-0000-0000-000000000000:1',
  ].join(' ');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ typ: 'JWT', alg: 'none' })}.${part({ scp, iat: now, exp: now + 3600 })}.`;
}

// ---- Twirp ----

/** Twirp's error codes and their HTTP statuses (https://twitchtv.github.io/twirp/docs/spec_v7.html). */
const TWIRP_STATUS = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
} as const;
export type TwirpCode = keyof typeof TWIRP_STATUS;

class TwirpError extends Error {
  constructor(
    readonly code: TwirpCode,
    message: string,
    readonly meta?: Record<string, string>,
  ) {
    super(message);
  }
}

// ---- The messages, as lib/generated/results/api/v1/artifact.js defines them ----

type FieldType = 'string' | 'int32' | 'int64' | 'bool' | 'timestamp' | 'string-value' | 'int64-value';
type Fields = Record<string, FieldType>;
/** Responses are only held to the library's types (its client parses them); repeated is `Type[]`. */
type ResponseFields = Record<string, FieldType | `${string}[]`>;

/** Request messages: field (proto name) → type. checkAgainstGenerated() holds these to the library's code. */
const REQUESTS = {
  CreateArtifact: {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
    expires_at: 'timestamp',
    version: 'int32',
    mime_type: 'string-value',
  },
  FinalizeArtifact: {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
    size: 'int64',
    hash: 'string-value',
  },
  ListArtifacts: {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name_filter: 'string-value',
    id_filter: 'int64-value',
  },
  DeleteArtifact: {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    name: 'string',
  },
} satisfies Record<string, Fields>;
const RESPONSES = {
  CreateArtifact: { ok: 'bool', signed_upload_url: 'string' },
  FinalizeArtifact: { ok: 'bool', artifact_id: 'int64' },
  ListArtifacts: { artifacts: 'ListArtifactsResponse.MonolithArtifact[]' },
  'ListArtifacts.MonolithArtifact': {
    workflow_run_backend_id: 'string',
    workflow_job_run_backend_id: 'string',
    database_id: 'int64',
    name: 'string',
    size: 'int64',
    created_at: 'timestamp',
    digest: 'string-value',
  },
  DeleteArtifact: { ok: 'bool', artifact_id: 'int64' },
} satisfies Record<string, ResponseFields>;
export type Method = keyof typeof REQUESTS;

/** proto3 JSON: a parser accepts the proto name and the lowerCamelCase JSON name of each field. */
const jsonName = (protoName: string) => protoName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const INT64 = /^-?(0|[1-9]\d*)$/;
/** RFC 3339 as proto3 JSON writes a Timestamp: `Z` or an offset, 0, 3, 6 or 9 fraction digits. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?(Z|[+-]\d{2}:\d{2})$/;

function validValue(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'string-value':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'int32':
      if (typeof value === 'string' && INT64.test(value)) value = Number(value);
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31;
    case 'int64':
    case 'int64-value':
      return (typeof value === 'string' && INT64.test(value)) || Number.isSafeInteger(value);
    case 'timestamp':
      return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
  }
}

/** The request body as proto-named fields; throws the Twirp error the real service would answer with. */
function parseRequest(method: Method, body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new TwirpError('malformed', 'the json request could not be decoded: not an object');
  const fields: Fields = REQUESTS[method];
  const byJsonName = new Map(Object.keys(fields).map((name) => [jsonName(name), name]));
  const message: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const name = key in fields ? key : byJsonName.get(key);
    if (!name)
      throw new TwirpError('malformed', `the json request could not be decoded: unknown field "${key}"`);
    if (name in message)
      throw new TwirpError('malformed', `the json request could not be decoded: duplicate field "${key}"`);
    const type = fields[name]!;
    // proto3 JSON: null is the field's default value.
    if (value !== null && !validValue(type, value))
      throw new TwirpError(
        'malformed',
        `the json request could not be decoded: "${key}" is not a valid ${type}`,
      );
    if (value !== null) message[name] = value;
  }
  return message;
}

function required(message: Record<string, unknown>, ...names: string[]): void {
  for (const name of names) {
    if (message[name] === undefined || message[name] === '')
      throw new TwirpError('invalid_argument', `${name} is required`, { argument: name });
  }
}

/** Fails if the tables above no longer match the library's generated message types. */
async function checkAgainstGenerated(): Promise<void> {
  type Field = { name: string; kind: string; repeat?: number; T: number | (() => { typeName: string }) };
  type MessageType = { typeName: string; fields: readonly Field[] };
  const library = dirname(fileURLToPath(import.meta.resolve('@actions/artifact')));
  const generated = (await import(
    pathToFileURL(join(library, 'generated/results/api/v1/artifact.js')).href
  )) as Record<string, MessageType>;
  const typeOf = (field: Field): string => {
    if (field.kind === 'scalar')
      return ({ 9: 'string', 5: 'int32', 3: 'int64', 8: 'bool' } as const)[field.T as 9];
    const name = (field.T as () => { typeName: string })().typeName;
    const wrappers: Record<string, string> = {
      'google.protobuf.Timestamp': 'timestamp',
      'google.protobuf.StringValue': 'string-value',
      'google.protobuf.Int64Value': 'int64-value',
    };
    const type = wrappers[name] ?? name.replace('github.actions.results.api.v1.', '');
    return field.repeat ? `${type}[]` : type;
  };
  const expected: Record<string, ResponseFields> = {
    CreateArtifactRequest: REQUESTS.CreateArtifact,
    FinalizeArtifactRequest: REQUESTS.FinalizeArtifact,
    ListArtifactsRequest: REQUESTS.ListArtifacts,
    DeleteArtifactRequest: REQUESTS.DeleteArtifact,
    CreateArtifactResponse: RESPONSES.CreateArtifact,
    FinalizeArtifactResponse: RESPONSES.FinalizeArtifact,
    ListArtifactsResponse: RESPONSES.ListArtifacts,
    ListArtifactsResponse_MonolithArtifact: RESPONSES['ListArtifacts.MonolithArtifact'],
    DeleteArtifactResponse: RESPONSES.DeleteArtifact,
  };
  for (const [type, fields] of Object.entries(expected)) {
    const message = generated[type];
    const actual = Object.fromEntries((message?.fields ?? []).map((field) => [field.name, typeOf(field)]));
    if (JSON.stringify(actual) !== JSON.stringify(fields))
      throw new Error(
        `results-service: ${type} in @actions/artifact is ${JSON.stringify(actual)}, the service expects ${JSON.stringify(fields)}`,
      );
  }
}

// ---- Azurite ----

const children = new Set<ChildProcess>();
/** Exits once the parent is gone (the child is re-parented, so its ppid changes). */
const ORPHAN_WATCHDOG = `data:text/javascript,${encodeURIComponent(
  'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();',
)}`;
let exitHookInstalled = false;

/** Starts azurite-blob in memory on a free loopback port; resolves with its port once it listens. */
async function startAzurite(): Promise<{ port: number; stop(): Promise<void> }> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const child of children) child.kill('SIGKILL');
    });
  }
  const bin = realpathSync(join(ROOT, 'node_modules/.bin/azurite-blob'));
  // Azurite writes nothing with --inMemoryPersistence; its own folder all the same, removed on stop.
  const cwd = mkdtempSync(join(tmpdir(), 'azurite-'));
  const args = [
    ...['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--extentMemoryLimit', '256'],
    ...['--silent', '--skipApiVersionCheck', '--disableTelemetry', '--loose'],
  ];
  // Run with this node (not the .bin shim) so that the process killed is Azurite itself, and a watchdog
  // that ends it when this process dies without running its exit hook (SIGKILL, a test runner's timeout).
  const child = spawn(process.execPath, ['--import', ORPHAN_WATCHDOG, bin, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
    rmSync(cwd, { recursive: true, force: true });
  };
  let output = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Azurite did not start in 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited (${code ?? signal}) before it listened:\n${output}`));
      });
    });
    return { port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- The service ----

export interface RecordedCall {
  method: Method;
  /** The request body as the client sent it (JSON). */
  body: Record<string, unknown>;
  authorization: string | undefined;
  contentType: string | undefined;
  /** What the service answered: the HTTP status and the Twirp error code when it failed. */
  status: number;
  error?: TwirpCode;
  /** For a stalled call: set when the client dropped the connection (before releaseStalled()). */
  droppedByClient?: boolean;
}

export interface StoredArtifact {
  id: string;
  name: string;
  blobName: string;
  size: number;
  hash: string | undefined;
  createdAt: Date;
}

export interface ResultsService {
  /** ACTIONS_RESULTS_URL */
  url: string;
  /** ACTIONS_RUNTIME_TOKEN, carrying `ids`. */
  token: string;
  ids: BackendIds;
  /** The Azurite blob endpoint the upload URLs point at. */
  blobEndpoint: string;
  /** Every request to a served method, in order, including refused ones. */
  calls: RecordedCall[];
  creates(): RecordedCall[];
  finalizes(): RecordedCall[];
  callsOf(method: Method): RecordedCall[];
  /** Finalized artifacts by name (DeleteArtifact removes one, with its blob). */
  artifacts: Map<string, StoredArtifact>;
  /** Makes the next call of `method` (after validation) fail with `code`. */
  failNext(method: Method, code: TwirpCode, msg?: string): void;
  /** Makes the next call of `method` never answer, until releaseStalled() drops its connection. */
  stallNext(method: Method): void;
  releaseStalled(): void;
  /** The bytes of an uploaded artifact's blob, read back from Azurite. */
  blob(name: string): Promise<Buffer>;
  /** Whether Azurite holds the blob `blobName` (StoredArtifact.blobName). */
  hasBlob(blobName: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startResultsService(): Promise<ResultsService> {
  await checkAgainstGenerated();
  const azurite = await startAzurite();
  try {
    return await serve(azurite);
  } catch (error) {
    await azurite.stop();
    throw error;
  }
}

async function serve(azurite: { port: number; stop(): Promise<void> }): Promise<ResultsService> {
  const blobEndpoint = `http://127.0.0.1:${azurite.port}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const container: ContainerClient = new BlobServiceClient(blobEndpoint, credential).getContainerClient(
    CONTAINER,
  );
  await container.create();

  const ids: BackendIds = { workflowRunBackendId: randomUUID(), workflowJobRunBackendId: randomUUID() };
  const token = runtimeToken(ids);
  const calls: RecordedCall[] = [];
  const created = new Map<string, { blobName: string }>();
  const artifacts = new Map<string, StoredArtifact>();
  const failures: { method: Method; code: TwirpCode; msg: string }[] = [];
  const stalls = new Set<Method>();
  const stalled = new Set<ServerResponse>();
  // Beyond 2^32, so that an int64 read as a 32-bit number would show.
  let nextId = 5_000_000_001n;

  function takeFailure(method: Method): void {
    const index = failures.findIndex((failure) => failure.method === method);
    if (index < 0) return;
    const [failure] = failures.splice(index, 1);
    throw new TwirpError(failure!.code, failure!.msg);
  }

  function checkIds(message: Record<string, unknown>, ...also: string[]): void {
    required(message, 'workflow_run_backend_id', 'workflow_job_run_backend_id', ...also);
    if (
      message.workflow_run_backend_id !== ids.workflowRunBackendId ||
      message.workflow_job_run_backend_id !== ids.workflowJobRunBackendId
    )
      throw new TwirpError('permission_denied', 'the backend ids do not match the runtime token');
  }

  async function createArtifact(message: Record<string, unknown>) {
    checkIds(message, 'name');
    required(message, 'version');
    const name = message.name as string;
    if (message.expires_at !== undefined && Date.parse(message.expires_at as string) <= Date.now())
      throw new TwirpError('invalid_argument', 'expires_at is in the past', { argument: 'expires_at' });
    takeFailure('CreateArtifact');
    if (created.has(name))
      throw new TwirpError('already_exists', 'an artifact with this name already exists on the workflow run');
    const blobName = `${ids.workflowRunBackendId}/${ids.workflowJobRunBackendId}/${randomUUID()}.zip`;
    created.set(name, { blobName });
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse('cw'),
        protocol: SASProtocol.HttpsAndHttp,
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    );
    return { ok: true, signed_upload_url: `${container.getBlockBlobClient(blobName).url}?${sas.toString()}` };
  }

  async function finalizeArtifact(message: Record<string, unknown>) {
    checkIds(message, 'name');
    const name = message.name as string;
    const artifact = created.get(name);
    if (!artifact) throw new TwirpError('not_found', `no artifact named ${name} was created`);
    if (artifacts.has(name)) throw new TwirpError('already_exists', `the artifact ${name} is finalized`);
    takeFailure('FinalizeArtifact');
    const blob = container.getBlockBlobClient(artifact.blobName);
    if (!(await blob.exists()))
      throw new TwirpError('failed_precondition', `nothing was uploaded for the artifact ${name}`);
    const bytes = await blob.downloadToBuffer();
    // proto3: an absent int64 is 0.
    const size = Number(message.size ?? '0');
    if (size !== bytes.length)
      throw new TwirpError(
        'invalid_argument',
        `size ${size} does not match the ${bytes.length} bytes uploaded`,
      );
    const hash = message.hash as string | undefined;
    if (hash !== undefined && hash !== `sha256:${createHash('sha256').update(bytes).digest('hex')}`)
      throw new TwirpError('invalid_argument', `hash ${hash} does not match the bytes uploaded`);
    const id = String(nextId++);
    artifacts.set(name, { id, name, blobName: artifact.blobName, size, hash, createdAt: new Date() });
    return { ok: true, artifact_id: id };
  }

  // Finalized artifacts only, as the real service lists them.
  async function listArtifacts(message: Record<string, unknown>) {
    checkIds(message);
    takeFailure('ListArtifacts');
    const listed = [...artifacts.values()].filter(
      (artifact) =>
        (message.name_filter === undefined || artifact.name === message.name_filter) &&
        (message.id_filter === undefined || artifact.id === String(message.id_filter)),
    );
    return {
      artifacts: listed.map((artifact) => ({
        workflow_run_backend_id: ids.workflowRunBackendId,
        workflow_job_run_backend_id: ids.workflowJobRunBackendId,
        database_id: artifact.id,
        name: artifact.name,
        size: String(artifact.size),
        created_at: artifact.createdAt.toISOString(),
        ...(artifact.hash === undefined ? {} : { digest: artifact.hash }),
      })),
    };
  }

  async function deleteArtifact(message: Record<string, unknown>) {
    checkIds(message, 'name');
    const name = message.name as string;
    const artifact = artifacts.get(name);
    if (!artifact) throw new TwirpError('not_found', `no artifact named ${name} in this run`);
    takeFailure('DeleteArtifact');
    await container.getBlockBlobClient(artifact.blobName).delete();
    artifacts.delete(name);
    created.delete(name);
    return { ok: true, artifact_id: artifact.id };
  }

  const methods: Record<Method, (message: Record<string, unknown>) => Promise<object>> = {
    CreateArtifact: createArtifact,
    FinalizeArtifact: finalizeArtifact,
    ListArtifacts: listArtifacts,
    DeleteArtifact: deleteArtifact,
  };

  async function handle(request: IncomingMessage, body: string, response: ServerResponse): Promise<void> {
    const prefix = `/twirp/${SERVICE}/`;
    const path = (request.url ?? '').split('?')[0]!;
    if (request.method !== 'POST' || !path.startsWith(prefix))
      throw new TwirpError('bad_route', `no handler for ${request.method} ${path}`);
    const method = path.slice(prefix.length);
    if (!(method in REQUESTS))
      throw new TwirpError(
        method === 'GetSignedArtifactURL' ? 'unimplemented' : 'bad_route',
        `${method} is not served by this test service`,
      );
    const typed = method as Method;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const call: RecordedCall = {
      method: typed,
      body: (typeof json === 'object' && json !== null ? json : { raw: body }) as Record<string, unknown>,
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      status: 200,
    };
    calls.push(call);
    try {
      // Twirp routes on the content type: JSON here, anything else is a bad route.
      if ((request.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/json')
        throw new TwirpError('bad_route', `unexpected Content-Type: ${request.headers['content-type']}`);
      if (request.headers.authorization !== `Bearer ${token}`)
        throw new TwirpError('unauthenticated', 'the bearer token is missing or not the runtime token');
      if (json === undefined) throw new TwirpError('malformed', 'the json request could not be decoded');
      const message = parseRequest(typed, json);
      if (stalls.delete(typed)) {
        call.status = 0;
        stalled.add(response);
        response.once('close', () => {
          if (stalled.delete(response)) call.droppedByClient = true;
        });
        return;
      }
      reply(response, 200, await methods[typed](message));
    } catch (error) {
      const twirp =
        error instanceof TwirpError ? error : new TwirpError('internal', `test service: ${String(error)}`);
      call.status = TWIRP_STATUS[twirp.code];
      call.error = twirp.code;
      throw twirp;
    }
  }

  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(request, Buffer.concat(chunks).toString('utf8'), response).catch((error: unknown) => {
        const twirp = error instanceof TwirpError ? error : new TwirpError('internal', String(error));
        reply(response, TWIRP_STATUS[twirp.code], {
          code: twirp.code,
          msg: twirp.message,
          ...(twirp.meta ? { meta: twirp.meta } : {}),
        });
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let closed = false;
  return {
    url: `http://127.0.0.1:${port}/`,
    token,
    ids,
    blobEndpoint,
    calls,
    creates: () => calls.filter((call) => call.method === 'CreateArtifact'),
    finalizes: () => calls.filter((call) => call.method === 'FinalizeArtifact'),
    callsOf: (method) => calls.filter((call) => call.method === method),
    artifacts,
    failNext(method, code, msg = `injected ${code}`) {
      failures.push({ method, code, msg });
    },
    stallNext(method) {
      stalls.add(method);
    },
    releaseStalled() {
      const responses = [...stalled];
      stalled.clear();
      for (const response of responses) response.socket?.destroy();
    },
    async blob(name) {
      const artifact = artifacts.get(name) ?? created.get(name);
      if (!artifact) throw new Error(`no artifact named ${name}`);
      return container.getBlockBlobClient(artifact.blobName).downloadToBuffer();
    },
    hasBlob: (blobName) => container.getBlockBlobClient(blobName).exists(),
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await azurite.stop();
    },
  };
}

function reply(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}
