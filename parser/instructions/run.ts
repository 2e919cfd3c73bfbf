import type { RawInstruction } from '../syntax.js';
import { commandLine } from './command.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { parseMount } from './mount.js';
import { Problem, problem } from './problem.js';
import type { Run, RunNetwork } from './types.js';

const NETWORKS: readonly RunNetwork[] = ['default', 'none', 'host'];

/** `RUN [--mount=…] [--network=…] [--security=…] command`. */
export function parseRun(raw: RawInstruction): Run {
  const flags = parseFlags('RUN', raw.flags);
  const network = flags.strings.get('network');
  if (network !== undefined && !(NETWORKS as readonly string[]).includes(network)) throw problem('bad-network', network).atFlag('network');
  const security = flags.strings.get('security');
  if (security !== undefined && security !== 'sandbox' && security !== 'insecure') throw problem('bad-security', security).atFlag('security');
  return {
    kind: 'run',
    command: commandLine(raw),
    mounts: (flags.lists.get('mount') ?? []).map((spec) => {
      try {
        return parseMount(spec);
      } catch (e) {
        throw e instanceof Problem ? e.atFlag('mount') : e;
      }
    }),
    ...(network !== undefined ? { network: network as RunNetwork } : {}),
    ...(security !== undefined ? { security: security as 'sandbox' | 'insecure' } : {}),
    ...located(raw),
  };
}
