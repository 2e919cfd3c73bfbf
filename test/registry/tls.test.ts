import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../store/index.js';
import { runCli } from '../../cli/tsbuild.js';
import { pullImage, pushImage } from '../../registry/index.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { seededBytes, writeTestImage } from './image-fixture.js';

const run = promisify(execFile);

/**
 * TLS is on for every registry but localhost/127.0.0.1/::1. `127.1` is 127.0.0.1 to the
 * resolver but not a local name to tsbuild, so it exercises the non-local rules while all
 * traffic stays on 127.0.0.1: certificates are verified, and --insecure-registry accepts
 * a self-signed one or falls back to plain HTTP.
 */

let work: string;
let certPath: string;
let tlsRegistry: RegistryServer;
let plainRegistry: RegistryServer;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tsbuild-registry-tls-'));
  const keyPath = join(work, 'reg.key');
  certPath = join(work, 'reg.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=127.1', '-addext', 'subjectAltName=DNS:127.1,IP:127.0.0.1']);
  tlsRegistry = await startRegistry({ tls: { certPath, keyPath } });
  plainRegistry = await startRegistry();
});
after(async () => {
  await tlsRegistry?.stop();
  await plainRegistry?.stop();
  if (!process.env.KEEP_TEST_OUTPUT) await rm(work, { recursive: true, force: true });
});

const layers = [{ 'etc/tls': 'tls\n', 'bin/x': seededBytes(11, 5000) }];

test('a self-signed certificate is refused unless the registry is marked insecure', async () => {
  const name = `127.1:${tlsRegistry.port}/secure/app:1`;
  const store = await openStore(await mkdtemp(join(work, 'store-')));
  const img = await writeTestImage(store, name, layers);
  await assert.rejects(pushImage(store, name), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'registry-unreachable');
    assert.match(e.message, new RegExp(`^cannot reach registry 127\\.1:${tlsRegistry.port}: .*(SELF_SIGNED|CERT|certificate)`, 'i'));
    return true;
  });
  const insecure = { insecureRegistries: [`127.1:${tlsRegistry.port}`] };
  await pushImage(store, name, insecure);
  const other = await openStore(await mkdtemp(join(work, 'store-')));
  assert.equal((await pullImage(other, name, insecure)).id, img.id);
});

test('an insecure registry without TLS is reached over plain HTTP after HTTPS fails', async () => {
  const name = `127.1:${plainRegistry.port}/plain/app:1`;
  const store = await openStore(await mkdtemp(join(work, 'store-')));
  const img = await writeTestImage(store, name, layers);
  await assert.rejects(pushImage(store, name), { code: 'registry-unreachable' });
  await pushImage(store, name, { insecureRegistries: [`127.1:${plainRegistry.port}`] });
  const other = await openStore(await mkdtemp(join(work, 'store-')));
  assert.equal((await pullImage(other, name, { insecureRegistries: ['127.1'] })).id, img.id, 'a bare host name matches any port');
});

test('the CLI trusts NODE_EXTRA_CA_CERTS (which its launcher reads only when TLS is used)', async () => {
  const name = `127.1:${tlsRegistry.port}/trusted/app:1`;
  const store = await openStore(await mkdtemp(join(work, 'store-')));
  const img = await writeTestImage(store, name, layers);
  await pushImage(store, name, { insecureRegistries: [`127.1:${tlsRegistry.port}`] });
  const untrusted = await runCli(['--root', await mkdtemp(join(work, 'store-')), 'pull', name], { env: { NODE_EXTRA_CA_CERTS: '' } });
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /certificate|SELF_SIGNED|CERT/i);
  const root = await mkdtemp(join(work, 'store-'));
  const trusted = await runCli(['--root', root, 'pull', name], { env: { NODE_EXTRA_CA_CERTS: certPath } });
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal((await (await openStore(root)).resolveImage(name))?.id, img.id);
});
