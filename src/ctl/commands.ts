// calicoctl's resource commands — create, apply, replace, delete, get, patch, label, version —
// with calicoctl's semantics and messages (calicoctl/commands/{crud_commands,get_command,
// label_command,version}.go, commands/common/resources.go):
//
// - Input from -f (a file, a directory's *.yaml/*.yml/*.json, or '-' for stdin) is decoded
//   completely before anything is written: a malformed document, an unknown or non-Calico kind
//   or an unknown field fails the whole command ("failed to execute command: ...") and writes
//   nothing.
// - Resources are then processed one by one, each in one datastore transaction, so a failing
//   document leaves the datastore as it was; the others still happen. Results are reported as
//   calicoctl does: "Successfully applied 3 'IPPool' resource(s)", "Partial success: applied
//   the first 2 out of 3 resources:" then "hit error: [...]".
// - A datastore that cannot be reached stops the command at once with one line naming it.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  KINDS,
  ModelError,
  assertValid,
  decodeDocumentsDetailed,
  describeResource,
  lookupKind,
  toList,
  type AnyResource,
  type ErrorContext,
  type KindInfo,
} from '../model/index.ts';
import {
  DatastoreUnavailable,
  ResourceAlreadyExists,
  ResourceNotFound,
  parseGoDuration,
  type DatastoreClient,
  type DatastoreConfig,
} from '../datastore/index.ts';
import { calicoFieldErrors, firstUnmarshalerError, goTypeError } from './calico-errors.ts';
import { loadClientConfig } from './config.ts';
import { changeLabels, parsePatch, patchResource } from './patch.ts';
import { renderTable, needsAsNumber } from './table.ts';
import { compileTemplate } from './template.ts';
import { encodeOutput } from './output.ts';
import { goShape } from './go-shape.ts';

/** Where output goes and where input comes from (a process, or a test). */
export interface CtlIO {
  out(s: string): void;
  err(s: string): void;
  readStdin(): Promise<string>;
  readonly env: Record<string, string | undefined>;
}

export interface CtlDeps {
  /** Opens the datastore (the real one by default; tests may pass an in-memory one). */
  connect(config: DatastoreConfig): DatastoreClient;
  /** Where the default calicoctl.cfg lives (tests point it elsewhere). */
  readonly defaultConfigPath?: string;
  readonly version?: { version: string; gitCommit: string };
  /** Waits between `version --poll` rounds (tests replace it). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A command failed: print the message, exit 1. Calico writes most errors to stderr (cobra's
 * error, printed by main), but the client set-up failures that clientmgr and
 * ExecuteConfigCommand print themselves before os.Exit(1) — "Error reading config file: F",
 * "Failed to create Calico API client: ..." — to stdout; `stream` says which.
 */
export class CommandFailed extends Error {
  readonly code = 'CALICOCTL_COMMAND_FAILED';
  readonly stream: 'stdout' | 'stderr';
  constructor(message: string, options: { stream?: 'stdout' | 'stderr' } = {}) {
    super(message);
    this.stream = options.stream ?? 'stderr';
  }
}

export interface CommonOptions {
  filename?: string;
  recursive?: boolean;
  skipEmpty?: boolean;
  config?: string;
  namespace?: string;
  allNamespaces?: boolean;
  /** --allow-version-mismatch: skip the client/cluster version check. */
  allowVersionMismatch?: boolean;
}

interface Target {
  res: AnyResource;
  ctx: ErrorContext;
}

const SOURCE_EXT = new Set(['.yaml', '.yml', '.json']);

function listFiles(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string, top: boolean): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (recursive || top) {
          if (recursive) walk(p, false);
        }
        continue;
      }
      if (SOURCE_EXT.has(path.extname(name).toLowerCase())) out.push(p);
    }
  };
  walk(dir, true);
  return out;
}

/** Go's %v of a []error: "[e1 e2]". */
function errList(errs: readonly Error[]): string {
  return `[${errs.map((e) => e.message).join(' ')}]`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').replace(/:\s*$/, '');
}

