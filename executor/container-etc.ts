/**
 * The container's /etc/resolv.conf, /etc/hosts and /etc/hostname: written into a folder
 * the caller owns (Docker keeps them in the container's dir) and bound over the image's.
 * They are copies, so nothing a container writes there reaches the host's files.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EtcBind } from './container-spec.js';
import { PRIVATE_NETWORK } from './network.js';

const HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

async function hostResolvConf(): Promise<string> {
  try {
    return await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** The host's resolv.conf with its nameservers replaced by the NAT's resolver (which asks
 * the host's): a host resolver on 127.0.0.53 would be unreachable from the private network. */
export function privateResolvConf(host: string): string {
  const kept = host.split('\n').filter((l) => /^\s*(search|domain|options)\b/.test(l));
  return [`nameserver ${PRIVATE_NETWORK.dns}`, ...kept].join('\n') + '\n';
}

/** Write the three files into `dir` (which must exist) and say where each is bound. */
export async function writeEtcFiles(dir: string, hostname: string, network: 'private' | 'host' | 'none'): Promise<EtcBind[]> {
  const host = await hostResolvConf();
  const self = network === 'private' ? PRIVATE_NETWORK.address : '127.0.0.1';
  const files: [string, string][] = [
    ['resolv.conf', network === 'private' ? privateResolvConf(host) : host],
    ['hosts', `${HOSTS}${self}\t${hostname}\n`],
    ['hostname', `${hostname}\n`],
  ];
  await Promise.all(files.map(([name, text]) => writeFile(join(dir, name), text, { mode: 0o644 })));
  return files.map(([name]) => ({ source: join(dir, name), target: `/etc/${name}` }));
}
