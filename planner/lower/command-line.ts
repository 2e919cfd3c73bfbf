import type { CommandLine } from '../../parser/index.js';
import type { ContainerConfig } from '../../store/index.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The SHELL in force: the config's, else Docker's `/bin/sh -c`. */
export function shellOf(config: ContainerConfig): string[] {
  return config.Shell && config.Shell.length ? config.Shell : DEFAULT_SHELL;
}

/** A command line as argv: exec form as given, shell form through the current SHELL. */
export function commandArgv(cmd: CommandLine, config: ContainerConfig): string[] {
  return cmd.form === 'exec' ? cmd.argv : [...shellOf(config), cmd.script];
}
