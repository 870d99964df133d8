// Independent OpenAPI check. Reads {"document": <openapi.json>, "samples": [{"schema": <a
// schema object from the document, e.g. {"$ref": "#/components/schemas/Patient"}>, "body":
// <a response body>}]} on stdin and prints {"document": [errors], "samples": [[errors]…]}:
// the document checked by @apidevtools/swagger-parser (OpenAPI 3.0 schema, every $ref
// resolves), each body checked against its schema by ajv.
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { document, samples } = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const documentErrors = [];
try {
  await SwaggerParser.validate(structuredClone(document));
} catch (err) {
  documentErrors.push(String(err.message ?? err));
}

// OpenAPI 3.0 schemas are a JSON Schema dialect: unknown keywords (example) are ignored.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'openapi.json', components: document.components });
const sampleErrors = samples.map(({ schema, body }) => {
  try {
    const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/',
      '"openapi.json#/components/'));
    const check = ajv.compile(rooted);
    return check(body) ? [] : check.errors.map((e) => `${e.instancePath} ${e.message}`);
  } catch (err) {
    return [String(err.message ?? err)];
  }
});
process.stdout.write(JSON.stringify({ document: documentErrors, samples: sampleErrors }));
