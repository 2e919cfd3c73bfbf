import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { FLAG_TABLE } from '../../parser/index.js';
import { busyboxWork } from '../helpers/busybox.js';
import { writeTree, type Tree } from '../helpers/files.js';
import { readLayoutImage, saveAndUnpack } from '../helpers/unpack.js';

// Walks the parser's flag table (parser/instructions/flag-table.ts, BuildKit's
// instructions/parse.go): every flag an instruction accepts has a row here that builds with
// it and shows what it changes, or shows its "not supported yet" error at file:line:col.
// A flag added to the table without a row fails the first test.
let root: string;
let work: string;

before(async () => {
  ({ work, root } = await busyboxWork());
});

interface Built {
  code: number;
  stderr: string;
  rootfs: string;
  config: Record<string, unknown>;
}

let n = 0;
async function build(dockerfile: string, files: Tree = {}, args: string[] = []): Promise<Built> {
  const name = `flags-${n++}`;
  const ctx = join(work, `ctx-${name}`);
  await writeTree(ctx, { Dockerfile: dockerfile, ...files });
  const r = await runCli(['build', '--progress', 'plain', ...args, '-t', name, ctx], { root });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, rootfs: '', config: {} };
  const saved = await saveAndUnpack(root, name, join(work, `unpack-${name}`));
  const image = await readLayoutImage(saved.layout);
  return { code: 0, stderr: r.stderr, rootfs: join(saved.bundle, 'rootfs'), config: image.config.config as Record<string, unknown> };
}

async function ok(dockerfile: string, files: Tree = {}, args: string[] = []): Promise<Built> {
  const b = await build(dockerfile, files, args);
  assert.equal(b.code, 0, b.stderr);
  return b;
}

/** The build fails with `code` at Dockerfile:line:col (the rendered error names the place). */
async function fails(dockerfile: string, code: string, line: number, files: Tree = {}): Promise<string> {
  const b = await build(dockerfile, files);
  assert.equal(b.code, 1, b.stderr);
  assert.match(b.stderr, new RegExp(`Dockerfile:${line}:[0-9]+: error\\[${code}\\]`), b.stderr);
  return b.stderr;
}

const read = (b: Built, p: string) => readFile(join(b.rootfs, p), 'utf8');

/** A small tar with one file, made by GNU tar. */
function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['-c', '-C', dir, '.']);
}

type Row = { behaviour: string; run: () => Promise<void> };

