// Writes the Sluice config for bench/run.sh: one openai-compatible provider pointing at the mock, one alias per
// mock script used by the scenarios (alias name == upstream model name, so direct/HAProxy/Sluice get identical
// request bodies), and N tenants with one key each; the bench key is tenant N/2.
// Digests are HMAC-SHA256(pepper, key) in hex, the format of `sluice hash-key` (run.sh cross-checks one).
// Usage: node gen-config.mjs OUT MOCK_PORT SLUICE_PORT PEPPER BENCH_KEY TENANTS MAX_CONNECTIONS
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [out, mockPort, sluicePort, pepper, benchKey, tenantsArg, maxConnArg] = process.argv.slice(2);
const tenants = Number(tenantsArg), maxConnections = Number(maxConnArg);
const digest = (key) => 'hmac-sha256:' + createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
const models = ['mock', 'mock@latency=50ms', 'mock@latency=50ms,tps=50', 'mock@latency=50ms,tps=8', 'mock@tps=1000'];
const lines = [
  'server:',
  `  port: ${sluicePort}`,
  '  host: 127.0.0.1',
  '  instances: 0',
  '  shutdown-grace: 2s',
  'security:',
  `  key-pepper: "${pepper}"`,
  'providers:',
  '  mock:',
  '    type: openai-compatible',
  `    base-url: http://127.0.0.1:${mockPort}/v1`,
  '    api-key: "sk-bench-provider-key"',
  `    max-connections: ${maxConnections}`,
  'models:',
  ...models.map((m) => `  "${m}": { deployments: [ { provider: mock, model: "${m}" } ] }`),
  'tenants:',
];
const benchIndex = Math.floor(tenants / 2);
for (let i = 0; i < tenants; i++) {
  const key = i === benchIndex ? benchKey : `sk-bench-tenant-${String(i).padStart(5, '0')}-${createHmac('sha256', 'k').update(String(i)).digest('hex').slice(0, 32)}`;
  lines.push(`  - id: tenant-${String(i).padStart(5, '0')}`);
  lines.push(`    keys: [ { id: key-${String(i).padStart(5, '0')}, digest: "${digest(key)}" } ]`);
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(digest(benchKey));
