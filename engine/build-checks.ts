import { UserError, type SourceRange } from '../common/index.js';
import type { Matcher } from '../context/index.js';
import type { BaseInfo, CheckResult, CheckWarning, LintResults, Plan } from '../planner/index.js';
import type { ParsedDockerfile } from './dockerfile.js';

/** What `--call check` and a build's checks need besides the Dockerfile. */
export interface CheckRun {
  buildArgs: ReadonlyMap<string, string>;
  target?: string;
  platform: { os: string; architecture: string; variant?: string };
  ignore?: Matcher;
  /** The plan of a build: its stages are the ones checked, its base images give their config. */
  plan?: Plan;
  /** Without a plan: finds a base image (pulled if need be, as BuildKit's lint resolves them). */
  resolve?(name: string, where: SourceRange): Promise<BaseInfo>;
}

/** The build checks on a parsed Dockerfile (planner/checks), for a build or `--call check`. */
export async function checkDockerfile(parsed: ParsedDockerfile, r: CheckRun): Promise<CheckResult> {
  const { runChecks } = await import('../planner/index.js');
  const known = new Map<string, BaseInfo>();
  for (const s of r.plan?.stages ?? []) {
    if (s?.base.kind !== 'image') continue;
    const c = s.base.image.config;
    known.set(s.base.image.ref, { env: c.config?.Env ?? [], shell: c.config?.Shell, os: c.os, architecture: c.architecture });
  }
  const planned = r.plan ? new Set(r.plan.stages.flatMap((s, i) => (s ? [i] : []))) : undefined;
  return runChecks({
    raw: parsed.raw,
    instructions: parsed.instructions,
    buildArgs: r.buildArgs,
    platform: r.platform,
    target: r.target,
    ignore: r.ignore,
    ...(planned ? { stages: planned } : {}),
    baseImage: async (name, where) => (r.plan ? known.get(name) : r.resolve?.(name, where)),
  });
}

/** `error=true` in the settings: the build fails after its warnings, as BuildKit's linter.Error. */
export function checkFailure(result: CheckResult, file: string): UserError | undefined {
  if (!result.error) return undefined;
  const rules = [...new Set(result.warnings.map((w) => w.rule))];
  return new UserError('check-failed', `lint violation found for rules: ${rules.join(', ')}`, {
    where: file,
    hint: 'fix the warnings above, or skip a rule with # check=skip=RULE',
    exitCode: 1,
  });
}

/** BuildKit's LintResults JSON (frontend/subrequests/lint) for `--call check --format json`. */
export function lintResults(warnings: readonly CheckWarning[], file: string, text: string): LintResults {
  return {
    warnings: warnings.map((w) => ({
      ruleName: w.rule,
      description: w.description,
      ...(w.url ? { url: w.url } : {}),
      detail: w.detail,
      ...(w.where ? { location: { ranges: [{ start: { line: w.where.start.line }, end: { line: w.where.end.line } }] } } : {}),
    })),
    sources: [{ filename: file, language: 'Dockerfile', data: Buffer.from(text, 'utf8').toString('base64') }],
  };
}

/**
 * `# syntax=` names the frontend image BuildKit would run. tsbuild is its own Dockerfile
 * frontend; for another image (not docker/dockerfile) it says once that the image is not run.
 */
export function syntaxWarning(syntax: string | undefined): string | undefined {
  if (syntax === undefined) return undefined;
  const ref = syntax.trim().split(/\s+/)[0];
  if (/^(?:docker\.io\/)?docker\/dockerfile(?:-upstream)?(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?$/.test(ref)) return undefined;
  return `# syntax=${ref}: tsbuild uses its own Dockerfile frontend and does not run that image`;
}
