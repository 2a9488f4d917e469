import { describe, expect, it } from 'vitest';
import { startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';

const MODEL = 'claude-sonnet-5-5';
const BREAKPOINT = { type: 'ephemeral' };
/** About 1,500 tokens at the fake's four characters a token: above the 1,024-token minimum. */
const LONG_SYSTEM = 'You are a careful engineer. '.repeat(220);

interface Usage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  output_tokens: number;
}

async function post(baseUrl: string, body: Record<string, unknown>): Promise<Usage> {
  const response = await fetch(`${baseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: MODEL, max_tokens: 100, ...body }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { usage: Usage }).usage;
}

const userText = (text: string, cached = false) => ({
  role: 'user',
  content: [{ type: 'text', text, ...(cached ? { cache_control: BREAKPOINT } : {}) }],
});
const cachedSystem = [{ type: 'text', text: LONG_SYSTEM, cache_control: BREAKPOINT }];

describe('the fake Anthropic API applies the prompt-cache rules to cache_control breakpoints', () => {
  it('reports the scripted or default usage for requests without breakpoints, as before', async () => {
    await using server = await startFakeAnthropicServer({ defaultReply: fakeReply.text('ok') });
    const body = { system: LONG_SYSTEM, messages: [userText('hi')] };
    expect(await post(server.baseUrl, body)).toMatchObject({
      input_tokens: 10,
      output_tokens: 10,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    server.enqueue(fakeReply.text('ok', { inputTokens: 7, outputTokens: 3, cacheReadTokens: 5 }));
    expect(await post(server.baseUrl, { ...body, system: cachedSystem })).toMatchObject({
      input_tokens: 7,
      cache_read_input_tokens: 5,
    });
  });

  it('writes the prefix up to the last breakpoint, then reads it and writes only what is new', async () => {
    await using server = await startFakeAnthropicServer({ defaultReply: fakeReply.text('ok') });
    const first = await post(server.baseUrl, {
      system: cachedSystem,
      messages: [userText('step one', true)],
    });
    expect(first.cache_read_input_tokens).toBe(0);
    expect(first.cache_creation_input_tokens).toBeGreaterThan(1024);
    expect(first.output_tokens).toBeGreaterThan(0);

    const messages = [
      userText('step one', true),
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      userText('step two', true),
    ];
    const second = await post(server.baseUrl, { system: cachedSystem, messages });
    expect(second.cache_read_input_tokens).toBe(first.cache_creation_input_tokens);
    expect(second.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.cache_creation_input_tokens).toBeLessThan(100);
    expect(second.input_tokens).toBe(0);
  });

  it('caches nothing below the minimum cacheable length, and nothing across models', async () => {
    await using server = await startFakeAnthropicServer({ defaultReply: fakeReply.text('ok') });
    const short = await post(server.baseUrl, {
      system: [{ type: 'text', text: 'short', cache_control: BREAKPOINT }],
      messages: [userText('hi')],
    });
    expect(short).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(short.input_tokens).toBeGreaterThan(0);

    await post(server.baseUrl, { system: cachedSystem, messages: [userText('hi')] });
    const otherModel = await post(server.baseUrl, {
      model: 'claude-opus-5-5',
      system: cachedSystem,
      messages: [userText('hi')],
    });
    expect(otherModel.cache_read_input_tokens).toBe(0);
  });

  it('finds an earlier prefix only within the lookback window of a breakpoint', async () => {
    await using server = await startFakeAnthropicServer({ defaultReply: fakeReply.text('ok') });
    await post(server.baseUrl, { system: cachedSystem, messages: [userText('start')] });
    const many = Array.from({ length: 25 }, (_, index) => ({ type: 'text', text: `line ${index}` }));
    const farTail = [{ role: 'user', content: [{ type: 'text', text: 'start' }, ...many] }];
    const lastBlock = farTail[0]?.content.at(-1);
    if (lastBlock !== undefined) Object.assign(lastBlock, { cache_control: BREAKPOINT });
    // Only the tail is marked, 26 blocks past the cached system prompt: a miss, all written anew.
    const miss = await post(server.baseUrl, { system: LONG_SYSTEM, messages: farTail });
    expect(miss.cache_read_input_tokens).toBe(0);
    // With the system breakpoint kept, the system prefix is found again.
    const hit = await post(server.baseUrl, { system: cachedSystem, messages: farTail });
    expect(hit.cache_read_input_tokens).toBeGreaterThan(1024);
  });

  it('forgets an entry after its five-minute lifetime, and every read extends it', async () => {
    let now = 0;
    await using server = await startFakeAnthropicServer({
      defaultReply: fakeReply.text('ok'),
      promptCache: { now: () => now },
    });
    const body = { system: cachedSystem, messages: [userText('hi')] };
    await post(server.baseUrl, body);
    now = 4 * 60_000;
    expect((await post(server.baseUrl, body)).cache_read_input_tokens).toBeGreaterThan(0);
    now = 8 * 60_000;
    expect((await post(server.baseUrl, body)).cache_read_input_tokens).toBeGreaterThan(0);
    now = 14 * 60_000;
    expect((await post(server.baseUrl, body)).cache_read_input_tokens).toBe(0);
  });
});
