// Demo: Calico's selector language — canonical form and unique id, matching (absent-label
// semantics included), parse errors with positions, and the incremental label index.
import { LabelIndex, SelectorParseError, parseSelector } from '../../src/selector/index.ts';

export const title = 'selector: Calico label selectors — parse, canonical form/id, match, errors, label index';

const endpoints: Record<string, Record<string, string>> = {
  'web-1': { app: 'web', env: 'prod', tier: 'frontend' },
  'web-2': { app: 'web', env: 'staging', tier: 'frontend' },
  'db-1': { app: 'db', env: 'prod', tier: 'backend', 'pci-scope': '' },
  'batch-1': { app: 'batch' },
};

export async function run(): Promise<void> {
  const texts = [
    '',
    `app=='web'&&env in {"staging","prod","prod"}`,
    '!  has(pci-scope) || tier != "backend"',
    'env != "prod"',
    'app starts with "we" && !env == "staging"',
  ];
  for (const text of texts) {
    const sel = parseSelector(text);
    const hits = Object.keys(endpoints).filter((id) => sel.matches(endpoints[id]!));
    console.log(`${JSON.stringify(text)}`);
    console.log(`   canonical ${sel.canonical}   id ${sel.uniqueId}`);
    console.log(`   keys [${sel.labelKeys.join(', ')}]   matches: ${hits.join(', ') || '(none)'}`);
  }
  console.log('\n(env != "prod" matches batch-1, which has no env label: != and "not in" match absent labels)\n');

  for (const bad of ['app == "web" && && env == "prod"', 'app = "web"', 'has(app', 'app == "web"\n']) {
    try {
      parseSelector(bad);
      console.log(`${JSON.stringify(bad)} unexpectedly parsed`);
    } catch (err) {
      if (!(err instanceof SelectorParseError)) throw err;
      console.log(`${JSON.stringify(bad)}\n   ${err.code} at ${err.position}: ${err.message}`);
    }
  }

  console.log('\nlabel index (endpoints inherit namespace labels through a parent):');
  const idx = new LabelIndex<string, string>({
    onMatchStarted: (s, i) => console.log(`   + ${s} now matches ${i}`),
    onMatchStopped: (s, i) => console.log(`   - ${s} no longer matches ${i}`),
  });
  idx.updateSelector('prod-web', 'app == "web" && env == "prod"');
  idx.updateSelector('team-a', 'pcns.team == "a"');
  for (const [id, labels] of Object.entries(endpoints)) idx.updateItem(id, labels, ['ns-shop']);
  console.log('   namespace ns-shop gets team=a:');
  idx.updateParent('ns-shop', { 'pcns.team': 'a' });
  console.log('   web-2 is promoted to prod:');
  idx.updateItem('web-2', { ...endpoints['web-2'], env: 'prod' }, ['ns-shop']);
  const st = idx.stats();
  console.log(`   ${st.matches} matching pairs; ${st.evaluations} selector evaluations in all`);
}
