// The models a list names in one checkout, by key: a path (found or not: the analysis says which), a URL,
// or each file a glob matches there after the builds. Symbolic links are not followed by the glob, and
// locateModel refuses a file that leads outside the checkout.
import { glob, isDynamicPattern } from 'tinyglobby';
import { ActionError } from '../runner-log.ts';
import { isUrl, relativeModelPath } from './model-file.ts';
import { keyForPath, MAX_MODELS, type ModelEntry } from './model-list.ts';

export interface FoundModel {
  entry: ModelEntry;
  /** Relative to the checkout, or a URL. */
  location: string;
}

/** Folders a pattern never looks in: what package managers and git keep, never a repository's model. */
const NEVER = ['**/node_modules/**', '**/.git/**'];

export async function modelsIn(
  root: string,
  entries: readonly ModelEntry[],
): Promise<Map<string, FoundModel>> {
  const found = new Map<string, FoundModel>();
  const add = (key: string | null, model: FoundModel) => {
    if (key === null)
      throw new ActionError(
        `${model.entry.where}: '${model.location}' makes no key (a key is at most 100 letters, digits, '.', '_', '-' or '/'); give it one with key=`,
      );
    const other = found.get(key);
    if (other)
      throw new ActionError(
        `two models have the key '${key}': '${other.location}' (${other.entry.where}) and '${model.location}' (${model.entry.where}); give one of them its own key`,
      );
    found.set(key, model);
  };
  for (const entry of entries) {
    if (isUrl(entry.model)) {
      add(entry.key ?? keyForPath(entry.model), { entry, location: entry.model });
    } else if (isDynamicPattern(entry.model)) {
      // Checked like a path, so a pattern cannot reach outside the checkout (`../*.onnx`).
      relativeModelPath(root, entry.model.replace(/[*?[\]{}()!+@]/g, 'x'));
      const files = await glob(entry.model, {
        cwd: root,
        onlyFiles: true,
        followSymbolicLinks: false,
        expandDirectories: false,
        ignore: NEVER,
      });
      for (const file of files.sort()) add(keyForPath(file), { entry, location: file });
    } else {
      const rel = relativeModelPath(root, entry.model);
      add(entry.key ?? keyForPath(rel), { entry, location: rel });
    }
    if (found.size > MAX_MODELS)
      throw new ActionError(
        `the models of 'model' number more than ${MAX_MODELS}, more than one comment can show`,
      );
  }
  return found;
}
