import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../store/index.js';
import { login, pullImage, pushImage } from '../../registry/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { tempDir } from '../helpers/temp.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { seededBytes, writeTestImage } from './image-fixture.js';
import { startTokenIssuer, type TokenIssuer } from './token-issuer.js';

const USER = 'alice';
const PASSWORD = 'open sesame:42';

const layers = (seed: number) => [{ 'data/bin': seededBytes(seed, 20_000), 'etc/motd': `seed ${seed}\n` }];

describe('htpasswd (Basic) registry', () => {
  let registry: RegistryServer;
  before(async () => {
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ username: USER, password: PASSWORD }] } });
  });
  after(async () => {
    await registry?.stop();
  });

  test('push without credentials fails with a message naming the registry and tsbuild login', async () => {
    const store = await openStore(await tempDir());
    await writeTestImage(store, `${registry.host}/secret/app:1`, layers(1));
    await assert.rejects(
      pushImage(store, `${registry.host}/secret/app:1`, { dockerConfigDir: await tempDir() }),
      (e: Error & { code?: string; hint?: string }) => {
        assert.equal(e.code, 'registry-unauthorized');
        assert.equal(e.message, `unauthorized: authentication required by registry ${registry.host}`);
        assert.match(e.hint ?? '', new RegExp(`tsbuild login ${registry.host.replace(/\./g, '\\.')}`));
        return true;
      },
    );
  });

  test('the CLI shows the 401 as one message with the login hint, no stack trace', async () => {
    const root = await tempDir();
    const r = await runCli(['pull', `${registry.host}/secret/app:1`], { root, env: { DOCKER_CONFIG: await tempDir() } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`unauthorized: authentication required by registry ${registry.host.replace(/\./g, '\\.')}`));
    assert.match(r.stderr, /tsbuild login/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('login with a wrong password is refused and stores nothing', async () => {
    const config = await tempDir();
    const r = await runCli(['login', '-u', USER, '--password-stdin', registry.host], {
      root: await tempDir(),
      env: { DOCKER_CONFIG: config },
      input: 'wrong\n',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /incorrect username or password/);
    await assert.rejects(stat(join(config, 'config.json')));
  });

  test('login stores credentials as docker does; push and pull then work with them', async () => {
    const config = await tempDir();
    const root = await tempDir();
    const r = await runCli(['login', '-u', USER, '--password-stdin', registry.host], { root, env: { DOCKER_CONFIG: config }, input: PASSWORD + '\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const file = join(config, 'config.json');
    const saved = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[registry.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const img = await writeTestImage(await openStore(root), `${registry.host}/secret/app:2`, layers(2));
    const pushed = await runCli(['push', `${registry.host}/secret/app:2`], { root, env: { DOCKER_CONFIG: config } });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /^2: digest: sha256:[0-9a-f]{64} size: \d+$/m);

    const root2 = await tempDir();
    const pulled = await runCli(['pull', `${registry.host}/secret/app:2`], { root: root2, env: { DOCKER_CONFIG: config } });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^2: Pulling from secret\/app$/m);
    assert.match(pulled.stdout, new RegExp(`^Status: Downloaded newer image for ${registry.host.replace(/\./g, '\\.')}/secret/app:2$`, 'm'));
    assert.equal(pulled.stdout.trimEnd().split('\n').at(-1), `${registry.host}/secret/app:2`);
    const got = await (await openStore(root2)).resolveImage(`${registry.host}/secret/app:2`);
    assert.equal(got?.id, img.id);
  });
});

describe('token-auth registry (auth: token + a test token issuer)', () => {
  let registry: RegistryServer;
  let issuer: TokenIssuer;
  before(async () => {
    issuer = await startTokenIssuer(await tempDir(), { [USER]: PASSWORD });
    registry = await startRegistry({
      auth: { kind: 'token', realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootCertBundlePath: issuer.rootCertBundlePath },
    });
  });
  after(async () => {
    await registry?.stop();
    await issuer?.stop();
  });

  test('anonymous push is refused with the login hint', async () => {
    const store = await openStore(await tempDir());
    await writeTestImage(store, `${registry.host}/tok/app:1`, layers(3));
    await assert.rejects(pushImage(store, `${registry.host}/tok/app:1`, { dockerConfigDir: await tempDir() }), /authentication required by registry/);
  });

  test('login through the token realm, then push and pull with bearer tokens', async () => {
    const config = await tempDir();
    await assert.rejects(login({ registry: registry.host, username: USER, password: 'nope', dockerConfigDir: config }), /incorrect username or password/);
    await login({ registry: registry.host, username: USER, password: PASSWORD, dockerConfigDir: config });
    const a = await openStore(await tempDir());
    const img = await writeTestImage(a, `${registry.host}/tok/app:2`, layers(4));
    await pushImage(a, `${registry.host}/tok/app:2`, { dockerConfigDir: config });
    const b = await openStore(await tempDir());
    const got = await pullImage(b, `${registry.host}/tok/app:2`, { dockerConfigDir: config });
    assert.equal(got.id, img.id);
    assert.ok(issuer.requests.some((r) => r.user === USER && r.scopes.includes('repository:tok/app:pull,push')));
    assert.ok(issuer.requests.some((r) => r.user === USER && r.scopes.includes('repository:tok/app:pull')));
  });
});
