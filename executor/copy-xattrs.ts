import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/index.js';

/**
 * Extended attributes of a tree (`security.capability`, overlay's `trusted.overlay.*`, …).
 * Node has no xattr API, so one `getfattr -R` (Debian package `attr`) dumps a whole tree in
 * one process: the cost stays one walk in C, not one process per file.
 */
export type XattrMap = Map<string, Record<string, Buffer>>;

let available: boolean | undefined;

/** Is `getfattr` on PATH? (looked up once per process, without running it: a process costs ms) */
export function hasGetfattr(): boolean {
  available ??= (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir || '.', 'getfattr'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return available;
}

/**
 * The xattrs of `path` and, with `recursive`, everything below it (symlinks not followed),
 * keyed by absolute path. Entries without xattrs are absent. Undefined without getfattr.
 */
export async function readXattrs(path: string, opts: { recursive: boolean }): Promise<XattrMap | undefined> {
  if (!hasGetfattr()) return undefined;
  const args = [...(opts.recursive ? ['-R', '-P'] : []), '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', path];
  const out = await run('getfattr', args);
  return parseDump(out);
}

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      // getfattr exits 1 when some file had no xattr support; the dump is still complete.
      if (code === 0 || (code === 1 && err.trim() === '')) resolve(Buffer.concat(chunks));
      else reject(new UserError('xattr-read', `read extended attributes: ${err.trim() || `getfattr exited ${code}`}`));
    });
  });
}

/** Parse `getfattr -d -e hex` output: `# file: PATH` then `name=0xHEX` lines. */
export function parseDump(out: Buffer): XattrMap {
  const map: XattrMap = new Map();
  let current: Record<string, Buffer> | undefined;
  for (const line of out.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      map.set(unescapeName(line.slice(8)), current);
    } else if (current && line !== '') {
      const i = line.indexOf('=');
      if (i < 0) continue;
      const name = Buffer.from(unescapeName(line.slice(0, i)), 'utf8').toString('utf8');
      const value = line.slice(i + 1);
      current[name] = value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1');
    }
  }
  return map;
}

/** getfattr quotes `\` and control bytes as `\ooo`; the rest are raw bytes (read as latin1). */
function unescapeName(s: string): string {
  const bytes = Buffer.from(s.replace(/\\([0-7]{3}|\\)/g, (_, o: string) => (o === '\\' ? '\\' : String.fromCharCode(parseInt(o, 8)))), 'latin1');
  return bytes.toString('utf8');
}
