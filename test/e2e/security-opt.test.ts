/**
 * `run --security-opt`, Docker's values: moby daemon/daemon_unix.go parseSecurityOpt
 * (no-new-privileges[=BOOL] read with strconv.ParseBool, "invalid --security-opt 2"),
 * docker/cli cli/command/container/opts.go parseSystemPaths (systempaths=unconfined empties
 * MaskedPaths and ReadonlyPaths, "is the only option") and moby daemon/oci_linux.go
 * (WithNoNewPrivileges, the masked and read-only paths). Neither file is mirrored here; the
 * fields are in the buildx mirror's vendor/github.com/moby/moby/api/types/container/hostconfig.go.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runCli, type CliResult } from '../../cli/tsbuild.js';
import { busyboxWork } from '../helpers/busybox.js';

let work: string;
let root: string;

before(async () => {
  ({ work, root } = await busyboxWork('tsbuild-secopt-'));
});

function run(args: string[]): Promise<CliResult> {
  return runCli(['run', '--rm', ...args], { root, cwd: work });
}

const status = (field: string) => `grep "^${field}:" /proc/self/status | tr -d "\\t"`;

test('no_new_privs is on by default and off with no-new-privileges=false, while the seccomp filter stays', async () => {
  const shown = `${status('NoNewPrivs')}; ${status('Seccomp')}`;
  const dflt = await run(['busybox', 'sh', '-c', shown]);
  assert.equal(dflt.stdout, 'NoNewPrivs:1\nSeccomp:2\n', dflt.stderr);
  const bare = await run(['--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', shown]);
  assert.equal(bare.stdout, 'NoNewPrivs:1\nSeccomp:2\n', bare.stderr);
  // Without no_new_privs the filter is installed before the capabilities are dropped: a
  // non-root user gets it too.
  for (const user of ['0', '65534']) {
    const off = await run(['--security-opt', 'no-new-privileges=false', '-u', user, 'busybox', 'sh', '-c', shown]);
    assert.equal(off.stdout, 'NoNewPrivs:0\nSeccomp:2\n', `-u ${user}: ${off.stderr}`);
  }
  const old = await run(['--security-opt', 'no-new-privileges:false', 'busybox', 'sh', '-c', status('NoNewPrivs')]);
  assert.equal(old.stdout, 'NoNewPrivs:0\n', 'the old colon form');
  const bad = await run(['--security-opt', 'no-new-privileges=maybe', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid --security-opt 2: "no-new-privileges=maybe"/);
});

test('systempaths=unconfined leaves /proc without masked or read-only paths', async () => {
  // mountinfo's field 5 is the mount point: the masks are mounts below /proc.
  const below = "awk '$5 ~ /^\\/proc\\// { print $5 }' /proc/self/mountinfo";
  const dflt = await run(['busybox', 'sh', '-c', below]);
  for (const p of ['/proc/keys', '/proc/timer_list', '/proc/sys']) assert.ok(dflt.stdout.split('\n').includes(p), `masked by default: ${p}\n${dflt.stdout}`);
  const open = await run(['--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', `${below}; grep -q . /proc/timer_list && echo timer_list-readable`]);
  assert.equal(open.stdout, 'timer_list-readable\n', open.stderr);
  const bad = await run(['--security-opt', 'systempaths=confined', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /--security-opt systempaths=unconfined is the only option/);
});

test('seccomp=unconfined and apparmor=unconfined are honoured; a profile file, labels and other AppArmor profiles are one clear error', async () => {
  const un = await run(['--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', 'busybox', 'sh', '-c', status('Seccomp')]);
  assert.equal(un.stdout, 'Seccomp:0\n', un.stderr);
  writeFileSync(join(work, 'profile.json'), '{"defaultAction":"SCMP_ACT_ALLOW"}\n');
  for (const [opt, want] of [
    ['seccomp=profile.json', /^error\[security-opt\]: --security-opt seccomp=profile.json is not supported yet: tsbuild applies Docker's default profile, or none with seccomp=unconfined$/m],
    ['label=disable', /--security-opt label=disable is not supported yet/],
    ['apparmor=docker-default', /--security-opt apparmor=docker-default is not supported yet/],
  ] as const) {
    const r = await run(['--security-opt', opt, 'busybox', 'true']);
    assert.equal(r.code, 125, opt);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
