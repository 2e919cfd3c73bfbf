import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork, makeBusybox } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

const exec = promisify(execFile);

let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-mounts-'));
});

async function build(
  name: string,
  dockerfile: string,
  args: string[] = [],
  opts: { root?: string; files?: Record<string, string>; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile, ...(opts.files ?? {}) });
  return runCli(['build', '--progress', 'plain', '-t', name, ...args, ctx], { root: opts.root ?? root, env: opts.env });
}

async function runIn(image: string, script: string, r = root): Promise<CliResult> {
  return runCli(['run', '--rm', image, 'sh', '-c', script], { root: r });
}

/** Files under `dir` whose bytes contain `needle` (layer tars, configs, records: everything). */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  try {
    const { stdout } = await exec('grep', ['-r', '-l', '-a', '-F', needle, dir]);
    return stdout.split('\n').filter(Boolean);
  } catch (e) {
    if ((e as { code?: number }).code === 1) return [];
    throw e;
  }
}

const COUNTER = `FROM busybox
RUN --mount=type=cache,target=/var/cache/app,id=counter sh -c 'n=$(( $(cat /var/cache/app/n 2>/dev/null || echo 0) + 1 )); echo $n > /var/cache/app/n; echo $n > /seen'
`;

test('a cache mount survives between builds, is absent from the image, and prune --all drops it', async () => {
  const first = await build('cache-1', COUNTER);
  assert.equal(first.code, 0, first.stderr);
  const second = await build('cache-2', COUNTER, ['--no-cache']);
  assert.equal(second.code, 0, second.stderr);
  const seen = await runIn('cache-2', 'cat /seen; test -e /var/cache/app && echo leaked || echo clean');
  assert.equal(seen.stdout, '2\nclean\n', seen.stderr);
  // Not in the cache key: without --no-cache the step is a hit though the cache changed.
  const third = await build('cache-3', COUNTER);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /CACHED/);
  const pruned = await runCli(['prune', '--all'], { root });
  assert.equal(pruned.code, 0, pruned.stderr);
  const after = await build('cache-4', COUNTER);
  assert.equal(after.code, 0, after.stderr);
  assert.equal((await runIn('cache-4', 'cat /seen')).stdout, '1\n');
});

// BuildKit keys a cache dir by id and base (solver/llbsolver/mounts/mount.go getRefCacheDir:
// id + ":" + ref.ID()); the base is a dir made with the given uid/gid/mode or the from= source
// (dockerfile2llb/convert_runmount.go). The empty target is not left in the image: BuildKit's
// executor/stubs.go removes mount stubs (recursively, client/llb/exec.go).
test('cache mounts with one id but another uid, mode or from get their own dirs; the same base shares one', async () => {
  const put = (opts: string, word: string) =>
    `RUN --mount=type=cache,target=/c,id=shared-id${opts} sh -c 'ls /c > /before-${word}; stat -c %u:%a /c > /perm-${word}; touch /c/${word}'`;
  const dockerfile = `FROM busybox AS src
RUN mkdir /data && echo seed > /data/s
FROM busybox
${put('', 'plain')}
${put(',uid=10', 'uid10')}
${put(',mode=0700', 'mode700')}
${put(',from=src,source=/data', 'from')}
${put(',uid=10', 'uid10again')}
${put('', 'plainagain')}
`;
  const r = await build('cache-bases', dockerfile);
  assert.equal(r.code, 0, r.stderr);
  const seen = await runIn('cache-bases', 'for w in plain uid10 mode700 from uid10again plainagain; do echo "$w: $(cat /before-$w | tr "\\n" " ")$(cat /perm-$w)"; done; test -e /c && echo leaked || echo clean');
  assert.equal(
    seen.stdout,
    ['plain: 0:755', 'uid10: 10:755', 'mode700: 0:700', 'from: s 0:755', 'uid10again: uid10 10:755', 'plainagain: plain 0:755', 'clean', ''].join('\n'),
  );
});

