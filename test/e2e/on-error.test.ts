import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cliPath, runCli } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// `build --on-error`: what buildx's experimental `debug --on=error` does (docker/buildx
// commands/debug.go: the monitor's default process is /bin/sh in the failed step's state),
// plus `keep` for a CI job without a terminal.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork());
  await writeFile(join(work, 'tok'), 's3cret-value\n');
});

/** A stage that sets env, user and workdir, then a RUN that writes a file, uses its mounts and fails. */
const FAILING = [
  'FROM busybox',
  'ENV GREETING=hi',
  'WORKDIR /w',
  'RUN echo app:x:1234:1234::/w:/bin/sh >> /etc/passwd && echo app:x:1234: >> /etc/group && chown app /w',
  'USER app',
  'RUN --mount=type=secret,id=tok,uid=1234 --mount=type=cache,target=/cache,uid=1234 echo made > /w/partial && echo cached > /cache/c && exit 7',
  '',
].join('\n');

const secretArgs = () => ['--secret', `id=tok,src=${join(work, 'tok')}`];

/** Every container record in the store (`ps -a -q`), and what is left in its temp area and mount table. */
async function leftovers(): Promise<{ containers: string; tmp: string[]; mounts: string[] }> {
  const ps = await runCli(['ps', '-a', '-q'], { root });
  const tmp = await readdir(join(root, 'tmp')).catch(() => [] as string[]);
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(root));
  return { containers: ps.stdout, tmp, mounts };
}

/** `tsbuild ARGS` under script(1), a real pty: `keys` are typed once the output shows `when`. */
function underPty(args: string[], when: RegExp, keys: string): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', `${process.execPath} ${cliPath} ${quoted}`, '/dev/null'], {
      env: { ...process.env, TSBUILD_ROOT: root },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let typed = false;
    const seen = (b: Buffer) => {
      screen += b.toString('utf8');
      if (!typed && when.test(screen)) {
        typed = true;
        child.stdin.write(keys);
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

test('a failed RUN\'s message says how to look inside it (--on-error)', async () => {
  const ctx = join(work, 'ctx-hint');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
  const r = await runCli(['build', '--progress', 'plain', ctx], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error\[run-failed\]: RUN exited with code 3/);
  assert.match(r.stderr, /hint: build again with --on-error=shell for a shell in the failed step, or --on-error=keep/);
});

test('--on-error=keep leaves a stopped container with the failed RUN\'s files, env, user, workdir and cache mount', async () => {
  const ctx = join(work, 'ctx-keep');
  await writeTree(ctx, { Dockerfile: FAILING });
  const r = await runCli(['build', '--progress', 'plain', '--on-error=keep', ...secretArgs(), ctx], { root });
  assert.equal(r.code, 1, r.stderr);
  const m = /kept as container ([0-9a-f]{12}): enter it with `tsbuild run -it --from-container \1`, remove it with `tsbuild rm \1`/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const id = m[1];
  // Secret files live on the step's private tmpfs only: never written to the store's disk.
  assert.match(r.stderr, /not kept with the container \(they live only while the build runs\): the mounts at \/run\/secrets\/tok/);
  const ps = await runCli(['ps', '-a'], { root });
  assert.match(ps.stdout, new RegExp(`^${id}\\s.*"/bin/sh".*Exited \\(7\\)`, 'm'));
  // The file the failing command wrote before it failed, as it left it.
  const inside = await runCli(['run', '--from-container', id, 'sh', '-c', 'cat /w/partial; id -u; pwd; echo $GREETING; cat /cache/c; test ! -e /run/secrets/tok'], { root });
  assert.equal(inside.code, 0, inside.stderr);
  assert.equal(inside.stdout, 'made\n1234\n/w\nhi\ncached\n');
  // What a command run in it changes stays in it.
  assert.equal((await runCli(['run', '--from-container', id, 'sh', '-c', 'echo more > /w/second'], { root })).code, 0);
  assert.equal((await runCli(['run', '--from-container', id, 'cat', '/w/second'], { root })).stdout, 'more\n');
  const rm = await runCli(['rm', id], { root });
  assert.equal(rm.code, 0, rm.stderr);
  const left = await leftovers();
  assert.deepEqual(left, { containers: '', tmp: [], mounts: [] });
});

test('run --from-container: an unknown container, or an option of a new container, is one clear line', async () => {
  const none = await runCli(['run', '--from-container', 'no-such', 'true'], { root });
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
  assert.match(none.stderr, /No such container: no-such/);
  const bad = await runCli(['run', '--rm', '--from-container', 'x', 'true'], { root });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error\[usage\]: --rm cannot be used with --from-container/);
});

test('--on-error=shell without a terminal is one error line, before anything is built', async () => {
  const ctx = join(work, 'ctx-notty');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
  const r = await runCli(['build', '--progress', 'plain', '--on-error=shell', ctx], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error\[not-a-tty\]: --on-error=shell needs a terminal: the input device is not a TTY\n  hint: use --on-error=keep/);
  assert.doesNotMatch(r.stderr, /RUN exit 3/);
  const bad = await runCli(['build', '--on-error=debug', ctx], { root });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --on-error "debug": want fail, shell or keep/);
});

