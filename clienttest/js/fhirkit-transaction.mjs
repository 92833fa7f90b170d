// Posts a transaction Bundle with fhir-kit-client, which sends it to
// `{base}/` with a trailing slash, and prints the response Bundle.
// Usage: node fhirkit-transaction.mjs BASE_URL TOKEN
import { Client } from 'fhir-kit-client';

async function main() {
  const [baseUrl, token] = process.argv.slice(2);
  const client = new Client({ baseUrl, customHeaders: { Authorization: `Bearer ${token}` } });
  const body = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a',
        resource: { resourceType: 'Patient', name: [{ family: 'Kit' }] },
        request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Communication', status: 'completed',
          subject: { reference: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a' },
          payload: [{ contentString: 'sent by fhir-kit-client' }] },
        request: { method: 'POST', url: 'Communication' } },
    ],
  };
  const response = await client.transaction({ body });
  process.stdout.write(JSON.stringify(response));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  if (err && err.response) process.stderr.write(JSON.stringify(err.response.data || err.response) + '\n');
  process.exit(1);
});
