import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1 for tests:
 * a temp config and storage dir, a free port, optional htpasswd Basic auth or token auth.
 * `stop()` ends the process (by its pid) and removes the temp dir.
 */

export interface RegistryServer {
  /** `127.0.0.1:PORT`: the domain to put in image names. */
  host: string;
  port: number;
  url: string;
  dir: string;
  /** The registry's log (stderr), for a failing test to print. */
  logPath: string;
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { kind: 'htpasswd'; users: { username: string; password: string }[] }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundlePath: string };

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function htpasswdFile(dir: string, users: { username: string; password: string }[]): Promise<string> {
  const lines: string[] = [];
  // The registry accepts bcrypt entries only: -B.
  for (const u of users) lines.push((await run('htpasswd', ['-Bbn', u.username, u.password])).stdout.trim());
  const path = join(dir, 'htpasswd');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

function authYaml(auth: RegistryAuth | undefined, htpasswdPath: string | undefined): string {
  if (!auth) return '';
  switch (auth.kind) {
    case 'htpasswd':
      return `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${htpasswdPath}\n`;
    case 'token':
      return (
        `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n` +
        `    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.rootCertBundlePath}\n`
      );
  }
}

/** Is something accepting TCP connections on 127.0.0.1:port? */
async function isListening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Start a registry. With `tls`, it serves HTTPS with that certificate and key (e.g. a
 * self-signed pair from openssl) and `url` is https.
 */
export async function startRegistry(opts: { auth?: RegistryAuth; tls?: { certPath: string; keyPath: string } } = {}): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-registry-'));
  const port = await freePort();
  const htpasswdPath = opts.auth?.kind === 'htpasswd' ? await htpasswdFile(dir, opts.auth.users) : undefined;
  const config =
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n` +
    `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n` +
    `http:\n  addr: 127.0.0.1:${port}\n` +
    (opts.tls ? `  tls:\n    certificate: ${opts.tls.certPath}\n    key: ${opts.tls.keyPath}\n` : '') +
    authYaml(opts.auth, htpasswdPath);
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const logPath = join(dir, 'registry.log');
  const { openSync, closeSync } = await import('node:fs');
  const logFd = openSync(logPath, 'a');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited at start; see ${logPath}`);
    if (await isListening(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer on ${url}; see ${logPath}`);
    }
    await sleep(50);
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    url,
    dir,
    logPath,
    async stop() {
      if (!exited) {
        const gone = once(child, 'exit');
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(5000)]);
        if (!exited) child.kill('SIGKILL');
      }
      if (!process.env.KEEP_TEST_OUTPUT) await rm(dir, { recursive: true, force: true });
    },
  };
}
