import { execFile } from 'node:child_process';
import { createPrivateKey, createSign, X509Certificate, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A tiny token issuer for the registry's `auth: token` mode (Docker token spec): a
 * self-signed RSA certificate (openssl) is the registry's root bundle, and /token answers
 * `GET ?service=…&scope=…` with an RS256 JWT whose `x5c` header carries that certificate.
 * Users with a password get the scopes they ask for; anonymous callers get none.
 */
export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundlePath: string;
  /** Requests seen: `anonymous` or the user name, with the scopes asked. */
  requests: { user: string; scopes: string[] }[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenIssuer(dir: string, users: Record<string, string>): Promise<TokenIssuer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=tsbuild-test-token']);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const service = 'tsbuild-test-registry';
  const issuer = 'tsbuild-test-issuer';
  const requests: TokenIssuer['requests'] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    let user = 'anonymous';
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        requests.push({ user: `rejected:${u}`, scopes });
        return;
      }
      user = u;
    }
    requests.push({ user, scopes });
    const access =
      user === 'anonymous'
        ? []
        : scopes.map((s) => {
            const [type, ...rest] = s.split(':');
            const actions = rest.pop()!.split(',');
            return { type, name: rest.join(':'), actions };
          });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(key);
    const token = `${signingInput}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundlePath: certPath,
    requests,
    async stop() {
      server.closeAllConnections();
      server.close();
    },
  };
}
