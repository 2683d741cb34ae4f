// The GraphQL-over-HTTP audits of graphql-http against a live server's endpoints: every MUST
// and every SHOULD must pass (MAYs are reported). Usage: node audit.mjs http://127.0.0.1:8000
import { serverAudits } from 'graphql-http';

const base = process.argv[2] ?? 'http://127.0.0.1:8000';
let failed = 0;
for (const path of ['/graphql', '/public/graphql']) {
  const url = base + path;
  const audits = serverAudits({ url, fetchFn: fetch });
  for (const audit of audits) {
    const result = await audit.fn();
    const required = audit.name.startsWith('MUST') || audit.name.startsWith('SHOULD');
    if (result.status === 'ok') continue;
    if (required) failed += 1;
    const mark = required ? 'FAIL' : 'note';
    console.log(`${mark} ${path} ${audit.id} ${audit.name}: ${result.reason}`);
  }
  console.log(`${path}: ${audits.length} audits`);
}
if (failed > 0) {
  console.log(`${failed} MUST/SHOULD audits failed`);
  process.exit(1);
}
console.log('every MUST and SHOULD passes');
