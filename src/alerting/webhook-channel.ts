import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert } from './alert.ts';
import type { AlertRequest } from './alert-channel.ts';

export const SIGNATURE_HEADER = 'x-loki-signature';
export const TIMESTAMP_HEADER = 'x-loki-timestamp';

/**
 * A JSON POST signed with HMAC-SHA256 over `<timestamp>.<body>` (timestamp: Unix seconds, also in
 * its own header), so a receiver can check that Loki sent it and refuse old replays.
 */
export function webhookRequest(url: string, secret: string, alert: Alert, now: number): AlertRequest {
  const body = JSON.stringify({
    version: 1,
    action: alert.action,
    severity: alert.severity,
    dedupKey: alert.dedupKey,
    title: alert.title,
    summary: alert.summary,
    event: alert.eventType,
    runId: alert.runId,
    source: alert.source,
    createdAt: new Date(alert.createdAt).toISOString(),
    details: alert.details,
  });
  const timestamp = String(Math.floor(now / 1000));
  return {
    url,
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: `sha256=${sign(secret, timestamp, body)}`,
    },
    body,
  };
}

/**
 * What a receiver does (and what the README shows): recompute the HMAC over the raw body, compare
 * in constant time, and refuse a timestamp further than `toleranceSeconds` from its clock.
 */
export function verifyWebhookSignature(options: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const { secret, body, timestamp, signature, nowSeconds } = options;
  if (timestamp === undefined || signature === undefined || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(`sha256=${sign(secret, timestamp, body)}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function sign(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}
