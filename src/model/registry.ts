// The final structural schema per kind: generated CRD tables, hand-written schemas for
// Go-only kinds, and the few documented overrides where Calico's Go decoder is more lenient.
import type { KindName } from './kinds.ts';
import type { SchemaNode } from './schema.ts';
import { crdSchemas } from './schemas/index.ts';
import { nodeSchema, workloadEndpointSchema, profileSchema, AS_NUMBER_PATHS, asNumberSchema } from './schemas-extra.ts';

function patched(root: SchemaNode, path: readonly string[], replacement: SchemaNode): SchemaNode {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string, ...string[]];
  const props = root.properties ?? {};
  return { ...root, properties: { ...props, [head]: patched(props[head] ?? {}, rest, replacement) } };
}

/** Fields where Go's decoder drops a zero before the CRD bounds are checked (uint omitempty). */
const ZERO_IS_UNSET: readonly (readonly string[])[] = [['BGPConfiguration', 'spec', 'listenPort']];

function build(): Record<KindName, SchemaNode> {
  const out = { ...crdSchemas, Node: nodeSchema, WorkloadEndpoint: workloadEndpointSchema, Profile: profileSchema } as Record<string, SchemaNode>;
  for (const [kind, ...path] of AS_NUMBER_PATHS) {
    // ASNumber (numorstring): a 32-bit number, or "AS-high.AS-low" dotted notation.
    out[kind!] = patched(out[kind!]!, path, asNumberSchema);
  }
  for (const [kind, ...path] of ZERO_IS_UNSET) {
    let node: SchemaNode | undefined = out[kind!];
    for (const p of path) node = node?.properties?.[p];
    out[kind!] = patched(out[kind!]!, path, { ...node, minimum: 0 });
  }
  return out as Record<KindName, SchemaNode>;
}

export const SCHEMAS: Readonly<Record<KindName, SchemaNode>> = build();

/** Overrides of CRD structure, for the coverage test: `Kind.path` → why. */
export const SCHEMA_OVERRIDES: ReadonlyMap<string, string> = new Map([
  ...AS_NUMBER_PATHS.map(([k, ...p]) => [`${k}.${p.join('.')}`, 'ASNumber accepts dotted notation ("1.10") as Calico\'s numorstring does'] as const),
  ...ZERO_IS_UNSET.map(([k, ...p]) => [`${k}.${p.join('.')}`, 'uint with omitempty in Go: 0 means unset, so the CRD minimum never sees it'] as const),
]);
