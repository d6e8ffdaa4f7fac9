// calicoctl's command line (commander): Calico's commands, flags and messages. runCalicoctl
// is the whole program as a function — argv in, exit code out — so tests run it in-process
// with their own IO and datastore.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { connectDatastore } from '../datastore/index.ts';
import { applyDefaults, type AnyResource } from '../model/index.ts';
import {
  CommandFailed,
  calicoctlKinds,
  runDelete,
  runGet,
  runLabel,
  runPatch,
  runValidate,
  runVersion,
  runWrite,
  type CtlDeps,
  type CtlIO,
} from './commands.ts';
import { DEFAULT_CONFIG_PATH } from './config.ts';
import { runMigrateExport, runMigrateImport, runMigrateLock } from './datastore-migrate.ts';
import { runIpamSplit } from './ipam-split.ts';
import { runIpamConfigure } from './ipam-configure.ts';
import { runIpamShow } from './ipam-show.ts';

/** How long a datastore request may take before calicoctl reports it unreachable. */
export const CALICOCTL_CALL_TIMEOUT_MS = 4_000;

/** The version from package.json and the git commit of the checkout at `root`. */
export function readVersion(root: string = path.resolve(import.meta.dirname, '../..')): { version: string; gitCommit: string } {
  let version = 'unknown';
  let gitCommit = 'unknown';
  try {
    version = `v${(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version}`;
  } catch {
    /* not in a checkout */
  }
  try {
    const head = readFileSync(path.join(root, '.git/HEAD'), 'utf8').trim();
    gitCommit = head.startsWith('ref: ') ? readFileSync(path.join(root, '.git', head.slice(5)), 'utf8').trim() : head;
    gitCommit = gitCommit.slice(0, 12);
  } catch {
    /* no git metadata */
  }
  return { version, gitCommit };
}

export function defaultDeps(root?: string): CtlDeps {
  return {
    connect: (config) =>
      connectDatastore(
        { ...config, callTimeoutMs: config.callTimeoutMs ?? CALICOCTL_CALL_TIMEOUT_MS },
        { prepare: (r: AnyResource) => applyDefaults(r) },
      ),
    defaultConfigPath: DEFAULT_CONFIG_PATH,
    version: readVersion(root),
  };
}

export function processIO(): CtlIO {
  // `calicoctl get ... | head`: a closed pipe ends the output quietly, not with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
  };
}

type Opts = Record<string, unknown>;

// calicoctl's root commands in the order NewCommand adds them (cobra adds help, which it never
// suggests, and completion).
const ROOT_COMMANDS = ['create', 'apply', 'replace', 'delete', 'get', 'patch', 'label', 'validate', 'ipam', 'node', 'datastore', 'cluster', 'version', 'completion'];

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** cobra's findSuggestions: commands within edit distance 2 (ignoring case) or starting with what was typed. */
function suggestFor(typed: string): string {
  const t = typed.toLowerCase();
  const found = ROOT_COMMANDS.filter((c) => c !== typed && (editDistance(t, c) <= 2 || c.startsWith(t)));
  return found.length ? `\n\nDid you mean this?\n${found.map((c) => `\t${c}\n`).join('')}` : '';
}

/**
 * Command-line errors in the words of calicoctl's parser (cobra/pflag): "unknown flag:
 * --foo", "unknown shorthand flag: 'm' in -m", "unknown command \"foo\" for \"calicoctl\"",
 * "flag needs an argument: --filename". Other commander messages pass through.
 */
export function cobraStyle(message: string, argv: readonly string[] = []): string {
  const line = message.trim();
  let m = /^error: unknown option '([^']+)'/.exec(line);
  if (m) {
    const opt = m[1]!;
    if (opt.startsWith('--')) return `unknown flag: ${opt.split('=')[0]}\n`;
    return `unknown shorthand flag: '${opt.charAt(1)}' in ${opt}\n`;
  }
  m = /^error: unknown command '([^']+)'/.exec(line);
  if (m) return `unknown command "${m[1]}" for "calicoctl"${suggestFor(m[1]!)}\n`;
  m = /^error: option '(?:-(\w), )?(--[\w-]+)[^']*' argument missing/.exec(line);
  // pflag names the flag as it was typed: "'o' in -o" for the shorthand.
  if (m) return m[1] && argv.includes(`-${m[1]}`) && !argv.includes(m[2]!) ? `flag needs an argument: '${m[1]}' in -${m[1]}\n` : `flag needs an argument: ${m[2]}\n`;
  return message;
}

