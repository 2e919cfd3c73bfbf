import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChallenge } from '../../registry/auth.js';
import { findCredentials, storeCredentials } from '../../registry/credentials.js';
import { parsePlatform, selectPlatform } from '../../registry/manifest.js';
import { retryDelayMs, isTransientStatus } from '../../registry/retry.js';
import { registryDomain } from '../../registry/login.js';
import { registrySettings } from '../../engine/settings.js';
import { RegistryClient } from '../../registry/client.js';
import { MediaType, type ImageIndex } from '../../store/index.js';
import type { Digest } from '../../common/index.js';

const challenges = [
  {
    name: 'Docker Hub bearer challenge',
    header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
    want: { scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' },
  },
  { name: 'basic challenge', header: 'Basic realm="tsbuild-test"', want: { scheme: 'basic', realm: 'tsbuild-test' } },
  {
    name: 'bearer with a comma inside a quoted scope',
    header: 'bearer realm="http://127.0.0.1:9/token", scope="repository:a:pull,push"',
    want: { scheme: 'bearer', realm: 'http://127.0.0.1:9/token', service: undefined, scope: 'repository:a:pull,push' },
  },
  { name: 'bearer without a realm is ignored', header: 'Bearer service="x"', want: undefined },
  { name: 'unknown scheme is ignored', header: 'Negotiate abc', want: undefined },
];
for (const c of challenges) test(`WWW-Authenticate: ${c.name}`, () => assert.deepEqual(parseChallenge(c.header), c.want));

test('credentials: docker config auths are read by host and written as base64 user:password', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-creds-'));
  try {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
          'https://reg.example:5000': { auth: Buffer.from('u:p:with:colons').toString('base64') },
        },
        credsStore: 'desktop',
      }),
    );
    assert.deepEqual(await findCredentials(dir, 'docker.io'), { username: 'hub', password: 'pw' });
    assert.deepEqual(await findCredentials(dir, 'reg.example:5000'), { username: 'u', password: 'p:with:colons' });
    assert.equal(await findCredentials(dir, 'other:1'), undefined);
    await storeCredentials(dir, '127.0.0.1:5000', { username: 'a', password: 'b' });
    const saved = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(saved.credsStore, 'desktop', 'other settings kept');
    assert.deepEqual((saved.auths as Record<string, unknown>)['127.0.0.1:5000'], { auth: Buffer.from('a:b').toString('base64') });
    assert.ok((saved.auths as Record<string, unknown>)['https://index.docker.io/v1/'], 'other logins kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('registry names given to login are reduced to the host Docker keys them by', () => {
  assert.equal(registryDomain('https://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(registryDomain('index.docker.io'), 'docker.io');
  assert.equal(registryDomain('ghcr.io'), 'ghcr.io');
});

test('retry: 429 and 5xx (but 501) are transient; Retry-After seconds are honoured', () => {
  assert.deepEqual([429, 500, 502, 503, 501, 404, 401].map(isTransientStatus), [true, true, true, true, false, false, false]);
  const policy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(retryDelayMs(policy, 1, '2'), 2000);
  const d = retryDelayMs(policy, 3);
  assert.ok(d >= 300 && d <= 500, String(d));
});

test('platforms: parse and select, arm64 defaulting to v8', () => {
  assert.deepEqual(parsePlatform(undefined), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(() => parsePlatform('linux'), { code: 'invalid-platform' } as object);
  const d = (n: number, architecture: string, variant?: string) => ({
    mediaType: MediaType.manifest,
    digest: `sha256:${String(n).repeat(64)}` as Digest,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const index: ImageIndex = { schemaVersion: 2, manifests: [d(1, 'arm', 'v7'), d(2, 'arm64', 'v8'), d(3, 'amd64')] };
  assert.equal(selectPlatform(index, parsePlatform(undefined), 'x').digest, d(3, 'amd64').digest);
  assert.equal(selectPlatform(index, parsePlatform('linux/arm64'), 'x').digest, d(2, 'arm64').digest);
  assert.equal(selectPlatform(index, parsePlatform('linux/arm/v7'), 'x').digest, d(1, 'arm').digest);
});

test('insecure registries come from the option and TSBUILD_INSECURE_REGISTRIES', () => {
  assert.deepEqual(registrySettings({ TSBUILD_INSECURE_REGISTRIES: 'a:5000, b' }, ['c']).insecureRegistries, ['c', 'a:5000', 'b']);
});

test('TSBUILD_REGISTRY_TIMEOUT sets the total deadline of a request in seconds; anything else is refused', () => {
  const client = (env: NodeJS.ProcessEnv) => new RegistryClient('r.example', 'r.example', registrySettings(env));
  assert.equal(client({}).timeouts.totalMs, 60_000);
  assert.equal(client({ TSBUILD_REGISTRY_TIMEOUT: '2.5' }).timeouts.totalMs, 2500);
  assert.equal(client({ TSBUILD_REGISTRY_TIMEOUT: '600' }).timeouts.idleMs, 60_000, 'the idle timeout stays');
  for (const bad of ['0', '-1', 'soon'])
    assert.throws(() => registrySettings({ TSBUILD_REGISTRY_TIMEOUT: bad }), { code: 'bad-registry-timeout', message: `TSBUILD_REGISTRY_TIMEOUT="${bad}" is not a number of seconds` });
});
