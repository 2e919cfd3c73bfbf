import { envValue } from './config-edit.js';

/** BuildKit's predefined proxy args: usable without ARG, never recorded in history. */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

/**
 * ARG/ENV visibility inside one stage (Dockerfile reference, "Scope" and "Using ARG
 * variables"): an ARG is visible from its declaration to the end of the stage; ENV wins over
 * an ARG of the same name; RUN sees declared ARGs as environment, not persisted in the image.
 */
export class StageScope {
  /** Declared ARGs in declaration order, with their effective value (undefined: declared, unset). */
  private readonly args = new Map<string, string | undefined>();

  constructor(
    private readonly buildArgs: ReadonlyMap<string, string>,
    private readonly globalArgs: ReadonlyMap<string, string | undefined>,
    private readonly consumed: Set<string>,
  ) {}

  /** `ARG name[=default]`: the build arg wins, then a global ARG's value (re-declared), then the default. */
  declare(name: string, defaultValue: string | undefined): void {
    let value = defaultValue;
    if (value === undefined && this.globalArgs.has(name)) value = this.globalArgs.get(name);
    if (this.buildArgs.has(name)) {
      value = this.buildArgs.get(name);
      this.consumed.add(name);
    }
    this.args.set(name, value);
  }

  /** The variables an instruction's words are expanded with: declared args, overridden by env. */
  expansionEnv(imageEnv: readonly string[] | undefined): Map<string, string> {
    const env = new Map<string, string>();
    for (const [k, v] of this.args) if (v !== undefined) env.set(k, v);
    for (const e of imageEnv ?? []) {
      const i = e.indexOf('=');
      env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return env;
  }

  /** Args a RUN sees as extra environment (not already set by ENV), incl. given proxy args. */
  runArgs(imageEnv: readonly string[] | undefined): [string, string][] {
    const out: [string, string][] = [];
    for (const [k, v] of this.args) {
      if (v !== undefined && envValue(imageEnv, k) === undefined) out.push([k, v]);
    }
    for (const p of PROXY_ARGS) {
      if (!this.args.has(p) && this.buildArgs.has(p) && envValue(imageEnv, p) === undefined) {
        out.push([p, this.buildArgs.get(p)!]);
        this.consumed.add(p);
      }
    }
    return out;
  }

  /** Declared args with values, excluding proxy args: what `RUN |N k=v …` shows in history. */
  historyArgs(imageEnv: readonly string[] | undefined): [string, string][] {
    return this.runArgs(imageEnv).filter(([k]) => !PROXY_ARGS.includes(k));
  }
}

/** Platform args BuildKit defines in the global scope (visible in a stage only when re-declared). */
export function platformArgs(platform: { os: string; architecture: string; variant?: string }): Map<string, string> {
  const p = `${platform.os}/${platform.architecture}${platform.variant ? '/' + platform.variant : ''}`;
  const m = new Map<string, string>();
  for (const prefix of ['TARGET', 'BUILD']) {
    m.set(`${prefix}PLATFORM`, p);
    m.set(`${prefix}OS`, platform.os);
    m.set(`${prefix}ARCH`, platform.architecture);
    m.set(`${prefix}VARIANT`, platform.variant ?? '');
  }
  return m;
}
