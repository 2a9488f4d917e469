import { describe, expect, it } from 'vitest';
import { createRedactor } from './redactor.ts';

describe('createRedactor', () => {
  it('replaces the values of secret-looking environment variables, not short or ordinary ones', () => {
    const redactor = createRedactor({
      env: {
        ANTHROPIC_API_KEY: 'plain-value-without-shape-1',
        GITHUB_TOKEN: 'another-secret-value',
        DB_PASSWORD: 'hunter2hunter2',
        AWS_CREDENTIALS: 'credential-blob-xyz',
        SHORT_SECRET: 'abc',
        HOME: '/root/projects',
      },
    });
    expect(
      redactor.redact(
        'a plain-value-without-shape-1 b another-secret-value c hunter2hunter2 credential-blob-xyz',
      ),
    ).toBe('a [REDACTED] b [REDACTED] c [REDACTED] [REDACTED]');
    expect(redactor.redact('abc in /root/projects')).toBe('abc in /root/projects');
  });

  it('replaces extra secrets, the longest first', () => {
    const redactor = createRedactor({ extraSecrets: ['secret', 'secret-and-more'] });
    expect(redactor.redact('x secret-and-more y secret')).toBe('x [REDACTED] y [REDACTED]');
  });

  it.each([
    ['sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz'],
    ['sk-proj-abcdefghijklmnopqrstuvwxyz012345'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnop'],
    ['xoxb-123456789012-abcdefghijkl'],
    ['xoxp-123456789012-abcdefghijkl'],
    ['AKIAIOSFODNN7EXAMPLE'],
  ])('replaces the token shape %s', (token) => {
    expect(createRedactor().redact(`token: ${token}.`)).toBe('token: [REDACTED].');
  });

  it('keeps the header name of Authorization and x-api-key headers', () => {
    const redactor = createRedactor();
    expect(redactor.redact('curl -H "Authorization: Bearer abc.def-ghi" url')).toBe(
      'curl -H "Authorization: Bearer [REDACTED]" url',
    );
    expect(redactor.redact('x-api-key: 0123456789abcdef')).toBe('x-api-key: [REDACTED]');
  });

  it('names the configured secrets a text holds, never their values, and not token shapes', () => {
    const redactor = createRedactor({
      env: {
        ANTHROPIC_API_KEY: 'key-one-5f2c8e91',
        GITHUB_TOKEN: 'key-one-5f2c8e91',
        DB_PASSWORD: 'hunter2-hunter2',
      },
      extraSecrets: ['deploy-secret'],
    });
    expect(
      redactor.describeSecretsIn('a=key-one-5f2c8e91 b=deploy-secret c=hunter2-hunter2 d=key-one-5f2c8e91'),
    ).toEqual(['the value of ANTHROPIC_API_KEY', 'a configured secret', 'the value of DB_PASSWORD']);
    expect(
      redactor.describeSecretsIn('Authorization: Bearer example-token ghp_0123456789abcdefghij01'),
    ).toEqual([]);
  });

  it('does not touch ordinary text such as task ids', () => {
    expect(createRedactor().redact('task-abcdefghijklmnopqrstuvwxyz done: risk-assessment')).toBe(
      'task-abcdefghijklmnopqrstuvwxyz done: risk-assessment',
    );
  });

  it('redacts every string in a JSON-like value', () => {
    const redactor = createRedactor({ extraSecrets: ['s3cr3t-value'] });
    expect(
      redactor.redactValue({ command: 'echo s3cr3t-value', list: ['s3cr3t-value', 3], flag: true }),
    ).toEqual({
      command: 'echo [REDACTED]',
      list: ['[REDACTED]', 3],
      flag: true,
    });
  });

  it('replaces private key blocks, each up to its own END line', () => {
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----';
    expect(createRedactor().redact(`a\n${key}\nb\n${key}\n-----BEGIN PRIVATE KEY-----\nno end`)).toBe(
      `a\n[REDACTED]\nb\n[REDACTED]\n-----BEGIN PRIVATE KEY-----\nno end`,
    );
  });
});
