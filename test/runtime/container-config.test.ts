import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerArgv, containerEnv, expandEnvFlags, homeOf, parseEnvFile, DEFAULT_PATH } from '../../executor/container-config.js';
import { commandText } from '../../cli/commands/ps.js';
import { humanDuration } from '../../cli/format.js';

const argvCases = [
  { name: 'CMD only', config: { Cmd: ['sh'] }, flags: { args: [] }, want: ['sh'] },
  { name: 'args replace CMD', config: { Cmd: ['sh'] }, flags: { args: ['ls', '-l'] }, want: ['ls', '-l'] },
  { name: 'ENTRYPOINT + CMD', config: { Entrypoint: ['/ep'], Cmd: ['a'] }, flags: { args: [] }, want: ['/ep', 'a'] },
  { name: 'ENTRYPOINT + args', config: { Entrypoint: ['/ep'], Cmd: ['a'] }, flags: { args: ['b'] }, want: ['/ep', 'b'] },
  { name: '--entrypoint drops the image CMD', config: { Entrypoint: ['/ep'], Cmd: ['a'] }, flags: { entrypoint: 'sh', args: [] }, want: ['sh'] },
  { name: '--entrypoint with args', config: { Cmd: ['a'] }, flags: { entrypoint: 'sh', args: ['-c', 'x'] }, want: ['sh', '-c', 'x'] },
  { name: '--entrypoint "" clears it', config: { Entrypoint: ['/ep'], Cmd: ['a'] }, flags: { entrypoint: '', args: ['ls'] }, want: ['ls'] },
  { name: 'nothing at all', config: {}, flags: { args: [] }, want: [] },
];
for (const c of argvCases) test(`argv: ${c.name}`, () => assert.deepEqual(containerArgv(c.config, c.flags), c.want));

test('env: PATH default, HOSTNAME, image Env, -e wins, HOME from passwd', () => {
  const env = containerEnv(['A=image', 'B=image'], ['B=flag', 'C=flag'], { hostname: 'h1', tty: false, home: '/home/u' });
  assert.deepEqual(env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h1', 'A=image', 'B=flag', 'C=flag', 'HOME=/home/u']);
});

test('env: the image PATH replaces the default in place; TERM with a tty', () => {
  const env = containerEnv(['PATH=/x'], [], { hostname: 'h', tty: true, home: '/root' });
  assert.deepEqual(env, ['PATH=/x', 'HOSTNAME=h', 'TERM=xterm', 'HOME=/root']);
});

test('-e K takes the host value, or is dropped when unset', () => {
  assert.deepEqual(expandEnvFlags(['K', 'UNSET_X', 'A=1'], { K: 'v' }), ['K=v', 'A=1']);
});

test('--env-file skips comments and blank lines', () => {
  assert.deepEqual(parseEnvFile('# c\n\nA=1\r\n  B=2\nK\n', { K: 'k' }), ['A=1', 'B=2', 'K=k']);
});

test('HOME comes from the passwd entry of the uid', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv/app:/bin/sh\n';
  assert.equal(homeOf(passwd, 1000), '/srv/app');
  assert.equal(homeOf(passwd, 5), '/');
  assert.equal(homeOf(undefined, 0), '/root');
});

const durations: [number, string][] = [
  [500, 'Less than a second'], [1000, '1 second'], [59_000, '59 seconds'], [60_000, 'About a minute'],
  [119_000, 'About a minute'], [120_000, '2 minutes'], [3_600_000, 'About an hour'], [3 * 3_600_000, '3 hours'],
  [3 * 86_400_000, '3 days'], [20 * 86_400_000, '2 weeks'], [100 * 86_400_000, '3 months'], [800 * 86_400_000, '2 years'],
];
for (const [ms, want] of durations) test(`ps: ${ms} ms reads "${want}" as in Docker`, () => assert.equal(humanDuration(ms), want));

test('ps: the command is quoted and cut at 20 characters', () => {
  assert.equal(commandText(['sh'], false), '"sh"');
  assert.equal(commandText(['sh', '-c', 'sleep 1000 && echo done'], false), '"sh -c sleep 1000 &&…"');
});
