import type { Alert, AlertSeverity } from './alert.ts';
import type { AlertRequest } from './alert-channel.ts';

const EMOJI: Record<AlertSeverity, string> = {
  info: ':white_check_mark:',
  warning: ':warning:',
  error: ':x:',
  critical: ':rotating_light:',
};

/** Slack's documented limits: a header's plain text 150 characters, a section's text 3000. */
const HEADER_LIMIT = 150;
const SECTION_LIMIT = 3000;

/**
 * A Slack incoming-webhook message in Block Kit: a header, the summary as a section, and a context
 * line with severity, run and event. `text` is the notification fallback Slack shows where blocks
 * cannot be. Text from the run is escaped so it cannot form links or mentions.
 */
export function slackRequest(webhookUrl: string, alert: Alert): AlertRequest {
  const facts = Object.entries(alert.details)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `*${escapeMrkdwn(key)}:* ${escapeMrkdwn(String(value))}`)
    .join('  ');
  const context = [
    `severity: *${alert.severity}*`,
    `run: \`${escapeMrkdwn(alert.runId ?? 'none')}\``,
    `event: \`${escapeMrkdwn(alert.eventType)}\``,
    `source: ${escapeMrkdwn(alert.source)}`,
  ].join(' · ');
  const message = {
    text: `${alert.title}: ${alert.summary}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(alert.title, HEADER_LIMIT), emoji: true } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            `${EMOJI[alert.severity]} ${escapeMrkdwn(alert.summary)}${facts === '' ? '' : `\n${facts}`}`,
            SECTION_LIMIT,
          ),
        },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(context, SECTION_LIMIT) }] },
    ],
  };
  return { url: webhookUrl, headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) };
}

/** Slack asks for exactly these three characters to be escaped in message text. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
