import assert from 'node:assert/strict';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree } from '../helpers/files.js';

// run's storage and network flags as Docker has them: -v (docker/cli volume/mounts
// linux_parser.go: a path binds, a name is a volume, a new volume is filled from the image),
// --mount (opts/mount.go), --tmpfs, --read-only, --cap-add/--cap-drop (moby oci/caps), and
// -p/-P published through slirp4netns (its add_hostfwd API), reached here with node:http.
let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-volports-'));
});

const cli = (args: string[]): Promise<CliResult> => runCli(args, { root });

function httpGet(port: number, host = '127.0.0.1', path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function eventually<T>(fn: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`never happened: ${what}: ${String(last)}`);
}

function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const s: Server = createServer().listen(0, host, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

test('-v HOST:CTR binds read-write; :ro denies writes; a missing -v host dir is made, a missing --mount source is an error', async () => {
  const host = join(work, 'shared');
  await mkdir(host);
  await writeFile(join(host, 'in'), 'from host\n');
  const rw = await cli(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo from container > /data/out']);
  assert.equal(rw.code, 0, rw.stderr);
  assert.equal(rw.stdout, 'from host\n');
  assert.equal(await readFile(join(host, 'out'), 'utf8'), 'from container\n');
  const ro = await cli(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'echo no > /data/denied']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  await assert.rejects(stat(join(host, 'denied')));
  const made = join(work, 'made-by-v');
  assert.equal((await cli(['run', '--rm', '-v', `${made}:/m`, 'busybox', 'true'])).code, 0);
  assert.ok((await stat(made)).isDirectory());
  const missing = await cli(['run', '--rm', '--mount', `type=bind,source=${join(work, 'nope')},target=/x`, 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /bind source path does not exist/);
  const ro2 = await cli(['run', '--rm', '--mount', `type=bind,src=${host},dst=/data,readonly`, 'busybox', 'sh', '-c', 'cat /data/in; touch /data/x']);
  assert.equal(ro2.stdout, 'from host\n');
  assert.match(ro2.stderr, /Read-only file system/);
  const relative = await cli(['run', '--rm', '-v', `${host}:data`, 'busybox', 'true']);
  assert.equal(relative.code, 125);
  assert.match(relative.stderr, /mount path must be absolute/);
});

test('named volumes: filled from the image when new, kept across containers, listed, in use until their containers go, pruned', async () => {
  const ctx = join(work, 'ctx-seed');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nRUN mkdir /seed && echo seeded > /seed/file\n' });
  assert.equal((await cli(['build', '-q', '-t', 'seeded', ctx])).code, 0);
  const first = await cli(['run', '--name', 'vol-user', '-v', 'appdata:/seed', 'seeded', 'sh', '-c', 'cat /seed/file; echo kept > /seed/new']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'seeded\n');
  const second = await cli(['run', '--rm', '--mount', 'type=volume,source=appdata,target=/again', 'busybox', 'cat', '/again/new']);
  assert.equal(second.stdout, 'kept\n');
  assert.match((await cli(['volume', 'ls'])).stdout, /^DRIVER +VOLUME NAME\nlocal +appdata\n/);
  const [info] = JSON.parse((await cli(['volume', 'inspect', 'appdata'])).stdout);
  assert.equal(info.Name, 'appdata');
  assert.equal(await readFile(join(info.Mountpoint, 'new'), 'utf8'), 'kept\n');
  // docker inspect finds a volume too (--type volume, or by name when no image or container has it), in volume inspect's shape.
  const byType = JSON.parse((await cli(['inspect', '--type', 'volume', 'appdata'])).stdout);
  assert.deepEqual(byType, [info]);
  assert.deepEqual(Object.keys(info).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.deepEqual(JSON.parse((await cli(['inspect', 'appdata'])).stdout), [info]);
  assert.equal((await cli(['inspect', '--type', 'volume', '-f', '{{.Driver}} {{.Name}}', 'appdata'])).stdout, 'local appdata\n');
  const notVolume = await cli(['inspect', '--type', 'volume', 'vol-user']);
  assert.equal(notVolume.code, 1);
  assert.equal(notVolume.stderr.trim(), 'error[volume-not-found]: No such volume: vol-user');
  const mounts = JSON.parse((await cli(['inspect', 'vol-user'])).stdout)[0].Mounts;
  assert.deepEqual(mounts.map((m: { Type: string; Name: string; Destination: string }) => [m.Type, m.Name, m.Destination]), [['volume', 'appdata', '/seed']]);
  const inUse = await cli(['volume', 'rm', 'appdata']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /remove appdata: volume is in use - \[[0-9a-f]{64}\]/);
  assert.equal((await cli(['rm', 'vol-user'])).code, 0);
  assert.equal((await cli(['volume', 'create', 'spare'])).stdout, 'spare\n');
  const pruned = await cli(['volume', 'prune', '-f']);
  assert.match(pruned.stdout, /^Deleted Volumes:\n(appdata\nspare|spare\nappdata)\n\nTotal reclaimed space: /);
  assert.equal((await cli(['volume', 'ls', '-q'])).stdout, '');
  const gone = await cli(['volume', 'inspect', 'appdata']);
  assert.match(gone.stderr, /get appdata: no such volume/);
  const badName = await cli(['run', '--rm', '-v', 'bad$name:/x', 'busybox', 'true']);
  assert.equal(badName.code, 125);
  assert.match(badName.stderr, /includes invalid characters for a local volume name/);
});

test('--read-only denies writes to / but not to --tmpfs; --cap-drop and --cap-add change what root may do', async () => {
  const ro = await cli(['run', '--rm', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /scratch/ok && echo tmpfs-ok; touch /denied']);
  assert.match(ro.stdout, /tmpfs-ok/);
  assert.match(ro.stderr, /touch: \/denied: Read-only file system/);
  const dropped = await cli(['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'chown', '1', '/tmp']);
  assert.notEqual(dropped.code, 0);
  assert.match(dropped.stderr, /Operation not permitted/);
  // CAP_SYS_ADMIN is bit 21: 0xa80425fb | 1<<21 = 0xa82425fb
  const added = await cli(['run', '--rm', '--cap-add', 'sys_admin', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
  assert.match(added.stdout, /CapEff:\s+00000000a82425fb/);
  const bad = await cli(['run', '--rm', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /unknown capability: "NOT_A_CAP"/);
  const restart = await cli(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
  assert.equal(restart.code, 125);
  assert.match(restart.stderr, /restart policy "always" is not supported yet/);
  assert.equal((await cli(['run', '--rm', '--restart', 'no', 'busybox', 'true'])).code, 0);
});

test('-p publishes busybox httpd on the host\'s 127.0.0.1; ps and port show it; a port in use is one line; -P takes EXPOSEd ports', async () => {
  const port = await freePort();
  const started = await cli(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir /www; echo hello-from-httpd > /www/index.html; exec httpd -f -p 80 -h /www']);
  assert.equal(started.code, 0, started.stderr);
  try {
    const r = await eventually(() => httpGet(port), 'httpd answers');
    assert.deepEqual(r, { status: 200, body: 'hello-from-httpd\n' });
    assert.match((await cli(['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp +web`));
    assert.equal((await cli(['port', 'web'])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal((await cli(['port', 'web', '80'])).stdout, `127.0.0.1:${port}\n`);
    assert.match((await cli(['port', 'web', '443'])).stderr, /No public port '443\/tcp' published for web/);
    const clash = await cli(['run', '--rm', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.equal(clash.stderr.trim().split('\n').length, 1, clash.stderr);
    assert.match(clash.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
  } finally {
    await cli(['rm', '-f', 'web']);
  }
  const ctx = join(work, 'ctx-expose');
  await writeTree(ctx, { Dockerfile: 'FROM busybox\nEXPOSE 8000\nRUN mkdir /www && echo exposed > /www/index.html\nCMD ["httpd", "-f", "-p", "8000", "-h", "/www"]\n' });
  assert.equal((await cli(['build', '-q', '-t', 'exposing', ctx])).code, 0);
  assert.equal((await cli(['run', '-d', '--name', 'auto', '-P', 'exposing'])).code, 0);
  try {
    const lines = (await cli(['port', 'auto', '8000'])).stdout;
    const m = /^0\.0\.0\.0:(\d+)\n\[::\]:\1\n$/.exec(lines);
    assert.ok(m, lines);
    assert.equal((await eventually(() => httpGet(Number(m[1])), 'the -P port answers')).body, 'exposed\n');
    assert.equal((await eventually(() => httpGet(Number(m[1]), '::1'), 'the -P port answers on ::1')).body, 'exposed\n');
  } finally {
    await cli(['rm', '-f', 'auto']);
  }
  const badSpec = await cli(['run', '--rm', '-p', '80-90:80', 'busybox', 'true']);
  assert.equal(badSpec.code, 125);
  assert.match(badSpec.stderr, /invalid publish spec "80-90:80": port ranges are not supported yet/);
  const hostNet = await cli(['run', '--rm', '--network', 'none', '-p', '8080:80', 'busybox', 'true']);
  assert.match(hostNet.stderr, /published ports need the default network/);
});

// slirp4netns's add_hostfwd takes IPv4 host addresses only (api.c: inet_pton(AF_INET, host_addr)),
// so the helper's own proxy listens on IPv6 ones (runtime-helper/port-proxy.c), as Docker's
// docker-proxy does; with no address, -p publishes on 0.0.0.0 and [::] (docker ps: both).
test('-p reaches the container over IPv6: [::1]:HOST:CTR, [::]:HOST:CTR, and a bare HOST:CTR on ::1 as on 127.0.0.1', async () => {
  const site = 'mkdir /www; echo hello-over-v6 > /www/index.html; yes abcdefg | head -c 4194304 > /www/big; exec httpd -f -p 80 -h /www';
  const loop6 = await freePort('::1');
  const any6 = await freePort('::');
  const both = await freePort('0.0.0.0');
  const started = await cli(['run', '-d', '--name', 'web6', '-p', `[::1]:${loop6}:80`, '-p', `[::]:${any6}:80`, '-p', `${both}:80`, 'busybox', 'sh', '-c', site]);
  assert.equal(started.code, 0, started.stderr);
  try {
    assert.deepEqual(await eventually(() => httpGet(loop6, '::1'), 'httpd answers on [::1]'), { status: 200, body: 'hello-over-v6\n' });
    assert.equal((await httpGet(any6, '::1')).body, 'hello-over-v6\n');
    assert.equal((await httpGet(both, '::1')).body, 'hello-over-v6\n');
    assert.equal((await eventually(() => httpGet(both, '127.0.0.1'), 'and on 127.0.0.1')).body, 'hello-over-v6\n');
    // An address given is the only one bound: [::1] and [::] are not on 127.0.0.1.
    await assert.rejects(httpGet(loop6, '127.0.0.1'), /ECONNREFUSED/);
    await assert.rejects(httpGet(any6, '127.0.0.1'), /ECONNREFUSED/);
    assert.equal(
      (await cli(['port', 'web6', '80'])).stdout,
      `[::1]:${loop6}\n[::]:${any6}\n0.0.0.0:${both}\n[::]:${both}\n`,
    );
    assert.match((await cli(['ps'])).stdout, new RegExp(`\\[::1\\]:${loop6}->80/tcp, \\[::\\]:${any6}->80/tcp, 0\\.0\\.0\\.0:${both}->80/tcp, \\[::\\]:${both}->80/tcp +web6`));
    // A body bigger than the proxy's buffers and the sockets' comes through whole.
    const big = await httpGet(loop6, '::1', '/big');
    assert.equal(big.body.length, 4194304);
    assert.equal(big.body, 'abcdefg\n'.repeat(524288));
    const clash = await cli(['run', '--rm', '-p', `[::1]:${loop6}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.equal(clash.stderr.trim().split('\n').length, 1, clash.stderr);
    assert.match(clash.stderr, new RegExp(`Bind for \\[::1\\]:${loop6} failed: port is already allocated`));
  } finally {
    await cli(['rm', '-f', 'web6']);
  }
  for (const [spec, why] of [
    ['::1:8080:80', 'too many colons'],
    ['[::1]:8080', 'want \\[IP\\]:HOST_PORT:CONTAINER_PORT'],
    ['[nope]:8080:80', 'invalid IP address: nope'],
    ['[::1]:5353:53/udp', 'UDP on an IPv6 host address is not supported yet'],
  ]) {
    const bad = await cli(['run', '--rm', '-p', spec, 'busybox', 'true']);
    assert.equal(bad.code, 125, spec);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`invalid publish spec "${spec.replace(/[[\]]/g, '\\$&')}": ${why}`));
  }
});
