/**
 * `run -p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` and `-P` (every EXPOSEd port), as
 * docker/cli's nat.ParsePortSpec reads them; a host port left out is a free one the
 * kernel picks. The forwards themselves are slirp4netns's (runtime-helper/network.c).
 */
import { UserError, lazyBuiltin } from '../common/index.js';
import type { PublishedPort } from '../executor/index.js';

const net = /* @__PURE__ */ lazyBuiltin<typeof import('node:net')>('node:net');
const dgram = /* @__PURE__ */ lazyBuiltin<typeof import('node:dgram')>('node:dgram');

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
  /** undefined: none given, so 0.0.0.0 and [::] both (Docker's default), [::] only where the host has IPv6. */
  hostIp?: string;
  /** undefined: any free port. */
  hostPort?: number;
  containerPort: number;
}

/** `[IPV6]:HOST:CTR`, `IPV4:HOST:CTR`, `HOST:CTR`, `CTR` (docker/cli's nat.ParsePortSpec; an IPv6 address needs its brackets). */
function splitAddress(spec: string, addr: string): { hostIp?: string; parts: string[] } {
  if (!addr.startsWith('[')) {
    const parts = addr.split(':');
    if (parts.length > 3) throw invalid(spec, 'too many colons (an IPv6 address goes in brackets: [::1]:8080:80)');
    if (parts.length < 3) return { parts };
    if (!net().isIPv4(parts[0])) throw invalid(spec, `invalid IP address: ${parts[0]}`);
    return { hostIp: parts[0], parts: parts.slice(1) };
  }
  const end = addr.indexOf(']');
  const hostIp = end < 0 ? addr.slice(1) : addr.slice(1, end);
  if (end < 0 || !net().isIPv6(hostIp) || addr[end + 1] !== ':') throw invalid(spec, `invalid IP address: ${hostIp}`);
  const parts = addr.slice(end + 2).split(':');
  if (parts.length !== 2) throw invalid(spec, 'want [IP]:HOST_PORT:CONTAINER_PORT');
  return { hostIp, parts };
}

export function parsePublish(spec: string): PortRequest {
  const [addr, protoText = 'tcp'] = spec.split('/');
  if (protoText !== 'tcp' && protoText !== 'udp') throw invalid(spec, `invalid proto: ${protoText}`);
  const { hostIp, parts } = splitAddress(spec, addr);
  const containerPort = portNumber(spec, parts[parts.length - 1]);
  const hostPortText = parts.length >= 2 ? parts[parts.length - 2] : '';
  if (hostIp !== undefined && net().isIPv6(hostIp) && protoText === 'udp') throw invalid(spec, 'UDP on an IPv6 host address is not supported yet (TCP is)');
  return { proto: protoText, ...(hostIp !== undefined ? { hostIp } : {}), hostPort: hostPortText === '' ? undefined : portNumber(spec, hostPortText), containerPort };
}

/** `-P`: the image's ExposedPorts (`80/tcp`), each to any free port. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): PortRequest[] {
  return Object.keys(exposed ?? {}).map((k) => {
    const [port, proto = 'tcp'] = k.split('/');
    return { proto: proto === 'udp' ? 'udp' : 'tcp', containerPort: Number(port) };
  });
}

function freePort(proto: 'tcp' | 'udp', ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = dgram().createSocket(net().isIPv6(ip) ? 'udp6' : 'udp4');
      s.once('error', reject);
      s.bind(0, ip, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
      return;
    }
    const server = net().createServer();
    server.once('error', reject);
    server.listen(0, ip, () => {
      const a = server.address();
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Each request's host port (a free one when not given); no address given: 0.0.0.0, then [::] for TCP. */
export async function resolvePorts(requests: PortRequest[]): Promise<PublishedPort[]> {
  const out: PublishedPort[] = [];
  for (const r of requests) {
    const hostIp = r.hostIp ?? '0.0.0.0';
    const hostPort = r.hostPort ?? (await freePort(r.proto, hostIp));
    out.push({ proto: r.proto, hostIp, hostPort, containerPort: r.containerPort });
    if (r.hostIp === undefined && r.proto === 'tcp') out.push({ proto: r.proto, hostIp: '::', hostPort, containerPort: r.containerPort, optional: true });
  }
  return out;
}

/** `0.0.0.0:8080`, `[::]:8080` (Go's net.JoinHostPort, as docker ps and docker port print them). */
export function hostPortText(p: { hostIp: string; hostPort: number }): string {
  return net().isIPv6(p.hostIp) ? `[${p.hostIp}]:${p.hostPort}` : `${p.hostIp}:${p.hostPort}`;
}

/** Docker's `0.0.0.0:8080->80/tcp`. */
export function portText(p: PublishedPort): string {
  return `${hostPortText(p)}->${p.containerPort}/${p.proto}`;
}
