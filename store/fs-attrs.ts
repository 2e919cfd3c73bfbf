import { spawn } from 'node:child_process';
import { helperPath } from '../common/index.js';

/**
 * Extended attributes and device nodes, which Node has no API for, through the static
 * helper's `--xattrs-get`, `--xattrs-set` and `--mknod` (runtime-helper/fsattr-cmd.c): one
 * process per batch, never one per file, and no host tools (getfattr, setfattr, mknod).
 * Failures are plain errors with the helper's one line; callers name what they were doing.
 */
export type XattrMap = Map<string, Record<string, Buffer>>;

export interface DeviceNode {
  path: string;
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits (07777), set exactly (the umask does not apply). */
  mode: number;
}

/** The xattrs of `path` (and, with `recursive`, of everything below it, symlinks not followed), by path; entries without any are absent. */
export async function getXattrs(path: string, opts: { recursive: boolean }): Promise<XattrMap> {
  const out = await helper(opts.recursive ? ['--xattrs-get', '-R', path] : ['--xattrs-get', path]);
  const fields = out.toString('latin1').split('\0');
  fields.pop(); // after the last NUL
  const map: XattrMap = new Map();
  for (let i = 0; i < fields.length; ) {
    const p = Buffer.from(fields[i++], 'latin1').toString('utf8');
    const n = Number(fields[i++]);
    const xs: Record<string, Buffer> = {};
    for (let j = 0; j < n; j++) {
      const name = Buffer.from(fields[i++], 'latin1').toString('utf8');
      xs[name] = Buffer.from(fields[i++], 'hex');
    }
    map.set(p, xs);
  }
  return map;
}

/** Set each xattr (on symlinks themselves, not their targets). */
export async function setXattrs(records: Iterable<{ path: string; name: string; value: Buffer }>): Promise<void> {
  const parts: Buffer[] = [];
  for (const r of records) parts.push(Buffer.from(`${r.path}\0${r.name}\0${r.value.toString('hex')}\0`));
  if (parts.length > 0) await helper(['--xattrs-set'], Buffer.concat(parts));
}

/** Make each device node or fifo (the paths must not exist). */
export async function makeNodes(nodes: Iterable<DeviceNode>): Promise<void> {
  const parts: Buffer[] = [];
  for (const d of nodes) parts.push(Buffer.from(`${d.path}\0${d.kind}\0${d.major}\0${d.minor}\0${(d.mode & 0o7777).toString(8)}\0`));
  if (parts.length > 0) await helper(['--mknod'], Buffer.concat(parts));
}

function helper(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(err.trim() || `tsbuild-helper ${args[0]} exited ${code}`))));
    if (input) {
      child.stdin!.on('error', () => {}); // an early exit is reported by its status
      child.stdin!.end(input);
    }
  });
}