const rows: Record<string, Record<string, Row>> = {
  FROM: {
    platform: {
      behaviour: 'another platform needs a base for it (a plain image of another CPU is refused at its line), a non-platform is an error; the build\'s own (or $BUILDPLATFORM) is accepted',
      run: async () => {
        const stderr = await fails('FROM busybox\nFROM --platform=linux/arm64 busybox\nRUN true\n', 'base-platform-mismatch', 2);
        assert.match(stderr, /busybox:latest: the store's image is linux\/amd64, not linux\/arm64/);
        await fails('FROM --platform=linux busybox\n', 'invalid-platform', 1);
        await ok('FROM --platform=$BUILDPLATFORM busybox\nRUN true\n');
        await ok('ARG TARGETPLATFORM\nFROM --platform=${TARGETPLATFORM} busybox AS a\nFROM --platform=linux/amd64 a\n');
      },
    },
  },
  RUN: {
    mount: {
      behaviour: 'a bind mount shows the context at the target',
      run: async () => {
        const b = await ok('FROM busybox\nRUN --mount=type=bind,source=a,target=/m cat /m > /out\n', { a: 'bound\n' });
        assert.equal(await read(b, 'out'), 'bound\n');
        await assert.rejects(lstat(join(b.rootfs, 'm/a')));
      },
    },
    network: {
      behaviour: '--network=none leaves only the loopback interface; host needs its entitlement',
      run: async () => {
        const b = await ok("FROM busybox\nRUN --network=none sh -c \"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /out\"\n");
        assert.equal(await read(b, 'out'), 'lo\n');
        await fails('FROM busybox\nRUN --network=host true\n', 'entitlement-needed', 2);
      },
    },
    security: {
      behaviour: '--security=insecure (with --allow security.insecure) keeps every capability; sandbox is the default',
      run: async () => {
        const caps = (flag: string) => `FROM busybox\nRUN ${flag} sh -c "grep CapEff /proc/self/status | tr -d '\\t' > /out"\n`;
        const insecure = await ok(caps('--security=insecure'), {}, ['--allow', 'security.insecure']);
        const sandbox = await ok(caps('--security=sandbox'));
        const plain = await ok(caps(''));
        const mask = async (b: Built) => BigInt('0x' + (await read(b, 'out')).trim().slice('CapEff:'.length));
        const SYS_ADMIN = 1n << 21n;
        assert.equal(await mask(insecure) & SYS_ADMIN, SYS_ADMIN, 'insecure keeps CAP_SYS_ADMIN');
        assert.equal(await mask(sandbox) & SYS_ADMIN, 0n, 'the sandbox drops it');
        assert.equal(await mask(sandbox), await mask(plain));
        await fails(caps('--security=insecure'), 'entitlement-needed', 2);
      },
    },
  },
  COPY: {
    from: {
      behaviour: 'copies from an earlier stage',
      run: async () => {
        const b = await ok('FROM busybox AS s\nRUN echo staged > /s\nFROM scratch\nCOPY --from=s /s /got\n');
        assert.equal(await read(b, 'got'), 'staged\n');
      },
    },
    chown: {
      behaviour: 'owns the copied file',
      run: async () => {
        const b = await ok('FROM scratch\nCOPY --chown=12:34 a /a\n', { a: 'a' });
        const st = await lstat(join(b.rootfs, 'a'));
        assert.deepEqual([st.uid, st.gid], [12, 34]);
      },
    },
    chmod: {
      behaviour: 'sets the copied file\'s mode',
      run: async () => {
        const b = await ok('FROM scratch\nCOPY --chmod=741 a /a\n', { a: 'a' });
        assert.equal((await lstat(join(b.rootfs, 'a'))).mode & 0o7777, 0o741);
      },
    },
    link: {
      behaviour: 'does not follow a symlink of the image in the destination (reference.md "Incompatibilities with --link=false")',
      run: async () => {
        const df = (flag: string) => `FROM busybox\nRUN mkdir /real && ln -s real /lnk\nCOPY ${flag} a /lnk/\n`;
        const plain = await ok(df(''), { a: 'a' });
        assert.ok((await lstat(join(plain.rootfs, 'lnk'))).isSymbolicLink());
        assert.deepEqual(await readdir(join(plain.rootfs, 'real')), ['a']);
        const linked = await ok(df('--link'), { a: 'a' });
        assert.ok((await lstat(join(linked.rootfs, 'lnk'))).isDirectory(), 'the destination is a path of directories only');
        assert.deepEqual(await readdir(join(linked.rootfs, 'real')), []);
      },
    },
    parents: {
      behaviour: 'keeps the source\'s parent directories',
      run: async () => {
        const b = await ok('FROM scratch\nCOPY --parents x/y/f /d/\n', { 'x/y/f': 'f' });
        assert.equal(await read(b, 'd/x/y/f'), 'f');
      },
    },
    exclude: {
      behaviour: 'leaves out what matches',
      run: async () => {
        const b = await ok('FROM scratch\nCOPY --exclude=*.md dir /d/\n', { 'dir/keep.txt': 'k', 'dir/skip.md': 's' });
        assert.deepEqual(await readdir(join(b.rootfs, 'd')), ['keep.txt']);
      },
    },
  },
  ADD: {
    chown: {
      behaviour: 'owns the added file',
      run: async () => {
        const b = await ok('FROM scratch\nADD --chown=5 a /a\n', { a: 'a' });
        const st = await lstat(join(b.rootfs, 'a'));
        assert.deepEqual([st.uid, st.gid], [5, 5]);
      },
    },
    chmod: {
      behaviour: 'sets the added file\'s mode',
      run: async () => {
        const b = await ok('FROM scratch\nADD --chmod=700 a /a\n', { a: 'a' });
        assert.equal((await lstat(join(b.rootfs, 'a'))).mode & 0o7777, 0o700);
      },
    },
    link: {
      behaviour: 'does not follow a symlink of the image in the destination',
      run: async () => {
        const b = await ok('FROM busybox\nRUN mkdir /real && ln -s real /lnk\nADD --link a /lnk/\n', { a: 'a' });
        assert.ok((await lstat(join(b.rootfs, 'lnk'))).isDirectory());
        assert.deepEqual(await readdir(join(b.rootfs, 'real')), []);
      },
    },
    'keep-git-dir': {
      behaviour: 'on a local source is an error, never ignored (test/e2e/add-remote.test.ts keeps .git)',
      run: async () => {
        const stderr = await fails('FROM scratch\nADD --keep-git-dir a /a\n', 'keep-git-dir-needs-git', 2, { a: 'a' });
        assert.match(stderr, /applies to Git sources only/);
      },
    },
    checksum: {
      behaviour: 'on a local source is BuildKit\'s error (dockerfile2llb/convert_copy.go), never unchecked',
      run: async () => {
        const sha = 'sha256:' + '0'.repeat(64);
        const stderr = await fails(`FROM scratch\nADD --checksum=${sha} a /a\n`, 'checksum-needs-remote', 2, { a: 'a' });
        assert.match(stderr, /checksum requires HTTP\(S\) or Git sources/);
      },
    },
    exclude: {
      behaviour: 'leaves out what matches',
      run: async () => {
        const b = await ok('FROM scratch\nADD --exclude=skip dir /d/\n', { 'dir/keep': 'k', 'dir/skip': 's' });
        assert.deepEqual(await readdir(join(b.rootfs, 'd')), ['keep']);
      },
    },
    unpack: {
      behaviour: '--unpack=false copies a tar as a file instead of extracting it',
      run: async () => {
        const inner = join(work, 'tar-src');
        await writeTree(inner, { 'in-tar': 'x' });
        const files = { 'a.tar': tarOf(inner) };
        const kept = await ok('FROM scratch\nADD --unpack=false a.tar /x/\n', files);
        assert.deepEqual(await readdir(join(kept.rootfs, 'x')), ['a.tar']);
        const extracted = await ok('FROM scratch\nADD --unpack=true a.tar /x/\n', files);
        assert.deepEqual(await readdir(join(extracted.rootfs, 'x')), ['in-tar']);
      },
    },
  },
  HEALTHCHECK: Object.fromEntries(
    (
      [
        ['interval', 'Interval', '7s', 7e9],
        ['timeout', 'Timeout', '3s', 3e9],
        ['start-period', 'StartPeriod', '9s', 9e9],
        ['start-interval', 'StartInterval', '2s', 2e9],
        ['retries', 'Retries', '4', 4],
      ] as const
    ).map(([flag, field, value, want]) => [
      flag,
      {
        behaviour: `sets Healthcheck.${field}`,
        run: async () => {
          const b = await ok(`FROM scratch\nHEALTHCHECK --${flag}=${value} CMD ["/x"]\n`);
          assert.equal((b.config.Healthcheck as Record<string, unknown>)[field], want);
        },
      },
    ]),
  ),
};

test('every flag in the parser\'s flag table has a row here, and no row names a flag it lacks', () => {
  const table = Object.fromEntries(Object.entries(FLAG_TABLE).map(([kw, flags]) => [kw, Object.keys(flags).sort()]));
  const covered = Object.fromEntries(Object.keys(FLAG_TABLE).map((kw) => [kw, Object.keys(rows[kw] ?? {}).sort()]));
  assert.deepEqual(covered, table);
});

test('an instruction refuses a flag that is not in its row (ARG and STOPSIGNAL included, which BuildKit ignores)', async () => {
  for (const [line, flag] of [['ARG --required X', 'required'], ['STOPSIGNAL --now SIGTERM', 'now'], ['ADD --from=x a /a', 'from']]) {
    const stderr = await fails(`FROM scratch\n${line}\n`, 'unknown-flag', 2, { a: 'a' });
    assert.match(stderr, new RegExp(`does not accept --${flag}`));
  }
});

for (const [kw, flags] of Object.entries(rows)) {
  for (const [flag, row] of Object.entries(flags)) {
    test(`${kw} --${flag} ${row.behaviour}`, row.run);
  }
}
