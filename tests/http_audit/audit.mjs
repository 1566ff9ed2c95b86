// Runs graphql-http's audit against a live Tally server and prints the results as JSON.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const out = results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null }));
process.stdout.write(JSON.stringify(out));
