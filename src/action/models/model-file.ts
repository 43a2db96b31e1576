// Where the model is: a path in a checkout (which must stay inside it), or an http(s) URL downloaded to
// a temporary file.
import { proxyFetch, type ProxySettings } from '../../github/octokit.ts';
import { UserError } from '../../report/user-error.ts';
import { createWriteStream, existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class ModelLocationError extends UserError {
  readonly code = 'model-location';
  override name = 'ModelLocationError';
}

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The model path relative to the checkout root, checked to stay inside it. */
export function relativeModelPath(root: string, location: string): string {
  const rel = relative(resolve(root), resolve(root, location));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ModelLocationError(`model path '${location}' must be a file inside the repository checkout`);
  }
  return rel.split(sep).join('/');
}

/**
 * The model file under `root` after the build: it must exist, and neither it nor a symlink on the way may
 * lead outside the checkout. Returns undefined when the file does not exist.
 */
export function locateModel(root: string, rel: string): string | undefined {
  const path = resolve(root, rel);
  if (!existsSync(path)) return undefined;
  const real = realpathSync(path);
  if (!inside(realpathSync(root), real)) {
    throw new ModelLocationError(
      `model '${rel}' resolves to ${real}, outside the checkout; refusing to read it`,
    );
  }
  return real;
}

/** Downloads `url` into a new temporary directory, through the runner's proxy; no credentials are sent. */
export async function downloadModel(
  url: string,
  tempDir: string,
  options: { timeoutMs?: number; maxBytes?: number; proxy?: ProxySettings | undefined } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? 8 * 1024 ** 3;
  let response: Response;
  try {
    response = await proxyFetch(options.proxy)(url, {
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? 600_000),
    });
  } catch (error) {
    throw new ModelLocationError(`cannot download the model from ${url}: ${(error as Error).message}`);
  }
  // A body not read is cancelled, so that its connection is let go now rather than when collected.
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new ModelLocationError(`cannot download the model from ${url}: ${status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw new ModelLocationError(`the model at ${url} is ${declared} bytes, over ${maxBytes}`);
  }
  const name = basename(new URL(url).pathname).replace(/[^A-Za-z0-9._-]/g, '_') || 'model.onnx';
  const file = join(mkdtempSync(join(tempDir, 'paramtrace-download-')), name);
  let received = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes)
      body.destroy(new ModelLocationError(`the model at ${url} is over ${maxBytes} bytes`));
  });
  await pipeline(body, createWriteStream(file));
  return file;
}
