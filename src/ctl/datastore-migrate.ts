// calicoctl datastore migrate {import,lock,unlock} (calicoctl/commands/datastore/migrate): the
// parts that make sense on an etcd v3 datastore. lock and unlock flip ClusterInformation
// `default`'s spec.datastoreReady (false: components treat the datastore as locked); import
// moves an export into a Kubernetes datastore, which calico-ts does not have, so it is refused
// with calicoctl's words for an etcdv3 target. Errors come back bare (cobra prints them on
// stderr), after the version check for lock and unlock; import skips that check.
import { DatastoreUnavailable, type DatastoreClient } from '../datastore/index.ts';
import type { AnyResource } from '../model/index.ts';
import { CommandFailed, checkVersionMismatch, unavailableText, withSession, type CtlDeps, type CtlIO } from './commands.ts';

function cause(err: unknown): string {
  return err instanceof DatastoreUnavailable ? unavailableText(err) : (err as Error).message;
}

/** `datastore migrate import -f F`: only a Kubernetes datastore can be imported into. */
export async function runMigrateImport(io: CtlIO, deps: CtlDeps, opts: { config?: string; filename?: string }): Promise<void> {
  await withSession(io, deps, opts.config, async (session) => {
    session.open('version');
    const type = session.config?.datastoreType ?? 'etcdv3';
    throw new CommandFailed(`invalid datastore type: ${type} to import to for datastore migration. Datastore type must be kubernetes`);
  });
}

/** `datastore migrate lock` / `unlock`: datastoreReady false / true on ClusterInformation default. */
export async function runMigrateLock(io: CtlIO, deps: CtlDeps, lock: boolean, opts: { config?: string; allowVersionMismatch?: boolean }): Promise<void> {
  const what = lock ? 'locking' : 'unlocking';
  await withSession(io, deps, opts.config, async (session) => {
    const ds: DatastoreClient = session.open('version');
    try {
      await checkVersionMismatch(ds, deps, opts);
    } catch (err) {
      if (err instanceof DatastoreUnavailable) throw new CommandFailed(`unable to get Cluster Information to verify version mismatch: ${unavailableText(err)}\nUse --allow-version-mismatch to override`);
      throw err;
    }
    if (lock) {
      try {
        await ds.resources.ensureInitialized();
      } catch (err) {
        throw new CommandFailed(`unable to initialize cluster information for the datastore migration: ${cause(err)}`);
      }
    }
    let ci: AnyResource;
    try {
      ci = await ds.resources.get('ClusterInformation', 'default');
    } catch (err) {
      throw new CommandFailed(`error retrieving ClusterInformation for ${what}: ${cause(err)}`);
    }
    try {
      await ds.resources.update({ ...ci, spec: { ...(ci.spec ?? {}), datastoreReady: !lock } } as AnyResource);
    } catch (err) {
      throw new CommandFailed(`error updating ClusterInformation for ${what}: ${cause(err)}`);
    }
    io.out(lock ? 'Datastore locked.\n' : 'Datastore unlocked.\n');
  });
}
