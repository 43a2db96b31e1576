// Files out of an artifact's zip, in memory, with fflate: one chosen by name among the archive's
// top-level files, or every top-level .json file (a folder of report files). Each one's declared size is
// checked before it is inflated, and inflating never writes past that size (a zip bomb gets its declared
// size, not more).
import { unzipSync } from 'fflate';
import { UntrustedInputError } from './read-bundle.ts';

const MAX_ENTRIES = 1000;

export interface ZipEntry {
  name: string;
  bytes: Uint8Array;
}

/**
 * Extracts `fileName` from the zip, or its only `.json` file; entries in folders are ignored (the
 * actions/upload-artifact of one file puts it at the top). `label` names the archive in errors.
 */
export function extractJsonEntry(
  zip: Uint8Array,
  fileName: string,
  label: string,
  maxBytes: number,
): ZipEntry {
  const top = listEntries(zip, label).filter(isTopLevel);
  const json = top.filter((n) => n.endsWith('.json'));
  const chosen = top.includes(fileName) ? fileName : json.length === 1 ? json[0]! : undefined;
  if (chosen === undefined) {
    throw new UntrustedInputError(
      `${label}: expected ${fileName}${json.length > 1 ? ` or a single .json file, found ${json.length}` : ', found no .json file at the top of the archive'}`,
    );
  }
  const [entry] = unpack(zip, (name) => name === chosen, label, maxBytes);
  if (!entry) throw new UntrustedInputError(`${label}: cannot unpack ${chosen}`);
  return entry;
}

/**
 * Every `.json` file at the top of the archive (what a folder of report files uploads as), in one pass,
 * each within `maxBytes` unpacked.
 */
export function extractJsonEntries(zip: Uint8Array, label: string, maxBytes: number): ZipEntry[] {
  listEntries(zip, label); // the entry count limit, before anything is inflated
  return unpack(zip, (name) => isTopLevel(name) && name.endsWith('.json'), label, maxBytes);
}

function isTopLevel(name: string): boolean {
  return !name.includes('/') && !name.includes('\\');
}

function listEntries(zip: Uint8Array, label: string): string[] {
  const names: string[] = [];
  try {
    unzipSync(zip, {
      filter: (file) => {
        if (names.length >= MAX_ENTRIES)
          throw new UntrustedInputError(`${label}: more than ${MAX_ENTRIES} files`);
        names.push(file.name);
        return false;
      },
    });
  } catch (error) {
    if (error instanceof UntrustedInputError) throw error;
    throw new UntrustedInputError(`${label}: not a readable zip archive (${(error as Error).message})`);
  }
  return names;
}

function unpack(
  zip: Uint8Array,
  wanted: (name: string) => boolean,
  label: string,
  maxBytes: number,
): ZipEntry[] {
  let files: Record<string, Uint8Array>;
  let current = '';
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        if (!wanted(file.name)) return false;
        current = file.name;
        if (file.originalSize > maxBytes)
          throw new UntrustedInputError(
            `${label}: ${file.name} is ${file.originalSize} bytes unpacked, over the ${maxBytes}-byte limit`,
          );
        return true;
      },
    });
  } catch (error) {
    if (error instanceof UntrustedInputError) throw error;
    throw new UntrustedInputError(`${label}: cannot unpack ${current} (${(error as Error).message})`);
  }
  return Object.entries(files).map(([name, bytes]) => ({ name, bytes }));
}
