// Writes the Sluice config for bench/run.sh: one openai-compatible provider pointing at the mock, one alias per
// mock script used by the scenarios (alias name == upstream model name, so direct/HAProxy/Sluice get identical
// request bodies), and N tenants with one key each; the bench key is tenant N/2. These N tenants have no limits,
// no budget and no cache (the baseline path), and the upstream model `mock` has no price (cost 0, no ledger write).
//
// Three more tenants carry the features measured by the extra scenarios (their keys are fixed, see run.sh):
//   bench-limits  requests/tokens per minute, in-flight cap and a daily budget, all far too high to trip, on the alias
//                 `mock-priced` (upstream model `mock-priced`, which has a price, so cost is computed and booked);
//   bench-cache   response cache on (ttl 10m), alias `mock`;
//   bench-full    both: limits + budget + price + cache (the "full hot path").
// Digests are HMAC-SHA256(pepper, key) in hex, the format of `sluice hash-key` (run.sh cross-checks one).
// Usage: node gen-config.mjs OUT MOCK_PORT SLUICE_PORT PEPPER BENCH_KEY TENANTS MAX_CONNECTIONS
//          [--redis redis://127.0.0.1:PORT] [--redis-timeout 1s] [--limits-key K] [--cache-key K] [--full-key K]
// With --redis, the limiter, budgets, spend ledger and cache live in that Redis (command timeout --redis-timeout,
// default: the key is left out so the shipped default applies); without it, in memory.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const [out, mockPort, sluicePort, pepper, benchKey, tenantsArg, maxConnArg] = args;
const opt = {};
for (let i = 7; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '');
  if (!['redis', 'redis-timeout', 'limits-key', 'cache-key', 'full-key'].includes(name)) { console.error(`unknown option ${args[i]}`); process.exit(2); }
  opt[name] = args[i + 1];
}
const tenants = Number(tenantsArg), maxConnections = Number(maxConnArg);
const digest = (key) => 'hmac-sha256:' + createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
const models = ['mock', 'mock@latency=50ms', 'mock@latency=50ms,tps=50', 'mock@latency=50ms,tps=8', 'mock@tps=1000', 'mock-priced'];
const lines = [
  'server:',
  `  port: ${sluicePort}`,
  '  host: 127.0.0.1',
  '  instances: 0',
  '  shutdown-grace: 2s',
  '  metrics: api                   # the bench scrapes /metrics on the client port (loopback here), one port per gateway',
  // no --redis-timeout (or "default"): no command-timeout key, so the gateway's shipped default is what is measured
  ...(opt.redis ? ['redis:', `  url: "${opt.redis}"`,
    ...(!opt['redis-timeout'] || opt['redis-timeout'] === 'default' ? [] : [`  command-timeout: ${opt['redis-timeout']}`])] : []),
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
  'pricing:',
  '  mock-priced: { input: 0.15, cached-input: 0.075, output: 0.60 }',
  'tenants:',
];
const benchIndex = Math.floor(tenants / 2);
for (let i = 0; i < tenants; i++) {
  const key = i === benchIndex ? benchKey : `sk-bench-tenant-${String(i).padStart(5, '0')}-${createHmac('sha256', 'k').update(String(i)).digest('hex').slice(0, 32)}`;
  lines.push(`  - id: tenant-${String(i).padStart(5, '0')}`);
  lines.push(`    keys: [ { id: key-${String(i).padStart(5, '0')}, digest: "${digest(key)}" } ]`);
}
// limits far above anything 2 cores can send (the token bucket reserves prompt + 4,096 max output per request)
const limits = '    limits: { requests-per-minute: 1000000000, tokens-per-minute: 1000000000, max-in-flight: 100000 }';
const budget = '    budget: { daily-usd: 1000000 }';
const cache = '    cache: { enabled: true, ttl: 10m }';
const extra = [['bench-limits', opt['limits-key'], [limits, budget]], ['bench-cache', opt['cache-key'], [cache]],
  ['bench-full', opt['full-key'], [limits, budget, cache]]];
for (const [id, key, features] of extra) {
  if (!key) continue;
  lines.push(`  - id: ${id}`);
  lines.push(`    keys: [ { id: ${id}-key, digest: "${digest(key)}" } ]`);
  lines.push(...features);
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(digest(benchKey));
