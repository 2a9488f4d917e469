import { describe, expect, it } from 'vitest';
import { parseScriptedScript } from './scripted-script.ts';

describe('parseScriptedScript', () => {
  it('accepts a bare list or { steps }, filling defaults', () => {
    const fromList = parseScriptedScript([{ text: 'hi' }]);
    expect(fromList).toEqual(parseScriptedScript({ steps: [{ text: 'hi' }] }));
    expect(fromList.steps[0]).toEqual({ text: 'hi', toolCalls: [] });
  });

  it.each([
    ['an empty script', [], /steps: Too small/],
    ['a step with nothing in it', [{}], /a step needs text, toolCalls or a failure/],
    [
      'a failing step that also answers',
      [{ text: 'x', failure: { statusCode: 500 } }],
      /a failing step cannot also answer/,
    ],
    ['an unknown field', [{ text: 'x', toolcalls: [] }], /steps\[0\]: Unrecognized key: "toolcalls"/],
    ['negative token counts', [{ text: 'x', usage: { inputTokens: -1 } }], /steps\[0\]\.usage\.inputTokens/],
  ])('rejects %s with a message naming the problem', (_name, script, expected) => {
    expect(() => parseScriptedScript(script, 'demo.yaml')).toThrow(expected);
  });
});
