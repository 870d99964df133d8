// fhir-kit-client, unmodified, against the server: node clients.mjs <base> <pnr>
// Prints "ok <step>" per step; exits non-zero on the first misbehaviour (fhir-kit-client
// throws on any error status).
import Client from 'fhir-kit-client';

const [base, pnr] = process.argv.slice(2);
const client = new Client({ baseUrl: base });
const PNR = 'urn:oid:1.2.752.129.2.1.3.1';
const family = 'Kitclient' + Math.random().toString(36).slice(2, 10).replace(/[0-9]/g, 'x');

function check(condition, what) {
  if (!condition) throw new Error('failed: ' + what);
  console.log('ok ' + what);
}

const patient = (given, extra = {}) => ({
  resourceType: 'Patient', name: [{ family, given: [given] }], gender: 'male',
  birthDate: '1980-05-05', ...extra,
});

const created = await client.create({ resourceType: 'Patient', body: patient('Ett') });
check(created.id && created.meta.versionId === '1', 'create');
await client.create({ resourceType: 'Patient', body: patient('Två') });
await client.create({ resourceType: 'Patient', body: patient('Tre') });
const read = await client.read({ resourceType: 'Patient', id: created.id });
check(read.name[0].given[0] === 'Ett', 'read');
const updated = await client.update({ resourceType: 'Patient', id: created.id,
  body: { ...read, active: true } });
check(updated.meta.versionId === '2', 'update');

let page = await client.search({ resourceType: 'Patient', searchParams: { family, _count: 2 } });
const seen = [];
while (page) {
  for (const entry of page.entry ?? []) seen.push(entry.resource.name[0].given[0]);
  page = page.link?.some((l) => l.relation === 'next') ? await client.nextPage(page) : null;
}
check(seen.sort().join(',') === 'Ett,Tre,Två', 'search with paging');

const condition = `identifier=${PNR}|${pnr}`;
const body = patient('Villkor', { identifier: [{ system: PNR, value: pnr }] });
const first = await client.create({ resourceType: 'Patient', body,
  options: { headers: { 'If-None-Exist': condition } } });
const second = await client.create({ resourceType: 'Patient', body,
  options: { headers: { 'If-None-Exist': condition } } });
check(first.id === second.id, 'conditional create');

const reserve = await client.operation({ name: 'generate-reserve-id', resourceType: 'Patient',
  input: { resourceType: 'Parameters', parameter: [{ name: 'birthDate', valueDate: '1978-04-04' }] } });
check(reserve.parameter[0].valueIdentifier.system === 'urn:oid:1.2.752.74.9.1', '$generate-reserve-id');

const transition = await client.operation({ name: 'generate-reserve-id', resourceType: 'Patient',
  id: created.id, input: { resourceType: 'Parameters', parameter: [] } });
check(transition.resourceType === 'Parameters', '$generate-reserve-id on an instance');

const matched = await client.operation({ name: 'match', resourceType: 'Patient',
  input: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: body }] } });
check(matched.resourceType === 'Bundle' && matched.entry?.[0]?.resource.id === first.id
  && matched.entry[0].search.mode === 'match', '$match');

const merged = await client.operation({ name: 'merge', resourceType: 'Patient', input: {
  resourceType: 'Parameters', parameter: [
    { name: 'source-patient', valueReference: { reference: `Patient/${created.id}` } },
    { name: 'target-patient', valueReference: { reference: `Patient/${first.id}` } }] } });
const result = merged.parameter?.find((p) => p.name === 'result')?.resource;
check(merged.resourceType === 'Parameters' && result?.id === first.id
  && result.link?.some((l) => l.type === 'replaces' && l.other.reference === `Patient/${created.id}`),
  '$merge');
const source = await client.read({ resourceType: 'Patient', id: created.id });
check(source.active === false, '$merge made the source inactive');
