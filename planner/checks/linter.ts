import type { SourceRange } from '../../common/index.js';
import type { CheckConfig } from './config.js';
import { RULES, type RuleName } from './rules.js';

/** One build-check warning: BuildKit's lint.Warning, with our source range. */
export interface CheckWarning {
  rule: RuleName;
  description: string;
  url?: string;
  /** The formatted message. */
  detail: string;
  /** Absent for a warning not tied to a line. */
  where?: SourceRange;
}

/** Collects warnings, dropping what the settings skip (linter.Linter.Run). */
export class Linter {
  readonly warnings: CheckWarning[] = [];

  constructor(readonly config: CheckConfig) {}

  /** The same linter's sink, with other settings (a `# check=` comment above one instruction). */
  with(config: CheckConfig): Linter {
    const l = new Linter(config);
    (l as { warnings: CheckWarning[] }).warnings = this.warnings;
    return l;
  }

  run<N extends RuleName>(name: N, where: SourceRange | undefined, ...args: Parameters<(typeof RULES)[N]['format']>): void {
    const rule = RULES[name];
    const c = this.config;
    if ('experimental' in rule && rule.experimental) {
      if (!c.experimentalAll && !c.experimental.has(name)) return;
    } else if (c.skipAll || c.skip.has(name)) return;
    const detail = (rule.format as (...a: unknown[]) => string)(...args);
    this.warnings.push({ rule: name, description: rule.description, ...('url' in rule ? { url: rule.url } : {}), detail, ...(where ? { where } : {}) });
  }
}
