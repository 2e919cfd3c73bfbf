/**
 * planner/checks/: BuildKit's build checks (frontend/dockerfile/linter) on a parsed
 * Dockerfile: the same rules, names, messages and doc URLs, the `# check=` directive and the
 * BUILDKIT_DOCKERFILE_CHECK build arg. It only reads the parser's output (and a base
 * image's config when the caller gives one); it never fails a build itself: the caller
 * decides what an `error=true` warning does.
 */
export { runChecks, checkConfigOf, targetStageName, CHECK_BUILD_ARG, type CheckInput, type CheckResult } from './run-checks.js';
export type { CheckWarning } from './linter.js';
export type { BaseInfo } from './stage-rules.js';
export type { CheckConfig } from './config.js';
export { RULES, RULE_NAMES, type RuleName } from './rules.js';
