import type { ContainerConfig, HealthConfig } from '../store/index.js';
import { unreachable } from '../common/index.js';
import { planWork } from './work-meter.js';

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
  const editor = new ConfigEditor(config);
  editor.apply(edit);
  return editor.config;
}

/**
 * A container config being edited by one owner: copied once, then each edit changes it in
 * place at the cost of the edit, not of the config (a Dockerfile of 10,000 LABELs must not
 * copy its labels 10,000 times). `config` is the editor's own object: read it, never keep
 * it while edits are still to come.
 */
export class ConfigEditor {
  readonly config: ContainerConfig;
  /** Position in `config.Env` of each name (its first entry, as a lookup finds it). */
  private readonly envIndex = new Map<string, number>();

  constructor(base: ContainerConfig) {
    const c: ContainerConfig = { ...base };
    if (c.Env) c.Env = [...c.Env];
    if (c.Labels) c.Labels = { ...c.Labels };
    if (c.ExposedPorts) c.ExposedPorts = { ...c.ExposedPorts };
    if (c.Volumes) c.Volumes = { ...c.Volumes };
    if (c.OnBuild) c.OnBuild = [...c.OnBuild];
    this.config = c;
    planWork.visits += (c.Env?.length ?? 0) + Object.keys(c.Labels ?? {}).length;
    (c.Env ?? []).forEach((e, i) => {
      const k = envName(e);
      if (!this.envIndex.has(k)) this.envIndex.set(k, i);
    });
  }

  apply(edit: ConfigEdit): void {
    const c = this.config;
    switch (edit.field) {
      case 'Env': {
        const env = (c.Env ??= []);
        for (const [k, v] of edit.set) {
          const i = this.envIndex.get(k);
          if (i !== undefined) env[i] = `${k}=${v}`;
          else this.envIndex.set(k, env.push(`${k}=${v}`) - 1);
        }
        return;
      }
      case 'Labels': {
        const labels = (c.Labels ??= {});
        for (const [k, v] of edit.set) labels[k] = v;
        return;
      }
      case 'ExposedPorts':
      case 'Volumes': {
        const map = (c[edit.field] ??= {});
        for (const k of edit.add) map[k] = {};
        return;
      }
      case 'OnBuild':
        (c.OnBuild ??= []).push(...edit.add);
        return;
      case 'OnBuildClear':
        c.OnBuild = null;
        return;
      case 'Cmd':
      case 'Entrypoint':
        c[edit.field] = edit.value;
        return;
      case 'WorkingDir':
      case 'User':
      case 'StopSignal':
        c[edit.field] = edit.value;
        return;
      case 'Shell':
        c.Shell = edit.value;
        return;
      case 'Healthcheck':
        c.Healthcheck = edit.value;
        return;
      case 'ArgsEscaped':
        c.ArgsEscaped = edit.value;
        return;
      case 'None':
        return;
      default:
        return unreachable(edit);
    }
  }
}

function envName(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

/** The value of `KEY` in an `Env` list, or undefined. */
export function envValue(env: readonly string[] | undefined, key: string): string | undefined {
  for (const e of env ?? []) {
    planWork.visits++;
    const i = e.indexOf('=');
    if ((i < 0 ? e : e.slice(0, i)) === key) return i < 0 ? '' : e.slice(i + 1);
  }
  return undefined;
}
