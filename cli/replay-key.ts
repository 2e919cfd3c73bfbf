import { join } from 'node:path';

/**
 * The key of a replay record and the file it names: the part of the replay format that the
 * front door (front-door/, C) computes too. scripts/build-native.mjs writes these constants
 * into front-door/replay-key.gen.h from this module, so each is written once;
 * test/e2e/replay-key.test.ts runs both sides over a table of commands.
 * No imports beyond node:path: the build script loads this file on its own.
 */

export const REPLAY_MAGIC = 'tsbuild-replay-2';
/** Variables that never change a build's result, left out of the key (TSBUILD_USERNS: rootless
 * mode's namespace, which the front door, outside it, never sees). */
export const VOLATILE_ENV: readonly string[] = ['_', 'OLDPWD', 'TSBUILD_DEBUG', 'TSBUILD_USERNS'];
/** Where the records live, under the store root. */
export const REPLAY_DIR = join('cache', 'replay');
/** FNV-1a, 64 bits: offset basis and prime. */
export const FNV_OFFSET = 0xcbf29ce484222325n;
export const FNV_PRIME = 0x100000001b3n;

const volatile = new Set(VOLATILE_ENV);

/** The key of a build command: store, directory, arguments after the verb, environment. */
export function replayKey(root: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string[] {
  const vars = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && !volatile.has(e[0]))
    .map(([k, v]) => `${k}=${v}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [REPLAY_MAGIC, root, cwd, String(args.length), ...args, String(vars.length), ...vars];
}

/** Strings as the record holds them: each followed by a NUL. */
export function joined(strings: string[]): Buffer {
  // One string, one buffer: a record of a 10,000-file context has 30,000 strings.
  return Buffer.from(strings.length ? strings.join('\0') + '\0' : '', 'utf8');
}

function fnv1a64(bytes: Buffer): string {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** The record file for a key: `<root>/cache/replay/<FNV-1a 64 of the key's bytes>.rec`. */
export function replayRecordPath(root: string, key: string[]): string {
  return join(root, REPLAY_DIR, `${fnv1a64(joined(key))}.rec`);
}
