/**
 * common/: the few types every layer shares: SourceRange, Digest, UserError, and the one "did you
 * mean" suggester their messages use.
 * Nothing here knows about Dockerfiles, images or containers; if this folder grows past a
 * few small files it is hiding a layer.
 */
export * from './source-range.js';
export * from './errors.js';
export * from './digest.js';
export * from "./paths.js";
export * from "./user-namespace.js";
export * from './locate.js';
export * from './young-generation.js';
export * from './suggest.js';
export * from './fs-entry.js';
export * from './platform.js';
export * from "./undici.js";
export * from "./store-root.js";
export * from "./order.js";
export * from "./builtin.js";
export * from "./bundle.js";
export * from "./trusted-cas.js";
