import { formatPlatform, type Platform } from '../common/index.js';
import { planWork } from './work-meter.js';

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
  /** Names the stage's config sets in Env: they hide an ARG of the same name. */
  private readonly envNames = new Set<string>();
  /**
   * What words expand with: declared args with values, overridden by env. Kept current by
   * declare() and setEnv(), never rebuilt: a stage of 10,000 ENV or ARG lines would
   * otherwise rebuild it 10,000 times.
   */
  private readonly visible = new Map<string, string>();

  constructor(
    private readonly buildArgs: ReadonlyMap<string, string>,
    private readonly globalArgs: ReadonlyMap<string, string | undefined>,
    private readonly consumed: Set<string>,
    imageEnv: readonly string[] | undefined,
    /**
     * The ARGs of the stage this one is built FROM, with their values: a stage inherits its
     * base stage's state, declared args included (BuildKit dispatchState.init appends the
     * base's buildArgs, and its state's env carries their values).
     */
    inherited: readonly [string, string | undefined][] = [],
  ) {
    for (const e of imageEnv ?? []) {
      const i = e.indexOf('=');
      this.setEnv([[i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1)]]);
    }
    for (const [k, v] of inherited) this.set(k, v);
  }

  /**
   * `ARG name[=default]`: the build arg wins, then the default, then a global ARG's value;
   * without any of them a value the arg already has (declared before, or inherited) stays,
   * as in BuildKit's dispatchArg, which then leaves the state's env as it was.
   */
  declare(name: string, defaultValue: string | undefined): void {
    let value = defaultValue;
    if (value === undefined && this.globalArgs.has(name)) value = this.globalArgs.get(name);
    if (value === undefined && this.args.has(name)) value = this.args.get(name);
    if (this.buildArgs.has(name)) {
      value = this.buildArgs.get(name);
      this.consumed.add(name);
    }
    this.set(name, value);
  }

  /** The declared args and their values, in declaration order: what a stage built FROM this one inherits. */
  declared(): [string, string | undefined][] {
    return [...this.args];
  }

  private set(name: string, value: string | undefined): void {
    this.args.set(name, value);
    if (this.envNames.has(name)) return;
    if (value === undefined) this.visible.delete(name);
    else this.visible.set(name, value);
  }

  /** An ENV edit applied to the stage's config (the same pairs, in order). */
  setEnv(pairs: readonly [string, string][]): void {
    for (const [k, v] of pairs) {
      this.envNames.add(k);
      this.visible.set(k, v);
    }
  }

  /** The variables an instruction's words are expanded with now: read it at once, don't keep it. */
  expansionEnv(): ReadonlyMap<string, string> {
    return this.visible;
  }

  /**
   * Args a RUN sees as extra environment (not already set by ENV), incl. given proxy args.
   * `envNames` holds the names of the stage config's Env (the image's, then every ENV edit),
   * so this costs the args', not args × env: a stage of ARG, ENV and RUN lines stays linear.
   */
  runArgs(): [string, string][] {
    const out: [string, string][] = [];
    planWork.visits += this.args.size;
    for (const [k, v] of this.args) {
      if (v !== undefined && !this.envNames.has(k)) out.push([k, v]);
    }
    for (const p of PROXY_ARGS) {
      if (!this.args.has(p) && this.buildArgs.has(p) && !this.envNames.has(p)) {
        out.push([p, this.buildArgs.get(p)!]);
        this.consumed.add(p);
      }
    }
    return out;
  }

  /** Declared args with values, excluding proxy args: what `RUN |N k=v …` shows in history. */
  historyArgs(): [string, string][] {
    return this.runArgs().filter(([k]) => !PROXY_ARGS.includes(k));
  }
}

/**
 * Platform args BuildKit defines in the global scope (visible in a stage only when re-declared):
 * TARGET* the platform built for, BUILD* the one building (dockerfile2llb/convert.go platformArgs).
 */
export function platformArgs(target: Platform, build: Platform = target): Map<string, string> {
  const m = new Map<string, string>();
  for (const [prefix, p] of [['TARGET', target], ['BUILD', build]] as const) {
    m.set(`${prefix}PLATFORM`, formatPlatform(p));
    m.set(`${prefix}OS`, p.os);
    m.set(`${prefix}ARCH`, p.architecture);
    m.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return m;
}