function crudFlags(cmd: Command): Command {
  // cobra's default for these commands takes any positional arguments; with -f they are unused.
  return cmd
    .allowExcessArguments(true)
    .option('-f, --filename <filename>', "Filename to use to create/apply/replace/delete the resource. Use '-' for stdin.")
    .option('-R, --recursive', 'Process the filename specified in -f recursively.')
    .option('--skip-empty', 'Do not error if files contain no data.')
    .option('-c, --config <config>', 'Path to the file containing connection configuration in YAML or JSON format.', DEFAULT_CONFIG_PATH)
    .option('-n, --namespace <namespace>', 'Namespace of the resource.');
}

function commonFlags(o: Opts): { filename?: string; recursive?: boolean; skipEmpty?: boolean; config?: string; namespace?: string } {
  return {
    ...(typeof o.filename === 'string' ? { filename: o.filename } : {}),
    ...(o.recursive ? { recursive: true } : {}),
    ...(o.skipEmpty ? { skipEmpty: true } : {}),
    ...(typeof o.config === 'string' && o.config !== DEFAULT_CONFIG_PATH ? { config: o.config } : {}),
    ...(typeof o.namespace === 'string' && o.namespace ? { namespace: o.namespace } : {}),
  };
}

/** Runs calicoctl with `argv` (without the program name); resolves to the exit code. */
export async function runCalicoctl(argv: readonly string[], io: CtlIO = processIO(), deps: CtlDeps = defaultDeps()): Promise<number> {
  const program = new Command('calicoctl')
    .description(
      'The calicoctl command line tool is used to manage Calico network and security policy, to view and manage endpoint configuration.\n' +
        `Resource types: ${calicoctlKinds().join(', ')} (singular, plural or short names).`,
    )
    .option('-l, --log-level <level>', 'Set the log level (panic, fatal, error, warn, info, debug)', 'panic')
    .option('--context <context>', 'The name of the kubeconfig context to use (ignored: calico-ts uses etcd v3)')
    .option('--allow-version-mismatch', 'Allow client and cluster versions mismatch')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(cobraStyle(s, argv)) })
    .showHelpAfterError(false);

  // --allow-version-mismatch is global (cobra persistent flag): every command sees it.
  const common = (o: Opts): ReturnType<typeof commonFlags> & { allowVersionMismatch?: boolean } => ({
    ...commonFlags(o),
    ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}),
  });

  const cfg = (c: Command) =>
    c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(cobraStyle(s, argv)) });

  cfg(crudFlags(program.command('create').description('Create a resource by file, directory or stdin'))
    .option('--skip-exists', 'Skip over resources that already exist.'))
    .action(async (o: Opts) => runWrite(io, deps, 'create', { ...common(o), ...(o.skipExists ? { skipExists: true } : {}) }));

  cfg(crudFlags(program.command('apply').description('Apply a resource by file, directory or stdin')))
    .action(async (o: Opts) => runWrite(io, deps, 'apply', common(o)));

  cfg(crudFlags(program.command('replace').description('Replace a resource by file, directory or stdin')))
    .action(async (o: Opts) => runWrite(io, deps, 'replace', common(o)));

  cfg(crudFlags(program.command('validate').description('Validate a resource by file, directory or stdin without applying it')))
    .action(async (o: Opts) => runValidate(io, common(o)));

  cfg(crudFlags(program.command('delete').description('Delete a resource by file, directory, stdin, or type and name'))
    .argument('[kind]', 'resource type, e.g. ippool')
    .argument('[names...]', 'resource names')
    .option('-s, --skip-not-exists', 'Skip over resources that do not exist.'))
    .action(async (kind: string | undefined, names: string[], o: Opts) =>
      runDelete(io, deps, kind, names, { ...common(o), ...(o.skipNotExists ? { skipNotExists: true } : {}) }));

  cfg(crudFlags(program.command('get').description('Get a resource by file, directory, stdin, or type and name'))
    .argument('[kind]', 'resource type, e.g. ippools')
    .argument('[names...]', 'resource names')
    .option('-o, --output <output>', 'Output format: yaml, json, ps, wide, custom-columns=..., go-template=..., go-template-file=...', 'ps')
    .option('-A, --all-namespaces', 'List the requested object(s) across all namespaces.')
    .addOption(new Option('-a, --all-namespaces-a', 'Alias for --all-namespaces.').hideHelp())
    .option('--export', 'Strip cluster-specific information from the output.'))
    .action(async (kind: string | undefined, names: string[], o: Opts) =>
      runGet(io, deps, kind, names, {
        ...common(o),
        output: String(o.output ?? 'ps'),
        ...(o.allNamespaces || o.allNamespacesA ? { allNamespaces: true } : {}),
        ...(o.export ? { export: true } : {}),
      }));

  cfg(program.command('patch').description('Patch a pre-existing resource in place'))
    .argument('[kind]', 'resource type')
    .argument('[name]', 'resource name')
    .argument('[more...]')
    .option('-c, --config <config>', 'Path to the file containing connection configuration in YAML or JSON format.', DEFAULT_CONFIG_PATH)
    .option('-n, --namespace <namespace>', 'Namespace of the resource.')
    .option('-p, --patch <patch>', 'Spec to use to patch the resource.')
    .option('-t, --type <type>', 'Format of patch type: strategic, json, or merge.', 'strategic')
    .action(async (kind: string | undefined, name: string | undefined, more: string[], o: Opts) => {
      // cobra.ExactArgs(2)
      const n = [kind, name].filter((x) => x !== undefined).length + more.length;
      if (n !== 2) throw new CommandFailed(`accepts 2 arg(s), received ${n}`);
      return runPatch(io, deps, kind!, name!, {
        ...common(o),
        ...(typeof o.patch === 'string' ? { patch: o.patch } : {}),
        ...(typeof o.type === 'string' ? { type: o.type } : {}),
      });
    });

  cfg(program.command('label').description('Add or update labels of resources'))
    .argument('[kind]', 'resource type')
    .argument('[name]', 'resource name')
    .argument('[label]', 'key=value to set, or key with --remove')
    .argument('[more...]')
    .option('-c, --config <config>', 'Path to the file containing connection configuration in YAML or JSON format.', DEFAULT_CONFIG_PATH)
    .option('-n, --namespace <namespace>', 'Namespace of the resource.')
    .option('--overwrite', 'Overwrite the value when the key is already present in labels.')
    .option('--remove', 'Remove the specified key from labels.')
    .action(async (kind: string | undefined, name: string | undefined, label: string | undefined, more: string[], o: Opts) => {
      // cobra.MinimumNArgs(3)
      const n = [kind, name, label].filter((x) => x !== undefined).length + more.length;
      if (n < 3) throw new CommandFailed(`requires at least 3 arg(s), only received ${n}`);
      return runLabel(io, deps, kind!, name!, label!, {
        ...common(o),
        ...(o.overwrite ? { overwrite: true } : {}),
        ...(o.remove ? { remove: true } : {}),
      });
    });

  cfg(program.command('version').description('Display the version of this binary'))
    .option('-c, --config <config>', 'Path to the file containing connection configuration.')
    .option('--poll <duration>', 'Poll for changes to the cluster information at a frequency specified using POLL duration.')
    .option('--client', 'Display the client version only.')
    .action(async (o: Opts) =>
      runVersion(io, deps, {
        ...(typeof o.config === 'string' ? { config: o.config } : {}),
        ...(o.client ? { client: true } : {}),
        ...(typeof o.poll === 'string' ? { poll: o.poll } : {}),
      }));

  // `calicoctl node status`: the local BGP speaker's peers, as Calico prints them (src/bgp/calico).
  const nodeCmd = cfg(program.command('node').description('Calico node management'));
  cfg(nodeCmd.command('status').description('Print the status of the Calico node and its BGP peers'))
    .option('--socket <path>', 'the BGP speaker status socket (default $CALICO_BGP_STATUS_SOCKET or /var/run/calico/calico-bgp.sock)')
    .action(async (o: Opts) => {
      const text = await (await (await import('../bgp/index.ts')).loadCalico()).nodeStatus(typeof o.socket === 'string' ? o.socket : undefined);
      if (text.startsWith('Calico process is not running')) throw new CommandFailed(text);
      io.out(text);
    });

  // `calicoctl datastore migrate ...`: lock/unlock on etcd; import needs a Kubernetes datastore.
  const datastoreCmd = cfg(program.command('datastore').description('Calico datastore management'));
  const migrateCmd = cfg(datastoreCmd.command('migrate').description('Migrate the contents of an etcdv3 datastore to a Kubernetes datastore'));
  const configOpt = (c: Command): Command => c.option('-c, --config <config>', 'Path to the file containing connection configuration in YAML or JSON format.', DEFAULT_CONFIG_PATH);
  const configOf = (o: Opts): { config?: string } => (typeof o.config === 'string' && o.config !== DEFAULT_CONFIG_PATH ? { config: o.config } : {});
  cfg(configOpt(migrateCmd.command('import').description('Store and convert yaml of resources into the Kubernetes datastore'))
    .option('-f, --filename <filename>', 'Filename to use to import resources.'))
    .action(async (o: Opts) => runMigrateImport(io, deps, { ...configOf(o), ...(typeof o.filename === 'string' ? { filename: o.filename } : {}) }));
  cfg(configOpt(migrateCmd.command('export').description('Export the contents of the etcdv3 datastore to yaml')))
    .action(async (o: Opts) => runMigrateExport(io, deps, { ...configOf(o), ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}) }));
  for (const [name, lock, text] of [['lock', true, 'Lock the datastore to prevent changes during migration'], ['unlock', false, 'Unlock the datastore to allow changes after migration']] as const) {
    cfg(configOpt(migrateCmd.command(name).description(text)))
      .action(async (o: Opts) => runMigrateLock(io, deps, lock, { ...configOf(o), ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}) }));
  }

  // `calicoctl ipam split`; Calico's other ipam commands and `cluster` need IPAM inspection and
  // diagnostics calico-ts does not have yet.
  const ipamCmd = cfg(program.command('ipam').description('IP address management'));
  cfg(configOpt(ipamCmd.command('split').description('Split an IP pool into the specified number of smaller IP pools')))
    .argument('[number]')
    .argument('[more...]')
    .option('--cidr <cidr>', 'CIDR of the IP pool to split.')
    .option('--name <name>', 'Name of the IP pool to split.')
    .action(async (n: string | undefined, more: string[], o: Opts) => {
      // cobra.ExactArgs(1)
      const count = (n === undefined ? 0 : 1) + more.length;
      if (count !== 1) throw new CommandFailed(`accepts 1 arg(s), received ${count}`);
      return runIpamSplit(io, deps, n!, {
        ...configOf(o),
        ...(typeof o.cidr === 'string' ? { cidr: o.cidr } : {}),
        ...(typeof o.name === 'string' ? { name: o.name } : {}),
        ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}),
      });
    });
  const notImplemented = (c: Command, what: string): void => {
    c.allowUnknownOption().allowExcessArguments().action(() => {
      throw new CommandFailed(`calicoctl ${what} is not implemented in calico-ts`);
    });
  };
  cfg(configOpt(ipamCmd.command('configure').description('Configure IPAM')))
    .option('--strictaffinity <value>', 'Set StrictAffinity to true/false.')
    .option('--max-blocks-per-host <n>', 'Set the maximum number of blocks that can be affine to a host.')
    .option('--kubevirt-ip-persistence <mode>', 'Control whether KubeVirt VMs retain persistent IP addresses (Enabled|Disabled).')
    .option('--ip-cooldown-seconds <n>', 'Set the minimum time between release and re-allocation of an IP address.')
    .action(async (o: Opts) =>
      runIpamConfigure(io, deps, {
        ...configOf(o),
        ...(typeof o.strictaffinity === 'string' ? { strictAffinity: o.strictaffinity } : {}),
        ...(typeof o.maxBlocksPerHost === 'string' ? { maxBlocksPerHost: o.maxBlocksPerHost } : {}),
        ...(typeof o.kubevirtIpPersistence === 'string' ? { kubeVirtIpPersistence: o.kubevirtIpPersistence } : {}),
        ...(typeof o.ipCooldownSeconds === 'string' ? { ipCooldownSeconds: o.ipCooldownSeconds } : {}),
        ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}),
      }));
  cfg(configOpt(ipamCmd.command('show').description('Show details of a Calico assigned IP address or overall IP usage')))
    .option('--ip <ip>', 'Report whether this specific IP address is in use.')
    .option('--show-blocks', 'Show detailed information for IP blocks as well as pools.')
    .option('--show-borrowed', 'Show detailed information for borrowed IP addresses.')
    .option('--show-configuration', 'Show current Calico IPAM configuration.')
    .action(async (o: Opts) =>
      runIpamShow(io, deps, {
        ...configOf(o),
        ...(typeof o.ip === 'string' ? { ip: o.ip } : {}),
        ...(o.showBlocks ? { showBlocks: true } : {}),
        ...(o.showBorrowed ? { showBorrowed: true } : {}),
        ...(o.showConfiguration ? { showConfiguration: true } : {}),
        ...(program.opts().allowVersionMismatch ? { allowVersionMismatch: true } : {}),
      }));
  for (const [name, text] of [['check', 'Check the integrity of the IPAM datastructures'], ['release', 'Release a Calico assigned IP address']] as const) {
    notImplemented(cfg(ipamCmd.command(name).description(`${text} (not implemented in calico-ts)`)), `ipam ${name}`);
  }
  notImplemented(cfg(program.command('cluster').description('Access cluster information (not implemented in calico-ts)')), 'cluster');

  program.hook('preAction', () => {
    // cobra's PersistentPreRunE parses the level with logrus.ParseLevel.
    const level = String(program.opts().logLevel ?? 'panic');
    if (!['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'].includes(level.toLowerCase())) {
      throw new CommandFailed(`unknown log level: ${level}, expected one of: panic, fatal, error, warn, info, debug`);
    }
  });

  // cobra prints a command group's help (stdout, exit 0) when it is run without a subcommand.
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return 0;
  }
  // ... and so does a group of subcommands (node, datastore, datastore migrate).
  const groups: [readonly string[], Command][] = [[['node'], nodeCmd], [['datastore'], datastoreCmd], [['datastore', 'migrate'], migrateCmd], [['ipam'], ipamCmd]];
  // cobra also shows a group's help, exit 0, for a word under it that names no subcommand
  // (only the root reports unknown commands): `calicoctl node foo`.
  for (const [path, cmd] of [...groups].reverse()) {
    if (!path.every((p, i) => argv[i] === p)) continue;
    const next = argv[path.length];
    if (next === undefined || (!next.startsWith('-') && !cmd.commands.some((c) => c.name() === next || c.aliases().includes(next)))) {
      io.out(cmd.helpInformation());
      return 0;
    }
    break;
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help text)
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof CommandFailed) {
      (err.stream === 'stdout' ? io.out : io.err)(err.message.endsWith('\n') ? err.message : err.message + '\n');
      return 1;
    }
    const e = err as Error;
    io.err(`calicoctl: ${e?.message ?? String(err)}\n`);
    return 1;
  }
}