/** Reads and decodes every input file first; any problem fails the whole command. */
async function loadFromFiles(io: CtlIO, opts: CommonOptions, action: string, validate: boolean): Promise<Target[]> {
  const f = opts.filename!;
  let files: string[];
  let isDir = false;
  if (f === '-') files = ['-'];
  else {
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new CommandFailed(`failed to execute command: open ${f}: no such file or directory`);
    }
    isDir = st.isDirectory();
    files = isDir ? listFiles(f, opts.recursive ?? false) : [f];
  }
  const targets: Target[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? await io.readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      throw new CommandFailed(`failed to execute command: ${(err as Error).message}`);
    }
    const source = file === '-' ? 'stdin' : file;
    const r = decodeDocumentsDetailed(text, { source, action, validate });
    // An error from one of Calico's own unmarshalers (a port, an AS number) ends Go's decoding
    // of its document at once, ahead of the unknown fields and type mismatches it collects.
    const stop = firstUnmarshalerError(text);
    if (stop && (r.errors.length === 0 || (r.errors[0]!.context.document ?? 1) >= stop.document)) {
      const meta = isRecord(stop.raw.metadata) ? stop.raw.metadata : {};
      const where = describeResource({
        source,
        action,
        document: stop.document,
        ...(stop.item !== undefined ? { item: stop.item } : {}),
        ...(typeof stop.raw.kind === 'string' ? { kind: stop.raw.kind } : {}),
        ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
        ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
      });
      throw new CommandFailed(`failed to execute command: ${stop.message} (cannot ${action} ${where})`);
    }
    if (r.errors.length) {
      const first = r.errors[0]!;
      const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more error${r.errors.length > 2 ? 's' : ''} in ${source})` : '';
      if (first.code === 'wrong-api-version' || first.code === 'unknown-kind') {
        // resourcemgr.newResource: the kind/version pair has no Calico type.
        const c = first.context;
        const m = /got "([^"]*)"/.exec(first.message);
        const version = first.code === 'wrong-api-version' ? (m?.[1] ?? '') : 'projectcalico.org/v3';
        if (c.kind) throw new CommandFailed(`failed to execute command: unknown resource type (${c.kind}) and/or version (${version}) (${oneLine(first.message)}${more})`);
      }
      const typeErr = first.fieldErrors.map((e) => goTypeError(first.context.kind ?? '', e)).find((x) => x !== undefined);
      if (typeErr) throw new CommandFailed(`failed to execute command: ${typeErr} (${oneLine(first.message)}${more})`);
      const unknown = /unknown field "([^"]+)"/.exec(first.message);
      if (unknown) {
        // calicoctl's MassageError (commands/command.go) turns Go's strict-decoder error into
        // this sentence; we keep where it was found after it.
        throw new CommandFailed(`field in document is not recognized or is in the wrong location: ${unknown[1]} (${oneLine(first.message)}${more})`);
      }
      throw new CommandFailed(`failed to execute command: ${oneLine(first.message)}${more}`);
    }
    if (r.resources.length === 0 && !opts.skipEmpty) {
      // Checked per file, also for each file of a directory; stdin is named "-" as given.
      throw new CommandFailed(`no resources specified in file ${file}`);
    }
    for (const d of r.resources) {
      const m = d.resource.metadata ?? {};
      targets.push({
        res: d.resource,
        ctx: {
          source,
          document: d.document,
          kind: d.resource.kind,
          ...(m.name ? { name: m.name } : {}),
          ...(m.namespace ? { namespace: m.namespace } : {}),
          action,
        },
      });
    }
  }
  if (targets.length === 0 && isDir && !opts.skipEmpty) throw new CommandFailed(`no resources specified in directory ${f}`);
  return targets;
}

function fromArgs(kindArg: string | undefined, names: readonly string[], namespace: string | undefined, listIfNoName: boolean): Target[] {
  if (!kindArg) throw new CommandFailed('no resources specified: give a resource type (e.g. ippools) and optionally names, or -f FILE');
  const info = lookupKind(kindArg);
  if (!info || !info.calicoctl) throw new CommandFailed(`resource type '${kindArg}' is not supported`);
  const list = names.length ? names : listIfNoName ? [''] : [];
  if (list.some((n) => n === '') && names.length) throw new CommandFailed('resource name may not be empty');
  return list.map((name) => ({
    res: {
      apiVersion: 'projectcalico.org/v3',
      kind: info.kind,
      metadata: { ...(name ? { name } : {}), ...(info.namespaced && namespace ? { namespace } : {}) },
    } as AnyResource,
    ctx: { kind: info.kind, ...(name ? { name } : {}) },
  }));
}

/** calicoctl's handleNamespace: fills or checks metadata.namespace against -n / -A. */
function handleNamespace(t: Target, info: KindInfo, opts: CommonOptions): void {
  const allNs = opts.allNamespaces ?? false;
  const cliNs = opts.namespace ?? '';
  const resNs = t.res.metadata.namespace ?? '';
  if (info.namespaced) {
    if (allNs && cliNs) throw new CommandFailed('cannot use both --namespace and --all-namespaces flags at the same time');
    if (!resNs && cliNs) t.res.metadata.namespace = cliNs;
    else if (resNs && allNs) delete t.res.metadata.namespace;
    else if (!resNs && allNs) { /* list across namespaces */ }
    else if (!resNs && !cliNs) t.res.metadata.namespace = 'default';
    else if (resNs && cliNs && resNs !== cliNs) {
      throw new Error(`resource namespace does not match client namespace. ${resNs} != ${cliNs}`);
    }
  } else if (resNs) {
    throw new Error(`namespace should not be specified for a non-namespaced resource. ${info.kind} is not a namespaced resource`);
  } else if (allNs || cliNs) {
    throw new Error(`${info.kind} is not namespaced`);
  }
}

/** prepareMetadataForCreate: only name, namespace, resourceVersion, labels, annotations. */
function forCreate(res: AnyResource): AnyResource {
  const m = res.metadata;
  return {
    ...res,
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
  };
}

/** The prefix Calico's etcd mode gives Kubernetes NetworkPolicies (converter.KubernetesNetworkPolicyEtcdPrefix). */
const KNP_PREFIX = 'knp.default.';

function isKubernetesPolicyName(res: AnyResource): boolean {
  return res.kind === 'NetworkPolicy' && (res.metadata.name ?? '').startsWith(KNP_PREFIX);
}

function kubernetesPolicyRefusal(operation: string, res: AnyResource): string {
  const id = `NetworkPolicy(${res.metadata.namespace ?? ''}/${res.metadata.name ?? ''})`;
  return `operation ${operation} is not supported on ${id}: kubernetes network policies must be managed through the kubernetes API`;
}

/** Stable sort by spec.order; a tier without an order goes after those with one. */
export function sortTiers(items: readonly AnyResource[]): AnyResource[] {
  const order = (r: AnyResource): number | undefined => {
    const o = (r.spec as { order?: unknown } | undefined)?.order;
    return typeof o === 'number' ? o : undefined;
  };
  return items
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const x = order(a.r);
      const y = order(b.r);
      if (x === undefined && y === undefined) return a.i - b.i;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return x - y || a.i - b.i;
    })
    .map((e) => e.r);
}

/** GetOptions.ResourceVersion: the etcd revision to read at, if the input names one. */
function readRevision(rv: string | undefined): { revision: number } | undefined {
  if (!rv) return undefined;
  if (!/^[0-9]+$/.test(rv)) throw new Error(`error with field ResourceVersion = '${rv}'`);
  return { revision: Number(rv) };
}

/** A datastore session for one command: config, connection, cleanup. */
class Session {
  private client: DatastoreClient | undefined;
  private readonly io: CtlIO;
  private readonly deps: CtlDeps;
  private readonly configPath: string | undefined;
  config: DatastoreConfig | undefined;
  constructor(io: CtlIO, deps: CtlDeps, configPath: string | undefined) {
    this.io = io;
    this.deps = deps;
    this.configPath = configPath;
  }
  /**
   * The configured client. clientmgr's failures go to stdout, as Calico prints them: a missing
   * --config file as "Error reading config file: F"; anything else about the configuration
   * (in `version`: as the bare error on stderr) as "Failed to create Calico API client: ...".
   */
  open(command: 'config' | 'version' = 'config'): DatastoreClient {
    if (this.client) return this.client;
    const fail = (msg: string): CommandFailed =>
      msg.startsWith('Error reading config file')
        ? new CommandFailed(msg, { stream: 'stdout' })
        : command === 'version'
          ? new CommandFailed(msg)
          : new CommandFailed(`Failed to create Calico API client: ${msg}`, { stream: 'stdout' });
    try {
      this.config = loadClientConfig(this.configPath, this.io.env, this.deps.defaultConfigPath);
    } catch (err) {
      throw fail((err as Error).message);
    }
    try {
      this.client = this.deps.connect(this.config);
    } catch (err) {
      throw fail((err as Error).message);
    }
    return this.client;
  }
  /** A failure the version check met and ExecuteConfigCommand reports after reading the input. */
  deferred: unknown;
  /** The client for the command itself: the deferred failure, if any, is reported now. */
  commandClient(): DatastoreClient {
    if (this.deferred !== undefined) throw this.deferred;
    return this.open();
  }
  async close(): Promise<void> {
    await this.client?.close();
  }
}

/**
 * calicoctl's ExecuteConfigCommand order: first the version check, on a client of its own —
 * a missing --config file exits there ("Error reading config file"), any other failure to get
 * a client or to reach the datastore skips the check — then the input (files or arguments) is
 * read and checked, and only then the command's client is created, which reports those
 * failures ("Failed to create Calico API client: ..."). The failure is kept on the session
 * (commandClient() throws it), so an unreachable datastore is tried once.
 */
async function versionCheckFirst(session: Session, deps: CtlDeps, opts: CommonOptions, wrap?: (msg: string) => string): Promise<void> {
  let ds: DatastoreClient;
  try {
    ds = session.open();
  } catch (err) {
    if (err instanceof CommandFailed && err.message.startsWith('Error reading config file')) throw err;
    session.deferred = err;
    return;
  }
  try {
    await checkVersionMismatch(ds, deps, opts, wrap);
  } catch (err) {
    if (!(err instanceof DatastoreUnavailable)) throw err;
    session.deferred = err;
  }
}

/**
 * An unreachable datastore, in Calico's words with ours in brackets. Calico's etcd client
 * gives up on the connection with "context deadline exceeded", which calicoctl's
 * ExecuteConfigCommand prints on stdout as "Failed to create Calico API client: context
 * deadline exceeded" (exit 1) and `version` returns bare (stderr). We say so at the first
 * refused or timed-out request, with the endpoint and the cause.
 */
export function unavailableText(err: DatastoreUnavailable): string {
  return `context deadline exceeded (${err.message}; check the datastore is running, and ETCD_ENDPOINTS or --config)`;
}

function unavailable(err: unknown): CommandFailed | undefined {
  if (err instanceof DatastoreUnavailable) {
    return new CommandFailed(`Failed to create Calico API client: ${unavailableText(err)}`, { stream: 'stdout' });
  }
  return undefined;
}

export async function withSession<T>(io: CtlIO, deps: CtlDeps, configPath: string | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
  const s = new Session(io, deps, configPath);
  try {
    return await fn(s);
  } catch (err) {
    throw unavailable(err) ?? err;
  } finally {
    await s.close();
  }
}

/**
 * calicoctl's CheckVersionMismatch (commands/common/version_mismatch.go): unless
 * --allow-version-mismatch, a cluster whose ClusterInformation names a Calico version other
 * than this client's (compared without a leading "v" and a "-suffix") is refused. No
 * ClusterInformation, or no calicoVersion in it, passes.
 */
export async function checkVersionMismatch(ds: DatastoreClient, deps: CtlDeps, opts: CommonOptions, wrap: (msg: string) => string = (m) => m): Promise<void> {
  if (opts.allowVersionMismatch) return;
  let ci: AnyResource;
  try {
    ci = await ds.resources.get('ClusterInformation', 'default');
  } catch (err) {
    if (err instanceof ResourceNotFound) return;
    if (err instanceof DatastoreUnavailable) throw err;
    throw new CommandFailed(wrap(`unable to get Cluster Information to verify version mismatch: ${(err as Error).message}\nUse --allow-version-mismatch to override`));
  }
  const cluster = String((ci.spec as { calicoVersion?: unknown } | undefined)?.calicoVersion ?? '');
  if (!cluster) return;
  const bare = (v: string): string => v.replace(/^v/, '').split('-')[0]!;
  const client = deps.version?.version ?? 'unknown';
  if (bare(cluster) !== bare(client)) {
    throw new CommandFailed(wrap(`version mismatch.\nClient Version:   ${client}\nCluster Version:  ${bare(cluster)}\nUse --allow-version-mismatch to override`));
  }
}

const PAST: Record<string, string> = { create: 'created', apply: 'applied', replace: 'replaced', delete: 'deleted', validate: 'validated' };

function singleKind(targets: readonly Target[], fromArgs: boolean): string {
  const kinds = new Set(targets.map((t) => t.res.kind));
  return kinds.size === 1 || fromArgs ? (targets[0]?.res.kind ?? '') : '';
}

function validated(res: AnyResource, ctx: ErrorContext): AnyResource {
  try {
    assertValid(res, ctx);
  } catch (err) {
    if (err instanceof ModelError) {
      // Calico's validator words ("error with field PeerIP = 'x' (...)"), then where.
      const unknownField = err.fieldErrors.find((f) => f.code === 'unknown-field');
      if (unknownField) {
        // MassageError (commands/command.go) replaces Go's strict-decoder error with this.
        const field = /unknown field "([^"]+)"/.exec(unknownField.message)?.[1] ?? unknownField.path;
        throw new Error(`field in document is not recognized or is in the wrong location: ${field} (${oneLine(err.message)})`);
      }
      const calico = calicoFieldErrors(res, err.fieldErrors);
      const head = err.message.endsWith(err.detail) ? err.message.slice(0, err.message.length - err.detail.length) : `${err.message}: `;
      if (calico) throw new Error(oneLine(`${head}${calico}`));
      throw new Error(oneLine(err.message));
    }
    throw err;
  }
  return res;
}

/** validate: decode and check every resource offline, as calicoctl validate does. */
export async function runValidate(io: CtlIO, opts: CommonOptions): Promise<void> {
  if (!opts.filename) throw new CommandFailed('no resources specified: calicoctl validate needs -f FILENAME (a file, a directory or - for stdin)');
  const targets = await loadFromFiles(io, opts, 'validate', false);
  if (targets.length === 0) {
    io.out('No resources specified\n');
    return;
  }
  const errs: Error[] = [];
  let handled = 0;
  for (const t of targets) {
    try {
      validated(t.res, t.ctx);
      handled++;
    } catch (err) {
      errs.push(err as Error);
    }
  }
  report(io, 'validate', targets.length, handled, errs, singleKind(targets, false));
}

/** create / apply / replace. */
export async function runWrite(io: CtlIO, deps: CtlDeps, action: 'create' | 'apply' | 'replace', opts: CommonOptions & { skipExists?: boolean }): Promise<void> {
  if (!opts.filename) throw new CommandFailed(`no resources specified: calicoctl ${action} needs -f FILENAME (a file, a directory or - for stdin)`);
  await withSession(io, deps, opts.config, async (session) => {
    await versionCheckFirst(session, deps, opts);
    const targets = await loadFromFiles(io, opts, action, false);
    const ds = session.commandClient();
    if (targets.length === 0) {
      io.out('No resources specified\n');
      return;
    }
    const kind = singleKind(targets, false);
    try {
      await ds.resources.ensureInitialized();
    } catch (err) {
      const u = unavailable(err);
      if (u) throw u;
      // like calicoctl: a failure to initialise does not fail the user's command
    }
    const errs: Error[] = [];
    let handled = 0;
    let lastErr: Error | undefined;
    for (const t of targets) {
      const info = lookupKind(t.res.kind)!;
      let namespaced = false;
      try {
        handleNamespace(t, info, opts);
        namespaced = true;
        if (info.kind === 'ClusterInformation') {
          // calicoctl's resourcemgr: ClusterInformation is calico-node's to manage.
          if (action === 'create') throw new Error('operation create or apply is not supported on ClusterInformation');
          if (action === 'apply') throw new Error('operation apply is not supported on ClusterInformation: resource is readonly');
          await ds.resources.get('ClusterInformation', t.res.metadata.name ?? '');
          throw new Error('operation apply or replace is not supported on ClusterInformation');
        }
        if (isKubernetesPolicyName(t.res)) {
          // resourcemgr/networkpolicy.go: names under knp.default. belong to Kubernetes
          // NetworkPolicies. create is refused; apply and replace go on to the update, which
          // first needs the (Calico-written) policy to exist.
          if (action === 'create') throw new Error(kubernetesPolicyRefusal('create or apply', t.res));
          await ds.resources.get(info.kind, t.res.metadata.name ?? '', t.res.metadata.namespace);
          throw new Error(kubernetesPolicyRefusal('apply or replace', t.res));
        }
        const res = validated(t.res, { ...t.ctx, namespace: t.res.metadata.namespace });
        if (action === 'create') await ds.resources.create(forCreate(res));
        else if (action === 'apply') await ds.resources.apply(res);
        else await ds.resources.replace(res);
        handled++;
      } catch (err) {
        const u = unavailable(err);
        if (u) throw u;
        if (err instanceof ResourceAlreadyExists && opts.skipExists) {
          handled++;
          continue;
        }
        if (action === 'replace') {
          // calicoctl's ExecuteConfigCommand goes on after a failed update, keeps the last
          // error, and counts the resource as handled unless its namespace was refused.
          lastErr = err as Error;
          if (namespaced) handled++;
          continue;
        }
        errs.push(err as Error);
      }
    }
    if (action === 'replace') reportReplace(io, targets.length, handled, lastErr, kind);
    else report(io, action, targets.length, handled, errs, kind);
  });
}

/** create / apply / validate results, as calicoctl's createOrApplyOrValidate prints them. */
function report(io: CtlIO, action: string, total: number, handled: number, errs: Error[], kind: string): void {
  const past = PAST[action]!;
  if (handled === 0) {
    if (total === 1) throw new CommandFailed(`failed to ${action} '${kind}' resource: ${errList(errs)}`);
    if (kind) throw new CommandFailed(`failed to ${action} any '${kind}' resources: ${errList(errs)}`);
    throw new CommandFailed(`failed to ${action} any resources: ${errList(errs)}`);
  }
  if (errs.length === 0) {
    io.out(kind ? `Successfully ${past} ${handled} '${kind}' resource(s)\n` : `Successfully ${past} ${handled} resource(s)\n`);
    return;
  }
  // calicoctl prints the "Partial success" line only while successes outnumber failures.
  if (handled - errs.length > 0) {
    io.out(kind ? `Partial success: ${past} the first ${handled} out of ${total} '${kind}' resources:\n` : `Partial success: ${past} the first ${handled} out of ${total} resources:\n`);
  }
  throw new CommandFailed(`hit error: ${errList(errs)}`);
}

/** replace results, as calicoctl's reportReplaceResults prints them (the last error only). */
function reportReplace(io: CtlIO, total: number, handled: number, err: Error | undefined, kind: string): void {
  if (handled === 0) {
    const msg = err?.message ?? '<nil>';
    if (total === 1) throw new CommandFailed(`failed to replace '${kind}' resource: ${msg}`);
    if (kind) throw new CommandFailed(`failed to replace any '${kind}' resources: ${msg}`);
    throw new CommandFailed(`failed to replace any resources: ${msg}`);
  }
  if (!err) {
    io.out(kind ? `Successfully replaced ${handled} '${kind}' resource(s)\n` : `Successfully replaced ${handled} resource(s)\n`);
    return;
  }
  io.out(kind ? `Partial success: replaced the first ${handled} out of ${total} '${kind}' resources:\n` : `Partial success: replaced the first ${handled} out of ${total} resources:\n`);
  throw new CommandFailed(`hit error: ${err.message}`);
}

/** delete by file or by kind and names. */
export async function runDelete(io: CtlIO, deps: CtlDeps, kindArg: string | undefined, names: string[], opts: CommonOptions & { skipNotExists?: boolean }): Promise<void> {
  const fromFile = !!opts.filename;
  await withSession(io, deps, opts.config, async (session) => {
    await versionCheckFirst(session, deps, opts);
    // Without names calicoctl still deletes one resource of the kind, with an empty name (which
    // never exists): "resource does not exist: IPPool() with error: <nil>".
    const targets = fromFile ? await loadFromFiles(io, opts, 'delete', false) : fromArgs(kindArg, names, undefined, true);
    if (targets.length === 0) throw new CommandFailed('no resources specified');
    const ds = session.commandClient();
    const kind = singleKind(targets, !fromFile);
    const errs: Error[] = [];
    let handled = 0;
    for (const t of targets) {
      const info = lookupKind(t.res.kind)!;
      try {
        handleNamespace(t, info, opts);
        if (info.kind === 'ClusterInformation') throw new Error('operation delete is not supported on ClusterInformation');
        if (isKubernetesPolicyName(t.res)) throw new Error(kubernetesPolicyRefusal('delete', t.res));
        const m = t.res.metadata;
        if (!m.name) throw new ResourceNotFound(`${info.kind}(${info.namespaced ? `${m.namespace ?? ''}/` : ''})`);
        await ds.resources.delete(info.kind, m.name, m.namespace, m.resourceVersion ? { resourceVersion: m.resourceVersion } : undefined);
        handled++;
      } catch (err) {
        const u = unavailable(err);
        if (u) throw u;
        if (err instanceof ResourceNotFound && opts.skipNotExists) {
          handled++;
          continue;
        }
        errs.push(err as Error);
      }
    }
    if (handled > 0) io.out(kind ? `Successfully deleted ${handled} '${kind}' resource(s)\n` : `Successfully deleted ${handled} resource(s)\n`);
    if (errs.length) {
      // Each line ends in a newline and calicoctl's main adds one more (Fprintln).
      throw new CommandFailed(errs.map((e) => (kind ? `Failed to delete '${kind}' resource: ${e.message}\n` : `Failed to delete resource: ${e.message}\n`)).join('') + '\n');
    }
  });
}

export interface GetOptions extends CommonOptions {
  output?: string;
  export?: boolean;
}

type Printed = { list: true; kind: string; items: AnyResource[]; revision: number } | { list: false; res: AnyResource };

/** Parses -o before touching the datastore (calicoctl's buildResourcePrinter). */
export function parseOutput(output: string): { type: 'yaml' | 'json' | 'ps' | 'wide' | 'custom' | 'template'; columns?: string[]; template?: string } {
  switch (output) {
    case 'yaml':
    case 'yml':
      return { type: 'yaml' };
    case 'json':
      return { type: 'json' };
    case 'ps':
      return { type: 'ps' };
    case 'wide':
      return { type: 'wide' };
  }
  const eq = output.indexOf('=');
  const key = eq < 0 ? output : output.slice(0, eq);
  const value = eq < 0 ? '' : output.slice(eq + 1);
  switch (key) {
    case 'go-template':
      if (!value) throw new CommandFailed('need to specify a template');
      return { type: 'template', template: value };
    case 'go-template-file': {
      if (!value) throw new CommandFailed('need to specify a template file');
      try {
        return { type: 'template', template: readFileSync(value, 'utf8') };
      } catch (err) {
        throw new CommandFailed((err as Error).message);
      }
    }
    case 'custom-columns':
      if (!value) throw new CommandFailed('need to specify at least one column');
      return { type: 'custom', columns: value.split(',') };
  }
  throw new CommandFailed(`unrecognized output format '${output}'`);
}

function exportStrip(res: AnyResource): AnyResource {
  const m = { ...res.metadata };
  delete m.namespace;
  delete m.uid;
  delete m.resourceVersion;
  delete m.creationTimestamp;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  return { ...res, metadata: m };
}

export async function runGet(io: CtlIO, deps: CtlDeps, kindArg: string | undefined, names: string[], opts: GetOptions): Promise<void> {
  const fmt = parseOutput(opts.output ?? 'ps');
  let tpl: ((data: unknown) => string) | undefined;
  if (fmt.type === 'template') {
    try {
      tpl = compileTemplate(fmt.template!);
    } catch (err) {
      throw new CommandFailed(`template: ${(err as Error).message}`);
    }
  }
  const fromFile = !!opts.filename;
  const printNamespace = (opts.allNamespaces ?? false) || !!opts.namespace;
  await withSession(io, deps, opts.config, async (session) => {
    await versionCheckFirst(session, deps, opts, (m) => `failed to get resources: ${m}`);
    let targets: Target[];
    try {
      targets = fromFile ? await loadFromFiles(io, opts, 'get', false) : fromArgs(kindArg, names, undefined, true);
    } catch (err) {
      if (err instanceof CommandFailed && !fromFile) throw new CommandFailed(`failed to get resources: ${err.message}`);
      throw err;
    }
    const ds = session.commandClient();
    const printed: Printed[] = [];
    const errs: Error[] = [];
    for (const t of targets) {
      const info = lookupKind(t.res.kind)!;
      try {
        handleNamespace(t, info, opts);
        const m = t.res.metadata;
        if (m.name) {
          if (info.namespaced && !m.namespace) throw new Error('cannot use --all-namespace flag for getting a single resource');
          // A resourceVersion in the input (get -f) reads the resource as it was at that revision.
          const res = await ds.resources.get(info.kind, m.name, m.namespace, readRevision(m.resourceVersion));
          printed.push({ list: false, res: opts.export && names.length ? exportStrip(res) : res });
        } else {
          const l = await ds.resources.list(info.kind, m.namespace ? { namespace: m.namespace } : {});
          // calicoctl's tier lister sorts by order, tiers without one last (resourcemgr/tier.go).
          const items = info.kind === 'Tier' ? sortTiers(l.items) : l.items;
          printed.push({ list: true, kind: info.kind, items, revision: l.revision });
        }
      } catch (err) {
        const u = unavailable(err);
        if (u) throw u;
        errs.push(err as Error);
      }
    }
    const asObjects = (): unknown[] => printed.map((p) => (p.list ? toList(p.kind, p.items, String(p.revision)) : p.res));
    if (fmt.type === 'yaml' || fmt.type === 'json') {
      const objs = asObjects();
      // calicoctl marshals its result slice: one object alone, several as a list, none (only
      // errors) as Go's nil slice, which prints "null".
      io.out(encodeOutput(goShape(objs.length === 1 ? objs[0] : objs.length ? objs : null), fmt.type));
    } else if (fmt.type === 'template') {
      try {
        io.out(tpl!(asObjects()));
      } catch (err) {
        throw new CommandFailed(`template: ${(err as Error).message}`);
      }
    } else {
      const tableOpts = {
        wide: fmt.type === 'wide',
        ...(fmt.columns ? { columns: fmt.columns } : {}),
        printNamespace: fmt.type !== 'custom' && printNamespace,
      };
      let asn: string | undefined;
      if (printed.some((p) => needsAsNumber(p.list ? p.kind : p.res.kind, tableOpts))) {
        try {
          const bgp = await ds.resources.get('BGPConfiguration', 'default');
          asn = bgp.spec?.asNumber !== undefined ? String(bgp.spec.asNumber) : '64512';
        } catch (err) {
          asn = err instanceof ResourceNotFound ? '64512' : 'unknown';
        }
      }
      const ctx = { asNumber: () => asn ?? '64512' };
      let text = '';
      try {
        for (const p of printed) text += p.list ? renderTable(p.kind, p.items, tableOpts, ctx) : renderTable(p.res.kind, [p.res], tableOpts, ctx);
      } catch (err) {
        throw new CommandFailed((err as Error).message);
      }
      io.out(text);
    }
    if (errs.length) throw new CommandFailed(errs.map((e) => e.message).join('\n'));
  });
}

/** calicoctl patch KIND NAME -p PATCH. */
export async function runPatch(io: CtlIO, deps: CtlDeps, kindArg: string, name: string, opts: CommonOptions & { patch?: string; type?: string }): Promise<void> {
  const [target] = fromArgs(kindArg, [name], undefined, false);
  if (!opts.patch) throw new CommandFailed('no patch specified: use -p/--patch with a JSON merge patch, e.g. -p \'{"spec":{"natOutgoing":true}}\'');
  // calicoctl reads --type but always applies a strategic merge patch (resourcemgr.Patch);
  // for Calico's types that is a JSON merge patch, whatever the type says.
  let patch;
  try {
    patch = parsePatch(opts.patch);
  } catch (err) {
    throw new CommandFailed(`hit error: ${(err as Error).message}`);
  }
  const kind = target!.res.kind;
  await withSession(io, deps, opts.config, async (session) => {
    const ds = session.open();
    await checkVersionMismatch(ds, deps, opts);
    const info = lookupKind(kind)!;
    try {
      handleNamespace(target!, info, opts);
      const current = await ds.resources.get(kind, name, target!.res.metadata.namespace);
      const patched = patchResource(current, patch);
      validated(patched, { kind, name, action: 'patch', ...(patched.metadata.namespace ? { namespace: patched.metadata.namespace } : {}) });
      try {
        await ds.resources.update(patched);
      } catch (err) {
        if (err instanceof DatastoreUnavailable) throw err;
        throw new Error(`updating existing resource: ${(err as Error).message}`);
      }
    } catch (err) {
      const u = unavailable(err);
      if (u) throw u;
      throw new CommandFailed(`hit error: ${(err as Error).message}`);
    }
    io.out(`Successfully patched 1 '${kind}' resource\n`);
  });
}

/** calicoctl label KIND NAME key=value | key --remove [--overwrite]. */
export async function runLabel(
  io: CtlIO,
  deps: CtlDeps,
  kindArg: string,
  name: string,
  labelArg: string,
  opts: CommonOptions & { overwrite?: boolean; remove?: boolean },
): Promise<void> {
  // label_command.go: the key=value argument is checked first, then the resource is fetched.
  if (!opts.remove && !labelArg.includes('=')) throw new CommandFailed(`invalid label ${labelArg}`);
  await withSession(io, deps, opts.config, async (session) => {
    // its get goes through ExecuteConfigCommand: the version check, then the arguments
    await versionCheckFirst(session, deps, opts, (m) => `failed to get ${kindArg} ${name}, error ${m}`);
    let target: Target | undefined;
    try {
      [target] = fromArgs(kindArg, [name], undefined, false);
      if (name === '') throw new CommandFailed('resource name may not be empty');
    } catch (err) {
      throw new CommandFailed(`failed to get ${kindArg} ${name}, error ${(err as Error).message}`);
    }
    const kind = target!.res.kind;
    const ds = session.commandClient();
    const info = lookupKind(kind)!;
    let current: AnyResource;
    try {
      handleNamespace(target!, info, opts);
      current = await ds.resources.get(kind, name, target!.res.metadata.namespace);
    } catch (err) {
      const u = unavailable(err);
      if (u) throw u;
      // calicoctl's label runs a get whose per-resource errors leave no result: "<kind> <name> not found".
      throw new CommandFailed(`${kindArg} ${name} not found`);
    }
    let change;
    try {
      change = changeLabels(current.metadata.labels, labelArg, { kind: kindArg, name, ...(opts.remove ? { remove: true } : {}), ...(opts.overwrite ? { overwrite: true } : {}) });
    } catch (err) {
      throw new CommandFailed((err as Error).message);
    }
    const updated: AnyResource = { ...current, metadata: { ...current.metadata, labels: change.labels } };
    if (Object.keys(change.labels).length === 0) delete updated.metadata.labels;
    try {
      validated(updated, { kind, name, action: 'label' });
      await ds.resources.update(updated);
    } catch (err) {
      const u = unavailable(err);
      if (u) throw u;
      // calicoctl's words, without the cause (label_command.go).
      throw new CommandFailed(`failed to update ${kindArg} ${name}, label not changed`);
    }
    if (change.outcome === 'removed') io.out(`Successfully removed label ${change.key} from ${kindArg} ${name}\n`);
    else if (change.outcome === 'updated') io.out(`Successfully updated label ${change.key} on ${kindArg} ${name}\n`);
    else io.out(`Successfully set label ${change.key} on ${kindArg} ${name}\n`);
  });
}

/** calicoctl version [--client]. */
export async function runVersion(io: CtlIO, deps: CtlDeps, opts: { config?: string; client?: boolean; poll?: string }): Promise<void> {
  let pollMs = 0;
  if (opts.poll !== undefined && opts.poll !== '') {
    const ns = parseGoDuration(opts.poll);
    if (ns === undefined) throw new CommandFailed(`invalid poll duration specified: ${opts.poll}`);
    pollMs = Number(ns / 1_000_000n);
  }
  const v = deps.version ?? { version: 'unknown', gitCommit: 'unknown' };
  io.out(`Client Version:    ${v.version}\n`);
  io.out(`Git commit:        ${v.gitCommit}\n`);
  if (opts.client) return;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  await withSession(io, deps, opts.config, async (session) => {
    const ds = session.open('version');
    // calicoctl version --poll: print the cluster's version and type again whenever they change.
    let shownVersion = '';
    let shownType = '';
    for (;;) {
      let failure: CommandFailed | undefined;
      try {
        const ci = await ds.resources.get('ClusterInformation', 'default');
        const ver = String(ci.spec?.calicoVersion || 'unknown');
        const type = String(ci.spec?.clusterType || 'unknown');
        if (ver !== shownVersion) io.out(`Cluster Version:   ${ver}\n`);
        if (type !== shownType) io.out(`Cluster Type:      ${type}\n`);
        shownVersion = ver;
        shownType = type;
      } catch (err) {
        // An unreachable datastore fails `version` with the client's bare error (stderr).
        if (err instanceof DatastoreUnavailable && pollMs <= 0) throw new CommandFailed(unavailableText(err));
        failure = new CommandFailed(`unable to retrieve Cluster Version or Type: ${(err as Error).message}`);
        shownVersion = '';
        shownType = '';
      }
      if (pollMs <= 0) {
        if (failure) throw failure;
        return;
      }
      if (failure) io.err(`${failure.message}\n`);
      await sleep(pollMs);
    }
  });
}

/** Every kind calicoctl manages, for help text. */
export function calicoctlKinds(): string[] {
  return Object.values(KINDS).filter((k) => k.calicoctl).map((k) => k.kind);
}
