import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The store's modes (issue 16): the root and every entry directly under it are for their
 * owner only, so no other user of the host can read or traverse anything in the store. The
 * root alone would close everything below it; its children are closed too, so a root opened
 * by mistake (`chmod 755`) still keeps other users away from layer content — setuid
 * binaries and device nodes of loaded images keep their modes there, as overlay lower dirs
 * must. Docker keeps /var/lib/docker and its driver's dirs 0710 with the same aim.
 * Below the first level modes are the content's own (an image's /usr/bin is 0755).
 */

/** What the root and the store's own dirs are made with and repaired to. */
export const STORE_DIR_MODE = 0o700;
/** Group and other bits: none may be set on the root or an entry directly under it. */
const OPEN_BITS = 0o077;

export interface WrongMode {
  path: string;
  mode: number;
  want: number;
}

/** Make the store root if needed, owner-only from its first instant (its parents as usual). */
export function makeStoreRoot(root: string): void {
  mkdirSync(dirname(root), { recursive: true });
  try {
    mkdirSync(root, { mode: STORE_DIR_MODE });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** The root and the entries directly under it that other users may read, write or traverse. */
export function wrongModes(root: string): WrongMode[] {
  const out: WrongMode[] = [];
  const check = (path: string, isRoot: boolean) => {
    let mode: number;
    try {
      // The root may be a symlink to the real folder (followed); below it a link's own mode
      // means nothing and what it names is not the store's.
      const st = isRoot ? statSync(path) : lstatSync(path);
      if (st.isSymbolicLink()) return;
      mode = st.mode & 0o7777;
    } catch {
      return; // gone meanwhile
    }
    if (mode & OPEN_BITS) out.push({ path, mode, want: mode & ~OPEN_BITS });
  };
  check(root, true);
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const n of names) check(join(root, n), false);
  return out;
}

/**
 * Take group and other bits off what wrongModes finds; returns what could not be repaired
 * (a store on a read-only mount, or owned by another user). Cheap: a stat per entry of the root.
 */
export function repairModes(root: string): WrongMode[] {
  const left: WrongMode[] = [];
  for (const w of wrongModes(root)) {
    try {
      chmodSync(w.path, w.want);
    } catch {
      left.push(w);
    }
  }
  return left;
}

/** `0755`: a mode as ls and chmod spell it. */
export function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
