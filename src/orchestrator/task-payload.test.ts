import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { readTaskPayload } from './task-payload.ts';

describe('readTaskPayload', () => {
  it('reads a task added by hand (no payload, or unrelated keys) as one with nothing of its own', () => {
    expect(readTaskPayload({ id: 'by-hand', payload: null }).verifyCommands).toEqual([]);
    expect(readTaskPayload({ id: 'by-hand', payload: { ticket: 'X-1' } }).verifyCommands).toEqual([]);
    expect(readTaskPayload({ id: 'planned', payload: { verifyCommands: ['npm test'] } })).toMatchObject({
      verifyCommands: ['npm test'],
    });
  });

  it('refuses a malformed payload with an error naming the task and the field, instead of emptying it', () => {
    for (const payload of [{ verifyCommands: 'npm test' }, 'npm test', [1, 2], { complexity: 'huge' }]) {
      let caught: unknown = null;
      try {
        readTaskPayload({ id: 'broken-task', payload });
      } catch (error) {
        caught = error;
      }
      expect(isLokiError(caught), JSON.stringify(payload)).toBe(true);
      if (!isLokiError(caught)) continue;
      expect(caught.code).toBe('TASK_PAYLOAD_INVALID');
      expect(caught.message).toContain('broken-task');
    }
  });
});
