import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** A route answers one path; it may look at the request's headers (If-None-Match …). */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface FileServer {
  /** `http://127.0.0.1:PORT` (https with `tls`). */
  url: string;
  port: number;
  /** Every request as `METHOD PATH [if-none-match=…] [if-modified-since=…] → STATUS`, in order. */
  hits: string[];
  close(): Promise<void>;
}

/**
 * An HTTP(S) server on 127.0.0.1 for tests: exact-path routes, then routes for every path
 * under a prefix (`prefixes`, e.g. git's CGI), then static files under `dirs[prefix]` (a
 * dumb-HTTP git repository is just its files), else 404.
 */
export async function startFileServer(
  routes: Record<string, Route>,
  opts: { prefixes?: Record<string, Route>; dirs?: Record<string, string>; tls?: { cert: Buffer; key: Buffer } } = {},
): Promise<FileServer> {
  const hits: string[] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const cond = ['if-none-match', 'if-modified-since'].filter((h) => req.headers[h]).map((h) => ` ${h}=${req.headers[h]}`).join('');
    res.on('finish', () => hits.push(`${req.method} ${path}${cond} → ${res.statusCode}`));
    try {
      const route = routes[path];
      if (route) return await route(req, res);
      for (const [prefix, r] of Object.entries(opts.prefixes ?? {})) if (path.startsWith(prefix)) return await r(req, res);
      for (const [prefix, dir] of Object.entries(opts.dirs ?? {})) {
        if (!path.startsWith(prefix)) continue;
        const file = join(dir, normalize('/' + decodeURIComponent(path.slice(prefix.length))));
        const st = await stat(file).catch(() => undefined);
        if (!st?.isFile()) break;
        res.writeHead(200, { 'content-length': st.size });
        createReadStream(file).pipe(res);
        return;
      }
      res.writeHead(404).end('not found\n');
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  };
  const server: Server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A file with an ETag and Last-Modified that honours If-None-Match (304), as a CDN does.
 * `current()` gives the body and its version tag at each request, so a test can change it.
 */
export function conditionalFile(current: () => { body: Buffer | string; etag: string; lastModified: string }): Route {
  return (req, res) => {
    const { body, etag, lastModified } = current();
    const headers = { etag: `"${etag}"`, 'last-modified': lastModified };
    if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(`"${etag}"`)) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
  };
}

/**
 * Smart HTTP: `git http-backend` run as a CGI for every path below `prefix`, serving the
 * repositories under `projectRoot` (git-http-backend(1)).
 */
export function gitHttpBackend(prefix: string, projectRoot: string): Route {
  return (req, res) =>
    new Promise<void>((resolve, reject) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const child = spawn('git', ['http-backend'], {
        env: {
          PATH: process.env.PATH,
          GIT_PROJECT_ROOT: projectRoot,
          GIT_HTTP_EXPORT_ALL: '1',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: decodeURIComponent(url.pathname.slice(prefix.length - 1)),
          QUERY_STRING: url.search.replace(/^\?/, ''),
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          REMOTE_ADDR: '127.0.0.1',
          ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
          ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      req.pipe(child.stdin);
      let head = Buffer.alloc(0);
      let sent = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (sent) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const crlf = head.indexOf('\r\n\r\n');
        const lf = head.indexOf('\n\n');
        const [end, sep] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : [lf, 2];
        if (end < 0) return;
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
          const [name, ...rest] = line.split(':');
          const value = rest.join(':').trim();
          if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
          else headers[name] = value;
        }
        res.writeHead(status, headers);
        sent = true;
        res.write(head.subarray(end + sep));
      });
      child.on('error', reject);
      child.on('close', () => {
        if (!sent) res.writeHead(500);
        res.end();
        resolve();
      });
    });
}
