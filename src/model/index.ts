// calico-ts/model: projectcalico.org/v3 resources — kinds, datastore keys, schemas, errors.
// (Decode/validate/encode are added as they land; see docs/design/model.md.)
export * from './kinds.ts';
export * from './keys.ts';
export * from './errors.ts';
export type { SchemaNode } from './schema.ts';
export { SCHEMAS } from './registry.ts';
