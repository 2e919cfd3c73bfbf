import { UserError } from '../common/index.js';
import { contextMessages } from './messages.js';

/**
 * COPY/ADD `--chmod`: an octal mode (0–07777) set on every copied file and directory, or a
 * symbolic mode (`u+x`, `go-w,a+rX`, `u=rw,g=u`) applied to each entry's own mode, as
 * BuildKit does with tonistiigi/dchapes-mode (no umask; no `who` means `a`).
 */
export type Chmod = { kind: 'octal'; mode: number } | { kind: 'symbolic'; clauses: Clause[]; text: string };

interface Clause {
  who: number; // mask of the permission bits the clause touches
  ops: { op: '+' | '-' | '='; perm: string; copy?: 'u' | 'g' | 'o' }[];
}

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/** Parse a --chmod value; throws UserError 'copy-bad-chmod'. */
export function parseChmod(spec: string): Chmod {
  if (/^[0-9]+$/.test(spec)) {
    if (!/^[0-7]+$/.test(spec) || parseInt(spec, 8) > 0o7777) throw bad(spec);
    return { kind: 'octal', mode: parseInt(spec, 8) };
  }
  const clauses: Clause[] = [];
  for (const part of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(part);
    if (!m) throw bad(spec);
    let who = 0;
    for (const c of m[1]) who |= WHO[c];
    if (who === 0) who = WHO.a;
    const ops: Clause['ops'] = [];
    for (const o of m[2].matchAll(/([-+=])([ugo]|[rwxXst]*)/g)) {
      const perm = o[2];
      if (perm.length === 1 && 'ugo'.includes(perm)) ops.push({ op: o[1] as '+', perm: '', copy: perm as 'u' });
      else ops.push({ op: o[1] as '+', perm });
    }
    clauses.push({ who, ops });
  }
  return { kind: 'symbolic', clauses, text: spec };
}

function bad(spec: string): UserError {
  return new UserError('copy-bad-chmod', contextMessages['copy-bad-chmod'](spec), { where: '--chmod' });
}

/** The permission bits (07777) an entry gets under `chmod`, from its own `mode`. */
export function applyChmod(chmod: Chmod | undefined, mode: number, isDir: boolean): number {
  mode &= 0o7777;
  if (!chmod) return mode;
  if (chmod.kind === 'octal') return chmod.mode;
  for (const c of chmod.clauses) {
    for (const o of c.ops) {
      let bits = o.copy ? copyBits(mode, o.copy) : permBits(o.perm, mode, isDir);
      bits &= c.who;
      if (o.op === '+') mode |= bits;
      else if (o.op === '-') mode &= ~bits;
      else mode = (mode & ~c.who) | bits;
    }
  }
  return mode & 0o7777;
}

function permBits(perm: string, mode: number, isDir: boolean): number {
  let b = 0;
  for (const ch of perm) {
    if (ch === 'r') b |= 0o444;
    else if (ch === 'w') b |= 0o222;
    else if (ch === 'x') b |= 0o111;
    else if (ch === 'X') b |= isDir || (mode & 0o111) !== 0 ? 0o111 : 0;
    else if (ch === 's') b |= 0o6000;
    else if (ch === 't') b |= 0o1000;
  }
  return b;
}

function copyBits(mode: number, from: 'u' | 'g' | 'o'): number {
  const three = from === 'u' ? (mode >> 6) & 7 : from === 'g' ? (mode >> 3) & 7 : mode & 7;
  return (three << 6) | (three << 3) | three;
}
