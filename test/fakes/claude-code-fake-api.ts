import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordedRequest } from './fake-http-server.ts';
import {
  type FakeAnthropicServer,
  type FakeAnthropicServerOptions,
  startFakeAnthropicServer,
} from './fake-anthropic-server.ts';
import { fakeReply } from './fake-reply.ts';

/** The pinned Claude Code binary installed as a devDependency. */
export const CLAUDE_CODE_EXECUTABLE = fileURLToPath(
  new URL('../../node_modules/.bin/claude', import.meta.url),
);

export const CLAUDE_CODE_TEST_API_KEY = 'sk-ant-loki-test-key';

export interface ClaudeCodeFakeApi extends FakeAnthropicServer {
  /** The calls of the agent's own conversation (those that offer tools), in order. */
  conversationRequests(): RecordedRequest[];
}

/**
 * The fake Anthropic API as Claude Code needs it: calls that offer no tools are Claude Code's side
 * calls (session titles, quota probes on a small model) and get a short canned answer, so they
 * never consume the replies a test scripted for the agent's conversation.
 */
export async function startClaudeCodeFakeApi(
  options: FakeAnthropicServerOptions = {},
): Promise<ClaudeCodeFakeApi> {
  const server = await startFakeAnthropicServer({
    ...options,
    route: (request) =>
      options.route?.(request) ?? (isConversationCall(request) ? undefined : fakeReply.text('Loki task')),
  });
  return {
    ...server,
    conversationRequests: () => server.messageRequests().filter(isConversationCall),
  };
}

function isConversationCall(request: RecordedRequest): boolean {
  const body = request.body;
  if (typeof body !== 'object' || body === null || !('tools' in body)) return false;
  return Array.isArray(body.tools) && body.tools.length > 0;
}

/** A throwaway HOME for Claude Code (settings, sessions, shell snapshots), removed on dispose. */
export interface ClaudeCodeHome extends AsyncDisposable {
  readonly path: string;
  /** The environment Loki would pass: PATH, this HOME, the fake API and a test key. */
  environment(server: { baseUrl: string }, apiKey?: string): Record<string, string>;
}

export async function createClaudeCodeHome(): Promise<ClaudeCodeHome> {
  const path = await mkdtemp(join(tmpdir(), 'loki-claude-home-'));
  return {
    path,
    environment: (server, apiKey = CLAUDE_CODE_TEST_API_KEY) => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: path,
      CLAUDE_CONFIG_DIR: join(path, '.claude'),
      ANTHROPIC_API_KEY: apiKey,
      ANTHROPIC_BASE_URL: server.baseUrl,
    }),
    [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }),
  };
}
