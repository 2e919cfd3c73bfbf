/**
 * The container's /etc/resolv.conf, /etc/hosts and /etc/hostname: written into a folder
 * the caller owns (Docker keeps them in the container's dir) and bound over the image's.
 * They are copies, so nothing a container writes there reaches the host's files.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EtcBind } from './container-spec.js';

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

/** Write the three files into `dir` (which must exist) and say where each is bound. */
export async function writeEtcFiles(dir: string, hostname: string): Promise<EtcBind[]> {
  const files: [string, string][] = [
    ['resolv.conf', await hostResolvConf()],
    ['hosts', `${HOSTS}127.0.0.1\t${hostname}\n`],
    ['hostname', `${hostname}\n`],
  ];
  await Promise.all(files.map(([name, text]) => writeFile(join(dir, name), text, { mode: 0o644 })));
  return files.map(([name]) => ({ source: join(dir, name), target: `/etc/${name}` }));
}
