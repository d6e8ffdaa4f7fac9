// Steps calicoctl's datastore and ipam commands share (commands/datastore/migrate, commands/ipam):
// the client with its version check, the datastore lock check, and errors as those commands
// return them (bare, on stderr).
import { DatastoreUnavailable, type DatastoreClient } from '../datastore/index.ts';
import type { AnyResource } from '../model/index.ts';
import { CommandFailed, checkVersionMismatch, unavailableText, type CtlDeps } from './commands.ts';

/** An error's text, an unreachable datastore in Calico's words. */
export function cause(err: unknown): string {
  return err instanceof DatastoreUnavailable ? unavailableText(err) : (err as Error).message;
}

interface Session {
  open(command: 'config' | 'version'): DatastoreClient;
}

/** clientmgr.NewClient after common.CheckVersionMismatch, as these commands do it. */
export async function checkedClient(session: Session, deps: CtlDeps, opts: { allowVersionMismatch?: boolean }): Promise<DatastoreClient> {
  const ds = session.open('version');
  try {
    await checkVersionMismatch(ds, deps, opts);
  } catch (err) {
    if (err instanceof DatastoreUnavailable) throw new CommandFailed(`unable to get Cluster Information to verify version mismatch: ${unavailableText(err)}\nUse --allow-version-mismatch to override`);
    throw err;
  }
  return ds;
}

/** common.CheckLocked: the datastore is locked while ClusterInformation says it is not ready. */
export async function requireLocked(ds: DatastoreClient, notLocked: string): Promise<void> {
  let ci: AnyResource;
  try {
    ci = await ds.resources.get('ClusterInformation', 'default');
  } catch (err) {
    throw new CommandFailed(`error while checking if datastore was locked: error retrieving ClusterInformation: ${cause(err)}`);
  }
  if ((ci.spec as { datastoreReady?: unknown } | undefined)?.datastoreReady !== false) throw new CommandFailed(notLocked);
}
