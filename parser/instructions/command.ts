import type { RawInstruction } from '../syntax.js';
import { parseFlags } from './flags.js';
import { problem } from './problem.js';
import type { Cmd, CommandLine, Entrypoint, Shell } from './types.js';
import { located } from './located.js';

/**
 * CMD, ENTRYPOINT and SHELL, and the command line every shell-dependent instruction shares:
 * exec form keeps the JSON elements, shell form is the rest of the line as one script.
 */
export function commandLine(raw: RawInstruction): CommandLine {
  if (raw.json) return { form: 'exec', argv: raw.args };
  return { form: 'shell', script: raw.args.join(' '), heredocs: raw.heredocs };
}

export function parseCmd(raw: RawInstruction): Cmd {
  parseFlags('CMD', raw.flags);
  return { kind: 'cmd', command: commandLine(raw), ...located(raw) };
}

export function parseEntrypoint(raw: RawInstruction): Entrypoint {
  parseFlags('ENTRYPOINT', raw.flags);
  return { kind: 'entrypoint', command: commandLine(raw), ...located(raw) };
}

/** SHELL takes the exec form only (Dockerfile reference, SHELL). */
export function parseShell(raw: RawInstruction): Shell {
  parseFlags('SHELL', raw.flags);
  if (raw.json && raw.args.length === 0) throw problem('needs-arguments', 'SHELL');
  if (!raw.json) throw problem(raw.args.length === 0 ? 'needs-arguments' : 'shell-not-json', 'SHELL');
  return { kind: 'shell', argv: raw.args, ...located(raw) };
}