test('sharing=locked lets one build at a time use the cache mount', async () => {
  const step = (who: string) => `FROM busybox
RUN --mount=type=cache,target=/c,id=locked-test,sharing=locked sh -c 'echo "start ${who} $(cut -d" " -f1 /proc/uptime)" >> /c/log; sleep 1; echo "end ${who} $(cut -d" " -f1 /proc/uptime)" >> /c/log'
`;
  const [a, b] = await Promise.all([build('locked-a', step('a')), build('locked-b', step('b'))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const read = await build('locked-read', 'FROM busybox\nRUN --mount=type=cache,target=/c,id=locked-test,sharing=locked cp /c/log /log\n');
  assert.equal(read.code, 0, read.stderr);
  const log = (await runIn('locked-read', 'cat /log')).stdout.trim().split('\n').map((l) => l.split(' '));
  assert.equal(log.length, 4, JSON.stringify(log));
  // Whole intervals, one after the other: start X, end X, start Y, end Y.
  assert.deepEqual(log.map((l) => l[0]), ['start', 'end', 'start', 'end']);
  assert.equal(log[0][1], log[1][1]);
  assert.equal(log[2][1], log[3][1]);
  assert.notEqual(log[0][1], log[2][1]);
  assert.ok(Number(log[2][2]) >= Number(log[1][2]), JSON.stringify(log));
});

test('a secret is readable in the step and nowhere in the store, history or output', async () => {
  const value = 'tsb-s3cr3t-7f2a9c41';
  const secretFile = join(work, 'secret.txt');
  await writeFile(secretFile, value + '\n');
  const cacheDir = join(work, 'secret-cache-export');
  // The Dockerfile names only the value's digest: the value itself must appear nowhere.
  const sum = createHash('sha256').update(value + '\n').digest('hex');
  const r = await build(
    'secret',
    `FROM busybox
RUN --mount=type=secret,id=tok test "$(sha256sum < /run/secrets/tok | cut -d' ' -f1)" = ${sum} && stat -c %a /run/secrets/tok > /mode && cat /run/secrets/tok
RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'test "$(printf %s "$TOKEN" | sha256sum | cut -d" " -f1)" = ${sum} && echo env-ok > /env-ok'
RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0440 cp /etc/tok /dev/null && echo file-ok > /file-ok
`,
    ['--secret', `id=tok,src=${secretFile}`, '--cache-to', `type=local,dest=${cacheDir}`],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stderr.includes(value), 'the value is masked in the output');
  assert.match(r.stderr, /\*\*\*\*/);
  const inImage = await runIn('secret', 'cat /mode /env-ok /file-ok; test -e /run && echo run-leaked; test -e /etc/tok && echo etc-leaked; true');
  assert.equal(inImage.stdout, '400\nenv-ok\nfile-ok\n', inImage.stderr);
  const history = await runCli(['history', '--no-trunc', 'secret'], { root });
  assert.ok(!history.stdout.includes(value));
  assert.deepEqual(await filesContaining(root, value), []);
  assert.deepEqual(await filesContaining(cacheDir, value), []);
  // The same secret from the environment.
  const fromEnv = await runCli(
    ['build', '--progress', 'plain', '-t', 'secret-env', '--no-cache', '--secret', 'id=tok,env=MY_TOKEN', join(work, 'ctx-secret')],
    { root, env: { MY_TOKEN: value + '\n' } },
  );
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  // A required secret that is not given fails the step, naming it.
  const missing = await build('secret-missing', 'FROM busybox\nRUN --mount=type=secret,id=nope,required true\n');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /secret "nope" is required/);
});

test('bind mounts: from another stage, from the context with rw writes discarded, content in the key', async () => {
  const dockerfile = `FROM busybox AS src
RUN mkdir /data && echo from-stage > /data/f
FROM busybox
RUN --mount=type=bind,from=src,source=/data,target=/mnt/s cat /mnt/s/f > /got-stage
RUN --mount=type=bind,source=dir,target=/mnt/c,rw sh -c 'cat /mnt/c/a > /got-ctx; echo changed > /mnt/c/a; echo new > /mnt/c/new'
RUN --mount=target=/mnt/ro sh -c 'echo x > /mnt/ro/x' || echo read-only > /ro
RUN --mount=source=dir,target=/mnt/d ls -A /mnt/d > /listing
`;
  const files = { 'dir/a': 'v1\n', 'dir/hidden.env': 'TOKEN=1\n', '.dockerignore': '**/*.env\n' };
  const r = await build('bind', dockerfile, [], { files });
  assert.equal(r.code, 0, r.stderr);
  const out = await runIn('bind', 'cat /got-stage /got-ctx /ro /listing; test -e /mnt && echo mnt-leaked; true');
  // What .dockerignore excludes is not in a context bind either.
  assert.equal(out.stdout, 'from-stage\nv1\nread-only\na\n', out.stderr);
  assert.equal(await readFile(join(work, 'ctx-bind', 'dir', 'a'), 'utf8'), 'v1\n');
  assert.deepEqual((await readdir(join(work, 'ctx-bind', 'dir'))).sort(), ['a', 'hidden.env']);
  // The bound content is in the step's key: a change in it runs the step again.
  const again = await build('bind', dockerfile, [], { files: { ...files, 'dir/a': 'v2\n' } });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await runIn('bind', 'cat /got-ctx')).stdout, 'v2\n');
});

