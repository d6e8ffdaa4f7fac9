// A lab of network namespaces with its own calico-datastore (on a unix socket in the lab's
// directory) and a datastore client to it, all cleaned up after the calling test.
import { after } from 'node:test';
import path from 'node:path';
import { Lab } from './netns.ts';
import { startDatastore } from '../datastore-lib/procs.ts';
import { connectDatastore, datastoreConfigFrom } from '../../../src/datastore/index.ts';

export async function labWithDatastore(tag: string) {
  const lab = new Lab(tag);
  after(() => lab.cleanup());
  const ds = await startDatastore({ listen: [`unix://${path.join(lab.dir, 'ds.sock')}`] });
  after(() => ds.cleanup());
  const client = connectDatastore(datastoreConfigFrom({ etcdEndpoints: ds.endpoint }, 'test'));
  after(() => client.close());
  return { lab, ds, client };
}
