// Pure logic behind `calicoctl patch` and `calicoctl label`.
//
// patch: calicoctl applies the patch as a Kubernetes strategic merge patch; Calico's v3 types
// declare no merge strategies, so for them that is a JSON merge patch (RFC 7386): objects merge
// recursively, null deletes a field, anything else (lists included) replaces. Metadata follows
// calicoctl's mergeMetadataForPatch: labels and annotations in the patch are added to the
// existing ones; identity fields (name, namespace, uid, resourceVersion, creationTimestamp)
// stay as stored.

import type { AnyResource } from '../model/index.ts';

export class PatchError extends Error {
  readonly code = 'CALICOCTL_PATCH';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. Returns a new value; inputs are not modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Parses the -p argument: a JSON object (YAML flow style is not accepted, as in calicoctl). */
export function parsePatch(text: string): Obj {
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (err) {
    throw new PatchError(`invalid patch: ${(err as Error).message}: expected a JSON object such as '{"spec":{"natOutgoing":true}}'`);
  }
  if (!isObj(patch)) throw new PatchError(`invalid patch: expected a JSON object, got ${JSON.stringify(patch)}`);
  return patch;
}

/** The resource after applying a patch the way calicoctl patch does. */
export function patchResource(current: AnyResource, patch: Obj): AnyResource {
  const patched = mergePatch(current, patch) as AnyResource;
  const pm = isObj(patch.metadata) ? patch.metadata : {};
  const meta = { ...current.metadata };
  const mergeMap = (cur: Record<string, string> | undefined, add: unknown): Record<string, string> | undefined => {
    if (!isObj(add)) return cur;
    const m: Record<string, string> = { ...(cur ?? {}) };
    for (const [k, v] of Object.entries(add)) {
      if (v === null) delete m[k];
      else m[k] = String(v);
    }
    return Object.keys(m).length ? m : undefined;
  };
  const labels = mergeMap(current.metadata.labels, pm.labels);
  const annotations = mergeMap(current.metadata.annotations, pm.annotations);
  if (labels) meta.labels = labels;
  else delete meta.labels;
  if (annotations) meta.annotations = annotations;
  else delete meta.annotations;
  patched.metadata = meta;
  patched.kind = current.kind;
  patched.apiVersion = current.apiVersion;
  return patched;
}

export type LabelOutcome = 'set' | 'updated' | 'removed';

/**
 * calicoctl label: returns the new labels and what happened, or throws with calicoctl's
 * message (key exists without --overwrite, removing a key that is not there).
 */
export function changeLabels(
  labels: Readonly<Record<string, string>> | undefined,
  arg: string,
  opts: { remove?: boolean; overwrite?: boolean; kind: string; name: string },
): { labels: Record<string, string>; outcome: LabelOutcome; key: string } {
  const out: Record<string, string> = { ...(labels ?? {}) };
  if (opts.remove) {
    const key = arg;
    if (!(key in out)) throw new PatchError(`cannot remove label of ${opts.kind} ${opts.name}, key ${key} does not exist`);
    delete out[key];
    return { labels: out, outcome: 'removed', key };
  }
  const eq = arg.indexOf('=');
  if (eq < 0) throw new PatchError(`invalid label ${arg}`);
  const key = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  if (key in out) {
    if (opts.overwrite || out[key] === value) {
      out[key] = value;
      return { labels: out, outcome: 'updated', key };
    }
    throw new PatchError(
      `failed to update label of ${opts.kind} ${opts.name}, key ${key} is already present. please use '--overwrite' to set a new value`,
    );
  }
  out[key] = value;
  return { labels: out, outcome: 'set', key };
}