test('a cache mount seeded from a stage; sharing=private reuses the stored cache when free', async () => {
  const dockerfile = `FROM busybox AS src
RUN mkdir /data && echo seed > /data/f
FROM busybox
RUN --mount=type=cache,target=/c,id=seeded,from=src,source=/data,sharing=private sh -c 'cat /c/f > /seeded; echo more >> /c/f'
`;
  const r = await build('seeded', dockerfile);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await runIn('seeded', 'cat /seeded')).stdout, 'seed\n');
  const again = await build('seeded', dockerfile, ['--no-cache']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await runIn('seeded', 'cat /seeded; test -e /c && echo leaked; true')).stdout, 'seed\nmore\n');
});

test('a tmpfs mount is a tmpfs while the step runs and leaves nothing behind', async () => {
  const r = await build(
    'tmpfs',
    `FROM busybox
RUN --mount=type=tmpfs,target=/scratch,size=1m sh -c 'grep -q " /scratch tmpfs " /proc/mounts && echo hi > /scratch/f && cat /scratch/f > /saw'
`,
  );
  assert.equal(r.code, 0, r.stderr);
  const out = await runIn('tmpfs', 'cat /saw; test -e /scratch && echo leaked; true');
  assert.equal(out.stdout, 'hi\n', out.stderr);
});

