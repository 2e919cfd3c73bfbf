import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeSandbox, runIn, sh } from './busybox-rootfs.js';

let box: { dir: string; lower: string };
before(() => {
  box = makeSandbox();
});
after(() => rmSync(box.dir, { recursive: true, force: true }));

/** Every path with its type, mode, owner, size and content hash: what "unchanged" means. */
function checksum(dir: string): string {
  return execFileSync('sh', ['-c', 'find . -printf "%p %y %m %U:%G %s %l\\n" | sort; find . -type f -print0 | sort -z | xargs -0 sha256sum'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
}

test('150 lower dirs stack in order (top-most first wins)', async () => {
  const lowers: string[] = [];
  for (let i = 0; i < 150; i++) {
    const d = join(box.dir, `layer-with-a-long-name-like-a-store-digest-${String(i).padStart(3, '0')}-0123456789abcdef`);
    mkdirSync(join(d, 'layers'), { recursive: true });
    writeFileSync(join(d, 'layers', `f${i}`), `${i}\n`);
    writeFileSync(join(d, 'layers', 'top'), `${i}\n`);
    lowers.push(d);
  }
  // Top-most first: layer 149 is on top, the busybox rootfs at the bottom.
  const r = await runIn(box.dir, [...lowers].reverse().concat(box.lower), ['sh', '-c', 'ls /layers | wc -l; cat /layers/top']);
  assert.deepEqual(r.result, { kind: 'exited', code: 0 });
  assert.equal(r.stdout, '151\n149\n');
});

test('a hostile command cannot modify the lower dirs', async () => {
  const before = checksum(box.lower);
  const r = await sh(
    box.dir,
    box.lower,
    [
      'rm -rf /bin/ls /etc/passwd',
      'echo owned > /bin/busybox-copy; chmod 4755 /bin/busybox-copy',
      'echo x >> /etc/group; chown 1:1 /etc/group; touch -d 2000-01-01 /bin',
      'mount -o remount,rw / 2>/dev/null',
      'for m in $(cut -d" " -f2 /proc/mounts); do mount -o remount,rw $m 2>/dev/null; done',
      'ls /proc/1/root/../.. >/dev/null',
      'mknod /tmp/sda b 8 0 && echo made-node',
      'exit 0',
    ].join('; '),
  );
  assert.deepEqual(r.result, { kind: 'exited', code: 0 });
  assert.equal(checksum(box.lower), before);
});

test('deletions inside the container become overlay whiteouts in the upper dir', async () => {
  const r = await sh(box.dir, box.lower, 'rm /etc/group');
  assert.equal(r.result.kind, 'exited');
  const wh = execFileSync('stat', ['-c', '%F %t:%T', join(r.upperDir, 'etc', 'group')], { encoding: 'utf8' });
  assert.equal(wh.trim(), 'character special file 0:0');
});

test('mount targets never land in the upper dir (no /proc, /dev, /sys, /etc/hosts stubs)', async () => {
  const bare = join(box.dir, 'bare');
  mkdirSync(join(bare, 'bin'), { recursive: true });
  execFileSync('cp', [join(box.lower, 'bin', 'busybox'), join(bare, 'bin', 'sh')]);
  const r = await runIn(box.dir, [bare], ['/bin/sh', '-c', 'cat /etc/hosts > /dev/null && test -d /proc/1 && test -c /dev/null && touch /new']);
  assert.deepEqual(r.result, { kind: 'exited', code: 0 });
  assert.deepEqual(readdirSync(r.upperDir), ['new']);
});

test('the etc files are copies: writing them leaves the host\'s untouched', async () => {
  const host = readFileSync('/etc/resolv.conf', 'utf8');
  const r = await sh(box.dir, box.lower, 'echo nameserver 10.9.9.9 > /etc/resolv.conf; cat /etc/hosts');
  assert.equal(r.result.kind, 'exited');
  assert.match(r.stdout, /127\.0\.0\.1\tlocalhost/);
  assert.equal(readFileSync('/etc/resolv.conf', 'utf8'), host);
});

test('a read-only overlay (no upper dir) runs commands but refuses writes', async () => {
  const r = await runIn(box.dir, [box.lower], ['sh', '-c', 'cat /etc/passwd >/dev/null; touch /x; echo rc=$?'], {
    rootfs: { kind: 'overlay', lowerDirs: [box.lower] },
  });
  assert.equal(r.result.kind, 'exited');
  assert.match(r.stdout, /rc=1/);
  assert.match(r.stderr, /Read-only file system/);
});

test('a plain directory can be the rootfs; writes land in it', async () => {
  const plain = join(box.dir, 'plain');
  execFileSync('cp', ['-a', box.lower, plain]);
  const r = await runIn(box.dir, [], ['sh', '-c', 'echo hi > /root/note; echo $$'], { rootfs: { kind: 'dir', path: plain } });
  assert.deepEqual(r.result, { kind: 'exited', code: 0 });
  assert.equal(r.stdout, '1\n');
  assert.equal(readFileSync(join(plain, 'root', 'note'), 'utf8'), 'hi\n');
});

test('bind mounts: read-write and read-only, targets created in the stub', async () => {
  const rw = join(box.dir, 'bind-rw');
  const ro = join(box.dir, 'bind-ro');
  mkdirSync(rw);
  mkdirSync(ro);
  writeFileSync(join(ro, 'in'), 'data\n');
  const r = await runIn(box.dir, [box.lower], ['sh', '-c', 'cat /mnt/ro/in; echo out > /cache/out; touch /mnt/ro/x; echo rc=$?'], {
    binds: [
      { source: rw, target: '/cache', readonly: false },
      { source: ro, target: '/mnt/ro', readonly: true },
    ],
  });
  assert.equal(r.stdout, 'data\nrc=1\n');
  assert.equal(readFileSync(join(rw, 'out'), 'utf8'), 'out\n');
  assert.ok(!existsSync(join(ro, 'x')));
  assert.deepEqual(readdirSync(r.upperDir), []);
});
