import type { SnapshotterSetting } from './snapshotter.js';
import type { UpperSetting } from './upper-place.js';

/**
 * The executor's switches, given by its caller (engine/settings.ts reads them from the
 * environment): the executor itself reads no process.env.
 */
export interface RuntimeSettings {
  /** Where programs are looked for (slirp4netns): a PATH-style list. */
  searchPath: string;
  /** The slirp4netns program to use, instead of looking for it. */
  slirp4netns?: string;
  /** Where a RUN's upper dir lives: decided per step (auto), or always memory or disk. */
  runUpper: UpperSetting;
  /** A RUN's in-memory upper dir of exactly this size. */
  runUpperBytes?: number;
  /** Whether a build's own layer dirs may live on a tmpfs (auto) or always in the store. */
  layerDirs: 'auto' | 'disk';
  /** The size of that tmpfs, instead of half the memory budget's room. */
  layerDirsBytes?: number;
  /** Where binfmt_misc's handlers are read (a foreign-platform RUN needs qemu's); default /proc/sys/fs/binfmt_misc. */
  binfmtDir?: string;
  /** How a RUN gets a writable root: overlay, a private copy (snapshotter.ts), or whichever works here (auto). */
  snapshotter: SnapshotterSetting;
}

/** No switch set: what an empty environment gives. */
export const defaultRuntimeSettings: RuntimeSettings = { searchPath: '', runUpper: 'auto', layerDirs: 'auto', snapshotter: 'auto' };
