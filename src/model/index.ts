// calico-ts/model: projectcalico.org/v3 resources — kinds, datastore keys, schemas, codecs,
// defaults and validation. See docs/design/model.md.
export * from './kinds.ts';
export * from './keys.ts';
export * from './errors.ts';
export type * from './types.ts';
export type { SchemaNode } from './schema.ts';
export { SCHEMAS, SCHEMA_OVERRIDES } from './registry.ts';
export { validate, assertValid, applyDefaults, isKind, TIER_LABEL, METADATA_SCHEMA } from './validate.ts';
export {
  decodeDocuments, decodeDocumentsDetailed, decodeResource, encodeYAML, encodeJSON, toList, DecodeErrors,
  type DecodeOptions, type DecodeResult, type DecodedResource,
} from './codec.ts';
export { overlappingPools } from './validate-network.ts';
export { PROTOCOL_NAMES, protocolNumber, protocolSupportsPorts, asNumberValue, isSubdomainName, isLabelName } from './checks.ts';
export { RESERVED_TIERS } from './validate-policy.ts';
export {
  toStorage, fromStorage, stampCreate, checkCreateMetadata, checkUpdateMetadata, userMetadata, formatTimestamp,
  POLICY_NAME_ANNOTATION, type StoredKV,
} from './storage.ts';
