/**
 * `run -p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` and `-P` (every EXPOSEd port), as
 * docker/cli's nat.ParsePortSpec reads them; a host port left out is a free one the
 * kernel picks. The forwards themselves are slirp4netns's (runtime-helper/network.c).
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { UserError } from '../common/index.js';
import type { PublishedPort } from '../executor/index.js';

function invalid(spec: string, why: string): UserError {
  return new UserError('bad-publish', `invalid publish spec "${spec}": ${why}`, { where: spec, exitCode: 125 });
}

function portNumber(spec: string, text: string): number {
  if (!/^\d+$/.test(text)) throw invalid(spec, /^\d+-\d+$/.test(text) ? 'port ranges are not supported yet' : `invalid port: ${text}`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw invalid(spec, `invalid port: ${text}`);
  return n;
}

export interface PortRequest {
  proto: 'tcp' | 'udp';
  hostIp: string;
  /** undefined: any free port. */
  hostPort?: number;
  containerPort: number;
}

export function parsePublish(spec: string): PortRequest {
  if (spec.startsWith('[')) throw invalid(spec, 'IPv6 host addresses are not supported yet');
  const [addr, protoText = 'tcp'] = spec.split('/');
  if (protoText !== 'tcp' && protoText !== 'udp') throw invalid(spec, `invalid proto: ${protoText}`);
  const parts = addr.split(':');
  if (parts.length > 3) throw invalid(spec, 'too many colons');
  const containerPort = portNumber(spec, parts[parts.length - 1]);
  const hostPortText = parts.length >= 2 ? parts[parts.length - 2] : '';
  const hostIp = parts.length === 3 ? parts[0] : '0.0.0.0';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp)) throw invalid(spec, `invalid IP address: ${hostIp}`);
  return { proto: protoText, hostIp, hostPort: hostPortText === '' ? undefined : portNumber(spec, hostPortText), containerPort };
}

/** `-P`: the image's ExposedPorts (`80/tcp`), each to any free port. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): PortRequest[] {
  return Object.keys(exposed ?? {}).map((k) => {
    const [port, proto = 'tcp'] = k.split('/');
    return { proto: proto === 'udp' ? 'udp' : 'tcp', hostIp: '0.0.0.0', containerPort: Number(port) };
  });
}

function freePort(proto: 'tcp' | 'udp', ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, ip, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
      return;
    }
    const server = createServer();
    server.once('error', reject);
    server.listen(0, ip, () => {
      const a = server.address();
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function resolvePorts(requests: PortRequest[]): Promise<PublishedPort[]> {
  const out: PublishedPort[] = [];
  for (const r of requests) out.push({ ...r, hostPort: r.hostPort ?? (await freePort(r.proto, r.hostIp)) });
  return out;
}

/** Docker's `0.0.0.0:8080->80/tcp`. */
export function portText(p: PublishedPort): string {
  return `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`;
}
