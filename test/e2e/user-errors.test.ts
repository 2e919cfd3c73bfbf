import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/index.js';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli } from '../../cli/tsbuild.js';
import { writeTree } from '../helpers/files.js';
import { tempDir } from '../helpers/temp.js';

// User mistakes through the CLI: each gives its exit code, a one-line cause naming the
// file:line:col or the object, and never a stack trace.
let work: string;
let root: string;
let ctx: string;

before(async () => {
  work = await tempDir();
  root = join(work, 'root');
  ctx = join(work, 'ctx');
  await writeTree(ctx, { Dockerfile: 'FROM scratch\nCOPY a /a\n', a: 'a\n' });
  await mkdir(join(work, 'empty-ctx'));
  // Small images for the run rows: one with a command, one without.
  const hello = join(work, 'hello-ctx');
  await writeTree(hello, { Dockerfile: 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n' });
  await copyFile(join(projectRoot, 'fixtures', 'scratch-hello', 'hello'), join(hello, 'hello'));
  assert.equal((await runCli(['build', '-q', '-t', 'tiny', hello], { root })).code, 0);
  await writeFile(join(hello, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\n');
  assert.equal((await runCli(['build', '-q', '-t', 'tiny-nocmd', hello], { root })).code, 0);
  assert.equal((await runCli(['tag', 'tiny', '127.0.0.1:1/tiny:1'], { root })).code, 0);
});

async function withDockerfile(name: string, text: string): Promise<string> {
  const dir = join(work, `df-${name}`);
  await writeTree(dir, { Dockerfile: text, a: 'a\n' });
  return dir;
}

const cases: { name: string; args: () => Promise<string[]>; code: number; cause: RegExp }[] = [
  { name: 'unknown flag', args: async () => ['build', '--frobnicate', ctx], code: 2, cause: /unknown flag: --frobnicate/ },
  { name: 'build without a context', args: async () => ['build', '-t', 'x'], code: 2, cause: /requires exactly 1 argument/ },
  { name: 'missing context folder', args: async () => ['build', join(work, 'nope')], code: 1, cause: /path ".*nope" not found/ },
  { name: 'missing Dockerfile', args: async () => ['build', join(work, 'empty-ctx')], code: 1, cause: /failed to read dockerfile: open .*Dockerfile: no such file or directory/ },
  { name: 'missing -f file', args: async () => ['build', '-f', join(work, 'Nope.Dockerfile'), ctx], code: 1, cause: /failed to read dockerfile/ },
  { name: 'unknown instruction', args: async () => ['build', await withDockerfile('unknown', 'FROM scratch\nRUNN echo\n')], code: 1, cause: /Dockerfile:2:1: error\[unknown-instruction\]/ },
  { name: 'empty Dockerfile', args: async () => ['build', await withDockerfile('empty', '')], code: 1, cause: /file with no instructions/ },
  { name: 'instruction before FROM', args: async () => ['build', await withDockerfile('nofrom', 'COPY a /a\n')], code: 1, cause: /Dockerfile:1:1: .*FROM/ },
  { name: 'missing COPY source', args: async () => ['build', await withDockerfile('nosrc', 'FROM scratch\nCOPY missing.txt /x\n')], code: 1, cause: /Dockerfile:2:\d+: .*missing\.txt.*not found/ },
  { name: 'COPY with one argument', args: async () => ['build', await withDockerfile('onearg', 'FROM scratch\nCOPY a\n')], code: 1, cause: /Dockerfile:2:1: .*COPY/ },
  { name: 'unknown stage in --from', args: async () => ['build', await withDockerfile('nostage', 'FROM scratch\nCOPY --from=builder-typo /x /x\n')], code: 1, cause: /builder-typo/ },
  // BuildKit's port parser (dockerfile2llb/convert_expose.go parsePort) and its messages.
  { name: 'EXPOSE of a word', args: async () => ['build', await withDockerfile('expose', 'FROM scratch\nEXPOSE abc\n')], code: 1, cause: /Dockerfile:2:1: error\[bad-port\]: invalid containerPort: abc/ },
  { name: 'EXPOSE with a bad protocol', args: async () => ['build', await withDockerfile('expose-proto', 'FROM scratch\nEXPOSE 80/tcpx\n')], code: 1, cause: /invalid port: "80\/tcpx": invalid proto: tcpx/ },
  { name: 'COPY --from a near-miss of a stage, without trying a registry', args: async () => ['build', await withDockerfile('near-stage', 'FROM scratch AS builder\nCOPY a /a\nFROM scratch\nCOPY --from=buidler /a /a\n')], code: 1, cause: /Dockerfile:4:1: error\[stage-near-miss\][^]*did you mean the stage builder\?/ },
  { name: 'FROM a near-miss of a stage', args: async () => ['build', await withDockerfile('near-from', 'FROM scratch AS base\nCOPY a /a\nFROM bsae\n')], code: 1, cause: /error\[stage-near-miss\][^]*did you mean the stage base\?/ },
  { name: 'an unknown command', args: async () => ['attach', 'web1'], code: 2, cause: /error\[unknown-command\]: unknown command "attach"[^]*commands: build, commit, container, cp, diff, exec, fsck/ },
  { name: 'a mistyped command', args: async () => ['imagse'], code: 2, cause: /unknown command "imagse"[^]*did you mean images\?/ },
  { name: 'stop of an unknown container', args: async () => ['stop', 'web1'], code: 1, cause: /^error\[no-such-container\]: No such container: web1/ },
  { name: 'logs of an unknown container', args: async () => ['logs', 'web1'], code: 1, cause: /No such container: web1/ },
  { name: 'exec of an unknown container', args: async () => ['exec', 'web1', 'ls'], code: 1, cause: /No such container: web1/ },
  { name: 'kill with an unknown signal', args: async () => ['kill', '-s', 'SIGNOPE', 'web1'], code: 1, cause: /Invalid signal: SIGNOPE/ },
  { name: 'cp between two hosts paths', args: async () => ['cp', 'a', 'b'], code: 2, cause: /must specify at least one container source/ },
  { name: 'unknown --target', args: async () => ['build', '--target', 'nope', ctx], code: 1, cause: /target stage "nope" could not be found/ },
  { name: 'bad --build-arg', args: async () => ['build', '--build-arg', '=x', ctx], code: 2, cause: /--build-arg/ },
  { name: 'unknown image in FROM', args: async () => ['build', await withDockerfile('noimage', 'FROM localhost:1/definitely/not-here:1\n')], code: 1, cause: /not-here/ },
  { name: 'bad image name', args: async () => ['build', '-t', 'Bad Name', ctx], code: 1, cause: /invalid reference format/ },
  { name: 'ENV without value', args: async () => ['build', await withDockerfile('envnoval', 'FROM scratch\nENV PATH\n')], code: 1, cause: /Dockerfile:2:\d+: .*ENV/ },
  { name: 'bad --chmod', args: async () => ['build', await withDockerfile('chmod', 'FROM scratch\nCOPY --chmod=999 a /a\n')], code: 1, cause: /Dockerfile:2:\d+: .*chmod/ },
  { name: 'unterminated heredoc', args: async () => ['build', await withDockerfile('heredoc', 'FROM scratch\nCOPY <<EOF /x\nhello\n')], code: 1, cause: /unterminated heredoc/ },
  { name: 'inspect of an unknown image', args: async () => ['inspect', 'no-such-image'], code: 1, cause: /no-such-image/ },
  { name: 'rmi of an unknown image', args: async () => ['rmi', 'no-such-image'], code: 1, cause: /no-such-image/ },
  { name: 'tag of an unknown image', args: async () => ['tag', 'no-such-image', 'x'], code: 1, cause: /no-such-image/ },
  { name: 'save of an unknown image', args: async () => ['save', '-o', join(work, 'x.tar'), 'no-such-image'], code: 1, cause: /no-such-image/ },
  { name: 'load of a missing file', args: async () => ['load', '-i', join(work, 'missing.tar')], code: 1, cause: /missing\.tar/ },
  { name: 'load of a file that is not an archive', args: async () => ['load', '-i', join(ctx, 'a')], code: 1, cause: /archive|tar/i },
  { name: 'import of a missing file', args: async () => ['import', join(work, 'missing.tar'), 'x'], code: 1, cause: /missing\.tar/ },
  { name: 'run of an unknown image', args: async () => ['run', '--rm', 'localhost:1/no-such-image'], code: 125, cause: /no-such-image/ },
  { name: 'unknown command flag on images', args: async () => ['images', '--bogus'], code: 2, cause: /unknown flag: --bogus/ },
  { name: 'invalid --progress', args: async () => ['build', '--progress', 'fancy', ctx], code: 2, cause: /--progress/ },
  { name: 'run -t without a terminal', args: async () => ['run', '-t', '--rm', 'tiny'], code: 1, cause: /the input device is not a TTY/ },
  { name: 'run of an image without a command', args: async () => ['run', '--rm', 'tiny-nocmd'], code: 125, cause: /[Nn]o command specified/ },
  { name: 'run as an unknown user', args: async () => ['run', '--rm', '-u', 'nosuchuser', 'tiny'], code: 125, cause: /nosuchuser/ },
  { name: 'run with a bad --network', args: async () => ['run', '--network', 'bogus', 'tiny'], code: 2, cause: /--network/ },
  { name: 'rm of an unknown container', args: async () => ['rm', 'no-such-container'], code: 1, cause: /no-such-container/ },
  { name: 'commit of an unknown container', args: async () => ['commit', 'no-such-container'], code: 1, cause: /no-such-container/ },
  { name: 'pull from an unreachable registry', args: async () => ['pull', '127.0.0.1:1/some/image:1'], code: 1, cause: /127\.0\.0\.1:1/ },
  { name: 'push to an unreachable registry', args: async () => ['push', '127.0.0.1:1/tiny:1'], code: 1, cause: /127\.0\.0\.1:1/ },
  { name: 'tag to an invalid name', args: async () => ['tag', 'tiny', 'UPPER/Case'], code: 1, cause: /invalid reference format/ },
  { name: 'bad HEALTHCHECK duration', args: async () => ['build', await withDockerfile('health', 'FROM scratch\nHEALTHCHECK --interval=soon CMD true\n')], code: 1, cause: /Dockerfile:2:\d+: .*interval/ },
  { name: 'a build with a bad --network', args: async () => ['build', '--network', 'bogus', ctx], code: 2, cause: /--network/ },
  { name: '--push without a name', args: async () => ['build', '--push', ctx], code: 2, cause: /--push needs a name/ },
  { name: 'parse of a missing file', args: async () => ['parse', '-f', join(work, 'nope')], code: 1, cause: /failed to read dockerfile/ },
];

for (const c of cases) {
  test(`user error: ${c.name}`, async () => {
    const r = await runCli(await c.args(), { root });
    assert.equal(r.code, c.code, `exit code; stderr:\n${r.stderr}`);
    assert.match(r.stderr, c.cause);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*\.js:\d+:\d+\)/, 'no stack trace');
    assert.doesNotMatch(r.stderr, /this is a bug/);
  });
}

const exec = promisify(execFile);

test('user error: no permission on the root (a read-only bind mount)', async () => {
  const ro = join(work, 'ro-root');
  await mkdir(ro);
  await exec('mount', ['--bind', '-o', 'ro', root, ro]).catch(async () => {
    await exec('mount', ['--bind', root, ro]);
  });
  await exec('mount', ['-o', 'remount,bind,ro', ro]);
  try {
    const r = await runCli(['build', '-t', 'x', ctx], { root: ro });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /EROFS|read-only/);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/);
    assert.doesNotMatch(r.stderr, /this is a bug/);
    const listed = await runCli(['images'], { root: ro });
    assert.equal(listed.code, 0, listed.stderr);
  } finally {
    await exec('umount', [ro]);
  }
});

test('user error: disk full (a tiny tmpfs root) is one message, and the store stays consistent', async () => {
  const tiny = join(work, 'tiny-root');
  await mkdir(tiny);
  await exec('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tiny]);
  try {
    const big = join(work, 'big-ctx');
    await writeTree(big, { Dockerfile: 'FROM scratch\nCOPY big /big\n', big: Buffer.alloc(3 << 20, 1) });
    const r = await runCli(['build', '-t', 'x', big], { root: tiny });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ENOSPC|no space left/i);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/);
    assert.doesNotMatch(r.stderr, /this is a bug/);
    const fsck = await runCli(['fsck'], { root: tiny });
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
  } finally {
    await exec('umount', [tiny]);
  }
});
