import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../common/index.js';
import { tempDir } from '../helpers/temp.js';

// The record a build writes (cli/replay-key.ts, in Node) and the record the front door looks
// for (front-door/key.c, in C) must be one file with one key, or replays silently stop (or
// worse, replay another command). Each row runs both sides as the `tsbuild` command would run:
// the same argv, environment, working directory and user, set up by one shell script so that
// bytes Node cannot hold in a string (invalid UTF-8) reach both. A row either expects the two
// to agree, or expects the front door to decline (then no record of Node's can ever match).

const front = join(projectRoot, 'front-door', 'tsbuild-front');
// What cli/app.ts does before build() gets its arguments, then what build() keys the record by.
const tsSide = `
const { splitGlobals } = await import(${JSON.stringify(pathToFileURL(join(projectRoot, 'dist', 'cli', 'root.js')).href)});
const { replayKey, replayRecordPath, joined } = await import(${JSON.stringify(pathToFileURL(join(projectRoot, 'dist', 'cli', 'replay-key.js')).href)});
const { root, rest } = splitGlobals(process.argv.slice(1), process.env);
const key = replayKey(root, rest[0] === 'build' ? rest.slice(1) : rest, process.cwd(), process.env);
process.stdout.write(Buffer.concat([Buffer.from(replayRecordPath(root, key) + '\\n'), joined(key)]));
`;

type Bytes = string | Buffer;
interface Case {
  name: string;
  argv: Bytes[];
  env?: Record<string, Bytes>;
  /** Relative to the test's folder. */
  cwd?: Bytes;
  /** Run as this user instead of root. */
  uid?: number;
  /** `same`: both sides give this record; `declined`: the front door makes no key. */
  want: 'same' | 'declined';
}

let base: string;
const NOBODY = 65534;
const SETUP_FAILED = 99;
const BAD_DIR = Buffer.from([0x62, 0x61, 0x64, 0x2d, 0xff]); // "bad-" and a byte that is no UTF-8

/** A shell word that is exactly these bytes (printf's octal escapes; the x keeps trailing newlines). */
function word(b: Bytes, name: string): string {
  const octal = [...Buffer.from(b)].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');
  return `${name}=$(printf '${octal}x'); ${name}=\${${name}%x}`;
}

/** Runs `program ...argv` as the row says: its exit status and output. */
function runSide(c: Case, program: string[]): { status: number | null; out: Buffer; stderr: string } {
  const lines = [word(Buffer.concat([Buffer.from(`${base}/`), Buffer.from(c.cwd ?? '')]), 'd'), `cd "$d" || exit ${SETUP_FAILED}`];
  for (const [k, v] of Object.entries(c.env ?? {})) lines.push(word(v, 'v'), `export ${k}="$v"`);
  const words = [...program, ...c.argv];
  words.forEach((a, i) => lines.push(word(a, `a${i}`)));
  lines.push(`exec ${words.map((_, i) => `"$a${i}"`).join(' ')}`);
  const r = spawnSync('/bin/sh', ['-c', lines.join('\n')], {
    env: { PATH: process.env.PATH! },
    ...(c.uid !== undefined ? { uid: c.uid, gid: c.uid } : {}),
  });
  return { status: r.status, out: r.stdout, stderr: r.stderr.toString() };
}

/** The record path (resolved against the working directory) and the key's bytes. */
function parsed(out: Buffer, cwd: string): { path: string; key: Buffer } {
  const nl = out.indexOf('\n');
  return { path: resolve(cwd, out.subarray(0, nl).toString()), key: out.subarray(nl + 1) };
}

const cFront = (c: Case) => runSide(c, [front, '--key']);
const node = (c: Case) => runSide(c, [process.execPath, '--input-type=module', '-e', tsSide, '--']);

before(async () => {
  base = await tempDir('tsbuild-replay-key-');
  await chmod(base, 0o755); // nobody's rows run in it too
  await mkdir(join(base, 'ctx dir ünï'));
  await mkdir(Buffer.concat([Buffer.from(`${base}/`), BAD_DIR]));
  await symlink('ctx dir ünï', join(base, 'link'));
});

