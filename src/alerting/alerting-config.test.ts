import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { parseAlertingConfig } from './alerting-config.ts';

const PATH = '/project/.loki/config/alerting.yaml';

function refusal(document: unknown, env: Record<string, string> = {}): { code: string; message: string } {
  try {
    parseAlertingConfig(document, PATH, env);
  } catch (error) {
    if (isLokiError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('alerting.yaml', () => {
  it('substitutes ${ENV} references and knows every substituted value as a secret', () => {
    const loaded = parseAlertingConfig(
      {
        channels: [
          { name: 'ops', type: 'slack', webhookUrl: '${SLACK_URL}' },
          { name: 'pager', type: 'pagerduty', routingKey: '${PD_KEY}', minSeverity: 'error' },
          { name: 'hook', type: 'webhook', url: 'https://alerts.example.com/loki', secret: '${HOOK_SECRET}' },
        ],
      },
      PATH,
      {
        SLACK_URL: 'https://hooks.slack.com/services/T0/B0/abc',
        PD_KEY: 'routing-key-123',
        HOOK_SECRET: 'a-very-long-shared-secret',
      },
    );
    expect(loaded.config.channels.map((channel) => [channel.name, channel.minSeverity])).toEqual([
      ['ops', 'warning'],
      ['pager', 'error'],
      ['hook', 'warning'],
    ]);
    expect(loaded.config.channels[1]).toMatchObject({ url: 'https://events.pagerduty.com/v2/enqueue' });
    expect(loaded.secrets).toEqual(
      expect.arrayContaining([
        'https://hooks.slack.com/services/T0/B0/abc',
        'routing-key-123',
        'a-very-long-shared-secret',
      ]),
    );
    expect(loaded.config.delivery).toEqual({
      maxAttempts: 5,
      queueSize: 200,
      timeoutSeconds: 10,
      flushSeconds: 5,
    });
  });

  it('refuses a reference to an unset variable, naming the file, the key and the variable', () => {
    const refused = refusal({ channels: [{ name: 'ops', type: 'slack', webhookUrl: '${SLACK_URL}' }] });
    expect(refused.code).toBe('LOKI_CONFIG_INVALID');
    expect(refused.message).toContain('channels.0.webhookUrl');
    expect(refused.message).toContain(PATH);
    expect(refused.message).toContain('Set SLACK_URL');
  });

  it('refuses an unknown key with the closest known key of that channel type', () => {
    const refused = refusal({
      channels: [{ name: 'pager', type: 'pagerduty', routingkey: 'x', routingKey: 'y', minSeverty: 'info' }],
    });
    expect(refused.code).toBe('LOKI_CONFIG_UNKNOWN_KEY');
    expect(refused.message).toMatch(/unknown key "channels\.0\.(routingkey|minSeverty)"/);
    expect(refused.message).toMatch(/Did you mean "channels\.0\.(routingKey|minSeverity)"\?/);
    expect(refusal({ delivery: { maxAttempt: 3 } }).message).toContain(
      'Did you mean "delivery.maxAttempts"?',
    );
    expect(refusal({ channel: [] }).message).toContain('Did you mean "channels"?');
  });

  it('refuses a bad value with what is expected', () => {
    const severity = refusal({
      channels: [{ name: 'ops', type: 'slack', webhookUrl: 'https://x.example', minSeverity: 'loud' }],
    });
    expect(severity.message).toContain('channels.0.minSeverity');
    expect(severity.message).toContain('expected one of info, warning, error, critical');
    expect(refusal({ channels: [{ name: 'x', type: 'email' }] }).message).toContain(
      'expected type: slack, pagerduty or webhook',
    );
    expect(
      refusal({ channels: [{ name: 'h', type: 'webhook', url: 'https://a.example', secret: 'short' }] })
        .message,
    ).toContain('at least 16 characters');
  });
});
