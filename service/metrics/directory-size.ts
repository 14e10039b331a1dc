/**
 * Size on disk of a state store's directory, for `tally_state_store_bytes`.
 * Asynchronous all the way (readdir and stat run on libuv's thread pool), so a
 * scrape never holds the event loop while it walks a store.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Sum of the sizes of every file under `dir`, in bytes; 0 when it does not
 * exist (an in-memory store, or one not opened yet). Files that vanish while
 * it walks (LevelDB compacting) are skipped.
 */
export async function directorySizeBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  const sizes = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        stat(join(entry.parentPath ?? entry.path, entry.name)).then(
          (s) => s.size,
          (error: unknown) => {
            if (isMissing(error)) return 0;
            throw error;
          },
        ),
      ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