const cases: Case[] = [
  { name: '--root DIR before the verb', argv: ['--root', '/tmp/store', 'build', '-t', 'app', '.'], want: 'same' },
  { name: '--root=DIR', argv: ['--root=/tmp/store', 'build', '-q', '-t', 'app', 'ctx'], want: 'same' },
  { name: 'the implicit build (no verb)', argv: ['--root', '/tmp/store', '-t', 'app', '.'], want: 'same' },
  { name: 'a relative, unnormalised --root', argv: ['--root', 'rel//store/', 'build', '-t', 'a', '.'], want: 'same' },
  { name: 'TSBUILD_ROOT', argv: ['build', '-t', 'app', '.'], env: { TSBUILD_ROOT: '/srv/ts' }, want: 'same' },
  { name: '--root wins over TSBUILD_ROOT', argv: ['--root', '/a', 'build', '-t', 'app', '.'], env: { TSBUILD_ROOT: '/b' }, want: 'same' },
  { name: 'an empty TSBUILD_ROOT: root\'s default', argv: ['build', '-t', 'app', '.'], env: { TSBUILD_ROOT: '' }, want: 'same' },
  { name: 'root ignores XDG_DATA_HOME', argv: ['build', '-t', 'app', '.'], env: { XDG_DATA_HOME: '/x' }, want: 'same' },
  { name: 'another user: XDG_DATA_HOME', argv: ['build', '-t', 'app', '.'], env: { XDG_DATA_HOME: '/x/data', HOME: '/h' }, uid: NOBODY, want: 'same' },
  { name: 'another user: an empty XDG_DATA_HOME, then HOME', argv: ['build', '-t', 'app', '.'], env: { XDG_DATA_HOME: '', HOME: '/home/n' }, uid: NOBODY, want: 'same' },
  { name: 'another user: --root', argv: ['--root', '/r', 'build', '-t', 'app', '.'], uid: NOBODY, want: 'same' },
  { name: 'another user without HOME: declined', argv: ['build', '-t', 'app', '.'], uid: NOBODY, want: 'declined' },
  {
    name: 'quoting and odd characters in arguments',
    argv: ['--root', '/r', 'build', '--build-arg', 'A=b c "d" \'e\' $f \\g', '--label=k=v\nw', '', '-t', 'ünï:é', '\uFFFD', '.'],
    want: 'same',
  },
  { name: 'newlines, = and non-ASCII in the environment', argv: ['--root', '/r', 'build', '.'], env: { A: 'x=y\nz', B: '', C: 'ünï €' }, want: 'same' },
  {
    name: 'volatile variables in the environment',
    argv: ['--root', '/r', 'build', '.'],
    env: { _: '/usr/bin/tsbuild', OLDPWD: '/elsewhere', TSBUILD_DEBUG: 'replay,start' },
    want: 'same',
  },
  { name: 'a working directory with spaces and non-ASCII', argv: ['--root', '/r', 'build', '.'], cwd: 'ctx dir ünï', want: 'same' },
  { name: 'a working directory through a symlink', argv: ['--root', '/r', 'build', '.'], cwd: 'link', want: 'same' },
  { name: 'an argument that is not UTF-8: declined', argv: ['--root', '/r', 'build', '--build-arg', Buffer.from([0x41, 0x3d, 0xff]), '.'], want: 'declined' },
  { name: 'an encoded surrogate: declined', argv: ['--root', '/r', 'build', '-t', Buffer.from([0x61, 0xed, 0xa0, 0x80]), '.'], want: 'declined' },
  { name: 'an overlong encoding: declined', argv: ['--root', '/r', 'build', '-t', Buffer.from([0x61, 0xc0, 0xaf]), '.'], want: 'declined' },
  { name: 'a variable that is not UTF-8: declined', argv: ['--root', '/r', 'build', '.'], env: { V: Buffer.from([0xfe, 0x41]) }, want: 'declined' },
  { name: 'a working directory that is not UTF-8: declined', argv: ['--root', '/r', 'build', '.'], cwd: BAD_DIR, want: 'declined' },
  { name: 'another command: declined', argv: ['--root', '/r', 'images'], want: 'declined' },
  { name: 'a bare word (a folder or a mistyped verb): declined', argv: ['--root', '/r', 'ctx'], want: 'declined' },
  { name: 'build --help: declined', argv: ['--root', '/r', 'build', '--help'], want: 'declined' },
  { name: 'TSBUILD_REPLAY=off: declined', argv: ['--root', '/r', 'build', '.'], env: { TSBUILD_REPLAY: 'off' }, want: 'declined' },
];

for (const c of cases) {
  test(`replay key: ${c.name}`, () => {
    const fromC = cFront(c);
    if (c.want === 'declined') {
      assert.equal(fromC.status, 1, `the front door made a key (or the row failed to set up): ${fromC.out.toString()}${fromC.stderr}`);
      assert.equal(fromC.out.length, 0);
      return;
    }
    const fromNode = node(c);
    assert.equal(fromC.status, 0, `the front door made no key: ${fromC.stderr}`);
    assert.equal(fromNode.status, 0, `node failed: ${fromNode.stderr}`);
    const cwd = resolve(base, c.cwd?.toString() ?? '');
    const [a, b] = [parsed(fromC.out, cwd), parsed(fromNode.out, cwd)];
    assert.equal(a.key.toString('latin1'), b.key.toString('latin1'));
    assert.equal(a.path, b.path);
  });
}

test('replay key: volatile variables are left out, any other variable is in', () => {
  const row: Case = { name: '', argv: ['--root', '/r', 'build', '.'], env: { A: '1' }, want: 'same' };
  const keyOf = (env: Record<string, string>) => {
    const r = cFront({ ...row, env: { ...row.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.out.toString('latin1');
  };
  const plain = keyOf({});
  assert.equal(keyOf({ _: '/bin/x', OLDPWD: '/o', TSBUILD_DEBUG: 'replay' }), plain);
  assert.notEqual(keyOf({ B: '2' }), plain);
  assert.notEqual(keyOf({ TSBUILD_DEBUGX: '1' }), plain, 'only the exact names are volatile');
});
