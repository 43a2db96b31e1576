// One file out of an artifact's zip, in memory, with fflate: the entry is chosen by name among the
// archive's top-level files, its declared size is checked before anything is inflated, and inflating
// never writes past that size (a zip bomb gets its declared size, not more).
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
  const names = listEntries(zip, label);
  const top = names.filter((n) => !n.includes('/') && !n.includes('\\'));
  const json = top.filter((n) => n.endsWith('.json'));
  const chosen = top.includes(fileName) ? fileName : json.length === 1 ? json[0]! : undefined;
  if (chosen === undefined) {
    throw new UntrustedInputError(
      `${label}: expected ${fileName}${json.length > 1 ? ` or a single .json file, found ${json.length}` : ', found no .json file at the top of the archive'}`,
    );
  }
  return unpack(zip, chosen, label, maxBytes);
}

/** The names of the archive's top-level `.json` files (what a folder of report files uploads as). */
export function topJsonEntries(zip: Uint8Array, label: string): string[] {
  return listEntries(zip, label).filter((n) => !n.includes('/') && !n.includes('\\') && n.endsWith('.json'));
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

function unpack(zip: Uint8Array, chosen: string, label: string, maxBytes: number): ZipEntry {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        if (file.name !== chosen) return false;
        if (file.originalSize > maxBytes)
          throw new UntrustedInputError(
            `${label}: ${chosen} is ${file.originalSize} bytes unpacked, over the ${maxBytes}-byte limit`,
          );
        return true;
      },
    });
  } catch (error) {
    if (error instanceof UntrustedInputError) throw error;
    throw new UntrustedInputError(`${label}: cannot unpack ${chosen} (${(error as Error).message})`);
  }
  const bytes = files[chosen];
  if (!bytes) throw new UntrustedInputError(`${label}: cannot unpack ${chosen}`);
  return { name: chosen, bytes };
}
