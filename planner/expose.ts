import { UserError } from '../common/index.js';

/**
 * EXPOSE's port specs (`[ip:][hostPort:]port[-end][/proto]`) checked and listed as
 * `port/proto`, one per port of a range, with BuildKit's messages
 * (frontend/dockerfile/dockerfile2llb/convert_expose.go parsePort).
 */
export function exposedPorts(specs: readonly string[]): string[] {
  return specs.flatMap(portsOf);
}

function bad(message: string): UserError {
  return new UserError('bad-port', message, { hint: 'EXPOSE takes port numbers or ranges, with an optional /tcp, /udp or /sctp: EXPOSE 80 8000-8010/udp' });
}

function portsOf(raw: string): string[] {
  const parts = raw.split(':');
  const containerPart = parts[parts.length - 1];
  const hostPort = parts.length >= 2 ? parts[parts.length - 2] : '';
  let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = containerPart.indexOf('/');
  const port = slash < 0 ? containerPart : containerPart.slice(0, slash);
  const proto = slash < 0 ? '' : containerPart.slice(slash + 1);
  if (port === '') throw bad(`invalid port: ${JSON.stringify(raw)}: no port specified`);
  if (!['', 'tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw bad(`invalid port: ${JSON.stringify(raw)}: invalid proto: ${proto}`);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && !isIp(ip)) throw bad(`invalid IP address: ${ip}`);
  const range = portRange(port);
  if (!range) throw bad(`invalid containerPort: ${port}`);
  if (hostPort !== '') {
    const host = portRange(hostPort);
    if (!host) throw bad(`invalid hostPort: ${hostPort}`);
    if (range[1] - range[0] !== host[1] - host[0] && range[1] !== range[0]) {
      throw bad(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${(proto || 'tcp').toLowerCase()}`);
  return out;
}

/** `n` or `start-end`, each 0–65535 (Go's ParseInt: an optional sign, decimal digits). */
function portRange(text: string): [number, number] | undefined {
  const dash = text.indexOf('-', 1);
  const start = portNumber(dash < 0 ? text : text.slice(0, dash));
  if (start === undefined) return undefined;
  if (dash < 0 || text.slice(0, dash) === text.slice(dash + 1)) return [start, start];
  const end = portNumber(text.slice(dash + 1));
  if (end === undefined || end < start) return undefined;
  return [start, end];
}

function portNumber(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 65535 ? n : undefined;
}

function isIp(text: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text)) return text.split('.').every((o) => Number(o) <= 255);
  return /^[0-9a-f:.]+$/i.test(text) && text.includes(':');
}
