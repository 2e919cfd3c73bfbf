/**
 * cli/: the `tsbuild` command. Turns argv into calls on the other folders' public APIs and
 * their results into text and exit codes; holds no build logic of its own.
 */
export { main } from './app.js';
export type { CliContext, Command } from './command.js';