test('RUN --network=none and the default network cannot reach the host; --network=host with --allow can', async () => {
  const got: string[] = [];
  const server = createServer((s) => s.on('data', (d) => got.push(d.toString())).on('end', () => s.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const ok = await build('net-host', `FROM busybox\nRUN --network=host echo hello-host | nc -w 2 127.0.0.1 ${port}\n`, ['--allow', 'network.host']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(got.join('').includes('hello-host'));
    const private_ = await build('net-default', `FROM busybox\nRUN echo hello-default | nc -w 2 127.0.0.1 ${port}\n`);
    assert.notEqual(private_.code, 0, private_.stderr);
    assert.ok(!got.join('').includes('hello-default'));
    const none = await build('net-none', `FROM busybox\nRUN --network=none echo hello-none | nc -w 2 127.0.0.1 ${port}\n`);
    assert.notEqual(none.code, 0, none.stderr);
    assert.ok(!got.join('').includes('hello-none'));
  } finally {
    server.close();
  }
});

test('cache mounts exported with --cache-to type=local warm a fresh root through --cache-from', async () => {
  const dest = join(work, 'mount-export');
  const w = await build('warm-1', 'FROM busybox\nRUN --mount=type=cache,target=/c,id=pkg sh -c "echo warm-content > /c/pkg"\n', [
    '--cache-to',
    `type=local,dest=${dest}`,
  ]);
  assert.equal(w.code, 0, w.stderr);
  assert.ok((await readdir(join(dest, 'mounts'))).some((n) => n.endsWith('.tar')));
  const root2 = join(work, 'root2');
  await makeBusybox(root2, join(work, 'bb2'));
  const cold = await build('warm-2', 'FROM busybox\nRUN --mount=type=cache,target=/c,id=pkg sh -c "cat /c/pkg > /got || echo cold > /got"\n', [], { root: root2 });
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal((await runIn('warm-2', 'cat /got', root2)).stdout, 'cold\n');
  const root3 = join(work, 'root3');
  await makeBusybox(root3, join(work, 'bb3'));
  const warm = await build('warm-3', 'FROM busybox\nRUN --mount=type=cache,target=/c,id=pkg sh -c "cat /c/pkg > /got || echo cold > /got"\n', [
    '--cache-from',
    `type=local,src=${dest}`,
  ], { root: root3 });
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal((await runIn('warm-3', 'cat /got', root3)).stdout, 'warm-content\n');
});

test('--ssh default forwards SSH_AUTH_SOCK to RUN --mount=type=ssh, and leaves no trace', async () => {
  const sock = join(work, 'agent.sock');
  const agent = createServer((s) => s.end());
  await new Promise<void>((r) => agent.listen(sock, () => r()));
  try {
    const dockerfile = 'FROM busybox\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock\n';
    const r = await build('ssh', dockerfile, ['--ssh', 'default'], { env: { SSH_AUTH_SOCK: sock } });
    assert.equal(r.code, 0, r.stderr);
    const out = await runIn('ssh', 'cat /sock; test -e /run && echo leaked; true');
    assert.equal(out.stdout, '/run/buildkit/ssh_agent.0\n', out.stderr);
    // A required agent that is not given fails, naming it.
    const missing = await build('ssh-missing', 'FROM busybox\nRUN --mount=type=ssh,id=deploy,required true\n');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /ssh agent "deploy"/);
  } finally {
    agent.close();
  }
});

test('bad mount options name the line and the option', async () => {
  const cases: [string, RegExp][] = [
    ['RUN --mount=type=cache,target=/x,mode=9z true', /mode/],
    ['RUN --mount=type=cache,target=/x,bogus=1 true', /bogus/],
    ['RUN --mount=type=tmpfs,target=/x,uid=1 true', /uid/],
    ['RUN --mount=type=cache,target=/x,sharing=sometimes true', /sharing/],
    ['RUN --mount=type=tmpfs,target=/x,size=lots true', /size/],
    ['RUN --mount=type=bind,source=nope,target=/x true', /nope/],
  ];
  for (const [i, [line, option]] of cases.entries()) {
    const r = await build(`bad-${i}`, `FROM busybox\n${line}\n`);
    assert.notEqual(r.code, 0, line);
    assert.match(r.stderr, /Dockerfile:2/, `${line}: ${r.stderr}`);
    assert.match(r.stderr, option, `${line}: ${r.stderr}`);
  }
});

test('cache mounts exported with --cache-to type=registry warm a fresh root through --cache-from', async () => {
  const { startRegistry } = await import('../helpers/registry-server.js');
  const registry = await startRegistry({});
  try {
    const ref = `${registry.host}/cache/mounts:1`;
    const w = await build('reg-warm-1', 'FROM busybox\nRUN --mount=type=cache,target=/c,id=regpkg sh -c "echo via-registry > /c/pkg"\n', [
      '--cache-to',
      `type=registry,ref=${ref}`,
    ]);
    assert.equal(w.code, 0, w.stderr);
    const fresh = join(work, 'root-reg');
    await makeBusybox(fresh, join(work, 'bb-reg'));
    const warm = await build(
      'reg-warm-2',
      'FROM busybox\nRUN --mount=type=cache,target=/c,id=regpkg sh -c "cat /c/pkg > /got || echo cold > /got"\n',
      ['--cache-from', `type=registry,ref=${ref}`],
      { root: fresh },
    );
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal((await runIn('reg-warm-2', 'cat /got', fresh)).stdout, 'via-registry\n');
  } finally {
    await registry.stop();
  }
});
