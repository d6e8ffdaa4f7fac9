import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, goString } from './template.ts';

const data = [{
  apiVersion: 'projectcalico.org/v3', kind: 'IPPoolList', metadata: { resourceVersion: '9' },
  items: [
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { cidr: '198.18.0.0/24', natOutgoing: true } },
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'b' }, spec: { cidr: 'fd00:198:18::/64' } },
  ],
}];
const run = (t: string) => compileTemplate(t)(data);

void test('fields by JSON name or Go field name, root list convenience', () => {
  assert.equal(run('{{range .items}}{{.metadata.name}} {{end}}'), 'a b ');
  assert.equal(run('{{range .}}{{range .Items}}{{.ObjectMeta.Name}}/{{.Name}}/{{.Spec.CIDR}};{{end}}{{end}}'), 'a/a/198.18.0.0/24;b/b/fd00:198:18::/64;');
  assert.equal(run('{{.kind}} {{.metadata.resourceVersion}}'), 'IPPoolList 9');
  assert.equal(run('{{(index .items 1).spec.natOutgoing}}'), 'false', "an unset bool prints Go's zero value");
});

void test('if/else if/else, with, range with variables and else, pipelines and functions', () => {
  assert.equal(run('{{range $i, $p := .items}}{{$i}}:{{if $p.spec.natOutgoing}}nat{{else if eq $p.metadata.name "b"}}b{{else}}-{{end}} {{end}}'), '0:nat 1:b ');
  assert.equal(run('{{with (index .items 0).metadata.labels}}{{join . ","}}{{end}}'), 'x=1,y=2');
  assert.equal(run('{{range .nothing}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(run('{{len .items | printf "%d pools"}}'), '2 pools');
  assert.equal(run('{{- range .items }}\n  [{{ .metadata.name }}]\n{{- end }}'), '\n  [a]\n  [b]', 'Go trims only next to the dash');
  assert.equal(run('{{/* comment */}}{{"quoted\\n"}}{{`raw`}}'), 'quoted\nraw');
  assert.equal(run('{{and true 0}} {{or 0 "x"}} {{not false}} {{ne 1 2}}'), '0 x true true');
});

void test('errors are TemplateErrors with a useful message', () => {
  assert.throws(() => compileTemplate('{{if .x}}'), /missing \{\{end\}\}/);
  assert.throws(() => compileTemplate('{{end}}'), /unexpected \{\{end\}\}/);
  assert.throws(() => run('{{nosuch .x}}'), /function "nosuch" not defined/);
  assert.throws(() => compileTemplate('{{.x'), /unclosed action/);
});

void test('goString formats values like Go %v', () => {
  assert.equal(goString(['a', 1]), '[a 1]');
  assert.equal(goString({ b: 1, a: 'x' }), 'map[a:x b:1]');
  assert.equal(goString(1e6 + 0.5), '1.0000005e+06');
  assert.equal(goString(null), '<nil>');
});

void test("a spec field the resource does not set prints Go's zero value (typed structs in calicoctl)", () => {
  const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '198.18.0.0/24' } };
  const t = compileTemplate('{{.spec.natOutgoing}}|{{.spec.blockSize}}|{{.spec.nodeSelector}}|{{.spec.assignmentMode}}|{{.spec.allowedUses}}|{{.spec.CIDR}}|{{.spec.bogus}}');
  assert.equal(t([pool]), 'false|0||<nil>|[]|198.18.0.0/24|<no value>');
  const list = { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicyList', metadata: {}, items: [{ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'g' }, spec: { selector: 'all()' } }] };
  assert.equal(compileTemplate('{{range .items}}{{.metadata.name}} {{.spec.order}} {{.spec.preDNAT}} {{if .spec.order}}x{{else}}none{{end}}{{end}}')([list]), 'g <nil> false none');
});
