import type { ContainerConfig, HealthConfig } from '../store/index.js';
import { unreachable } from '../common/index.js';

/**
 * A change to an image's container config, in the executor's own small language: the
 * planner lowers ENV, LABEL, CMD, USER … to these, so the executor never sees Dockerfile syntax.
 */
export type ConfigEdit =
  | { field: 'Env' | 'Labels'; set: [string, string][] }
  | { field: 'ExposedPorts' | 'Volumes'; add: string[] }
  | { field: 'OnBuild'; add: string[] }
  | { field: 'OnBuildClear' }
  | { field: 'Cmd' | 'Entrypoint'; value: string[] | null }
  | { field: 'Shell'; value: string[] }
  | { field: 'WorkingDir' | 'User' | 'StopSignal'; value: string }
  | { field: 'Healthcheck'; value: HealthConfig }
  | { field: 'ArgsEscaped'; value: boolean }
  | { field: 'None' };

/** Apply one edit to a container config, returning a new object (the input is not changed). */
export function applyConfigEdit(config: ContainerConfig, edit: ConfigEdit): ContainerConfig {
  const next: ContainerConfig = { ...config };
  switch (edit.field) {
    case 'Env': {
      const env = [...(config.Env ?? [])];
      for (const [k, v] of edit.set) {
        const i = env.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      next.Env = env;
      return next;
    }
    case 'Labels': {
      const labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of edit.set) labels[k] = v;
      next.Labels = labels;
      return next;
    }
    case 'ExposedPorts':
    case 'Volumes': {
      const map = { ...(config[edit.field] ?? {}) };
      for (const k of edit.add) map[k] = {};
      next[edit.field] = map;
      return next;
    }
    case 'OnBuild':
      next.OnBuild = [...(config.OnBuild ?? []), ...edit.add];
      return next;
    case 'OnBuildClear':
      next.OnBuild = null;
      return next;
    case 'Cmd':
    case 'Entrypoint':
      next[edit.field] = edit.value;
      return next;
    case 'WorkingDir':
    case 'User':
    case 'StopSignal':
      next[edit.field] = edit.value;
      return next;
    case 'Shell':
      next.Shell = edit.value;
      return next;
    case 'Healthcheck':
      next.Healthcheck = edit.value;
      return next;
    case 'ArgsEscaped':
      next.ArgsEscaped = edit.value;
      return next;
    case 'None':
      return next;
    default:
      return unreachable(edit);
  }
}

/** The value of `KEY` in an `Env` list, or undefined. */
export function envValue(env: readonly string[] | undefined, key: string): string | undefined {
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if ((i < 0 ? e : e.slice(0, i)) === key) return i < 0 ? '' : e.slice(i + 1);
  }
  return undefined;
}