test('--on-error=shell opens a shell in the failed RUN (its files, env, user, workdir, secret) through a pty, and leaves nothing behind', async () => {
  const ctx = join(work, 'ctx-shell');
  await writeTree(ctx, { Dockerfile: FAILING });
  const keys = 'ls; cat /run/secrets/tok; echo "$GREETING-$(id -u)-$(pwd)-$(cat /cache/c)"; exit\n';
  const r = await underPty(['build', '--on-error=shell', ...secretArgs(), ctx], /a shell in its state/, keys);
  assert.equal(r.code, 1, r.screen);
  assert.match(r.screen, /RUN failed \(exit code 7\): a shell in its state; exit the shell to end the build/);
  assert.match(r.screen, /^partial\s*$/m); // `ls` in /w
  assert.match(r.screen, /^s3cret-value\s*$/m);
  assert.match(r.screen, /^hi-1234-\/w-cached\s*$/m);
  // The build then fails as it would have.
  assert.match(r.screen, /error\[run-failed\]: RUN exited with code 7/);
  assert.deepEqual(await leftovers(), { containers: '', tmp: [], mounts: [] });
});

test('--on-error=shell with a failing COPY opens the shell in the state before it', async () => {
  const ctx = join(work, 'ctx-copy');
  await writeTree(ctx, {
    Dockerfile: 'FROM busybox AS src\nRUN true\nFROM busybox\nWORKDIR /app\nRUN echo content-before > /app/before\nCOPY --from=src /not-there /app/\n',
  });
  const r = await underPty(['build', '--on-error=shell', ctx], /a shell in its state/, 'ls; cat before; exit\n');
  assert.equal(r.code, 1, r.screen);
  assert.match(r.screen, /COPY failed; the state before it: a shell in its state/);
  assert.match(r.screen, /^content-before\s*$/m);
  assert.deepEqual(await leftovers(), { containers: '', tmp: [], mounts: [] });
});

test('--on-error=keep with a COPY whose context file is missing keeps the state before it, at its line', async () => {
  const ctx = join(work, 'ctx-copy-context-keep');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN echo from-run > /before\nCOPY missing.txt /app/\n' });
  const r = await runCli(['build', '--progress', 'plain', '--on-error=keep', ctx], { root });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Dockerfile:3:1: error\[copy-source-missing\]: "\/missing.txt": not found/);
  assert.match(r.stderr, /\] RUN echo from-run/); // the step before it ran
  const id = /kept as container ([0-9a-f]{12})/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  const inside = await runCli(['run', '--from-container', id, 'sh', '-c', 'cat /before; ls /app 2>&1'], { root });
  assert.equal(inside.stdout, 'from-run\nls: /app: No such file or directory\n', inside.stderr);
  assert.equal((await runCli(['rm', id], { root })).code, 0);
  // Without --on-error the same build fails while planning, before the RUN, with the same line.
  const plain = await runCli(['build', '--progress', 'plain', '--no-cache', ctx], { root });
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /Dockerfile:3:1: error\[copy-source-missing\]: "\/missing.txt": not found/);
  assert.doesNotMatch(plain.stderr, /\] RUN echo from-run/);
});

test('--on-error=shell with an ADD whose context file is missing opens the shell in the state before it', async () => {
  const ctx = join(work, 'ctx-add-context-shell');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nWORKDIR /w\nRUN echo shell-before > /w/made\nADD gone.tar /w/\n' });
  const r = await underPty(['build', '--on-error=shell', ctx], /a shell in its state/, 'ls; exit\n');
  assert.equal(r.code, 1, r.screen);
  assert.match(r.screen, /COPY failed; the state before it: a shell in its state/);
  assert.match(r.screen, /^made\s*$/m);
  assert.match(r.screen, /"\/gone.tar": not found/);
  assert.deepEqual(await leftovers(), { containers: '', tmp: [], mounts: [] });
});

test('--on-error=keep with a failing COPY keeps the state before it', async () => {
  const ctx = join(work, 'ctx-copy-keep');
  await writeTree(ctx, { Dockerfile: 'FROM busybox AS src\nRUN true\nFROM busybox\nRUN echo kept-before > /before\nCOPY --from=src /not-there /app/\n' });
  const r = await runCli(['build', '--progress', 'plain', '--on-error=keep', ctx], { root });
  assert.equal(r.code, 1, r.stderr);
  const id = /kept as container ([0-9a-f]{12})/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  const inside = await runCli(['run', '--from-container', id, 'cat', '/before'], { root });
  assert.equal(inside.stdout, 'kept-before\n', inside.stderr);
  assert.equal((await runCli(['rm', id], { root })).code, 0);
});
