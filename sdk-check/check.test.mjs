// The official `openai` npm SDK against a running Sluice on its embedded defaults (mock provider).
// Run: SLUICE_BASE_URL=http://127.0.0.1:8080/v1 SLUICE_KEY=sk-... node --test sdk-check/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AuthenticationError } from 'openai';

const baseURL = process.env.SLUICE_BASE_URL;
const apiKey = process.env.SLUICE_KEY;
if (!baseURL || !apiKey) {
  throw new Error('set SLUICE_BASE_URL (e.g. http://127.0.0.1:8080/v1) and SLUICE_KEY');
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
const PROMPT = [{ role: 'user', content: 'Hello from the npm SDK check' }];

test('non-streaming chat returns the mock text', async () => {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: PROMPT });
  const content = completion.choices[0].message.content;
  assert.ok(content.startsWith('This is a mock response from Sluice'), content);
  assert.equal(completion.choices[0].finish_reason, 'stop');
});

test('streaming chat accumulates to the non-streaming text', async () => {
  const expected = (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: PROMPT }))
    .choices[0].message.content;
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: PROMPT, stream: true });
  let text = '';
  let chunks = 0;
  let usageChunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usageChunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
  assert.equal(usageChunks, 0, 'no usage chunk unless stream_options.include_usage');
  assert.equal(text, expected);
});

test('embeddings with the default (base64) encoding decode to 8 finite floats', async () => {
  const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
  const embedding = response.data[0].embedding;
  assert.ok(Array.isArray(embedding), `expected a decoded array, got ${typeof embedding}`);
  assert.equal(embedding.length, 8);
  for (const value of embedding) assert.ok(Number.isFinite(value), `not finite: ${value}`);
  assert.ok(embedding.some((value) => value !== 0), 'all zeros');
});

test('models list contains gpt-4o-mini', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.ok(ids.includes('gpt-4o-mini'), ids.join(','));
});

test('a wrong key raises AuthenticationError (401)', async () => {
  const wrong = new OpenAI({ baseURL, apiKey: 'sk-wrong-0123456789abcdefghijklmnop', maxRetries: 0 });
  await assert.rejects(
    wrong.chat.completions.create({ model: 'gpt-4o-mini', messages: PROMPT }),
    (error) => {
      assert.ok(error instanceof AuthenticationError, `got ${error?.constructor?.name}: ${error?.message}`);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      return true;
    },
  );
});

test('a deterministic request is cached: the second answer is a HIT, as JSON and replayed as a stream', async () => {
  const params = { model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: `cache check ${Date.now()}` }] };
  const first = await client.chat.completions.create(params).withResponse();
  assert.equal(first.response.headers.get('x-sluice-cache'), 'MISS');
  const second = await client.chat.completions.create(params).withResponse();
  assert.equal(second.response.headers.get('x-sluice-cache'), 'HIT');
  assert.equal(second.data.choices[0].message.content, first.data.choices[0].message.content);
  assert.deepEqual(second.data.usage, first.data.usage);

  const streamed = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(streamed.response.headers.get('x-sluice-cache'), 'HIT');
  let text = '';
  let usage = null;
  for await (const chunk of streamed.data) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, first.data.choices[0].message.content);
  assert.equal(usage?.total_tokens, first.data.usage.total_tokens);
});
