/**
 * Every flag an instruction accepts, by keyword: BuildKit's instructions/parse.go (its
 * `req.flags.Add…` calls). Each instruction parser reads its row, so this table is the whole
 * set of flags the parser lets through; a test walks it and proves each one is implemented
 * or refused with a "not supported yet" error.
 */
export type FlagType = 'bool' | 'string' | 'strings';

export const FLAG_TABLE = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: {
    chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'strings', unpack: 'bool',
  },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
  CMD: {},
  ENTRYPOINT: {},
  SHELL: {},
  ENV: {},
  LABEL: {},
  ARG: {},
  WORKDIR: {},
  USER: {},
  EXPOSE: {},
  VOLUME: {},
  STOPSIGNAL: {},
  MAINTAINER: {},
  ONBUILD: {},
} as const satisfies Record<string, Record<string, FlagType>>;

export type FlagKeyword = keyof typeof FLAG_TABLE;
