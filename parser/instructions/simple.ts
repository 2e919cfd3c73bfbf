import { compareCodeUnits } from '../../common/index.js';
import type { RawInstruction } from '../syntax.js';
import { trimGoSpace } from '../go-text.js';
import { parseFlags } from './flags.js';
import { located } from './located.js';
import { problem } from './problem.js';
import type { Expose, Maintainer, Stopsignal, User, Volume, Workdir } from './types.js';

/** The one-value and list instructions: WORKDIR, USER, STOPSIGNAL, MAINTAINER, EXPOSE, VOLUME. */
function single(raw: RawInstruction, kw: string): string {
  if (raw.args.length !== 1) throw problem('needs-one-argument', kw);
  return raw.args[0];
}

export function parseWorkdir(raw: RawInstruction): Workdir {
  const path = single(raw, 'WORKDIR');
  parseFlags('WORKDIR', raw.flags);
  return { kind: 'workdir', path, ...located(raw) };
}

export function parseUser(raw: RawInstruction): User {
  const user = single(raw, 'USER');
  parseFlags('USER', raw.flags);
  return { kind: 'user', user, ...located(raw) };
}

/** BuildKit does not parse STOPSIGNAL's flags (they are dropped); refusing them keeps none ignored. */
export function parseStopsignal(raw: RawInstruction): Stopsignal {
  parseFlags('STOPSIGNAL', raw.flags);
  return { kind: 'stopsignal', signal: single(raw, 'STOPSIGNAL'), ...located(raw) };
}

export function parseMaintainer(raw: RawInstruction): Maintainer {
  const name = single(raw, 'MAINTAINER');
  parseFlags('MAINTAINER', raw.flags);
  return { kind: 'maintainer', name, ...located(raw) };
}

export function parseExpose(raw: RawInstruction): Expose {
  if (raw.args.length === 0) throw problem('needs-arguments', 'EXPOSE');
  parseFlags('EXPOSE', raw.flags);
  const ports = [...raw.args].sort(compareCodeUnits);
  return { kind: 'expose', ports, ...located(raw) };
}

export function parseVolume(raw: RawInstruction): Volume {
  if (raw.args.length === 0) throw problem('needs-arguments', 'VOLUME');
  parseFlags('VOLUME', raw.flags);
  const paths = raw.args.map((v) => {
    const p = trimGoSpace(v);
    if (p === '') throw problem('empty-volume');
    return p;
  });
  return { kind: 'volume', paths, ...located(raw) };
}
