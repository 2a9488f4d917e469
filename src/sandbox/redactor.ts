/**
 * Replaces secrets with `[REDACTED]` before text leaves a command, a tool or an event. Two kinds of
 * secrets are known: the values of secret-looking environment variables (and any extra values the
 * caller names), and well-known token shapes, which catch keys that never were in our environment
 * (a key printed from a `.env` file, a token in a curl command).
 */
export interface Redactor {
  redact(text: string): string;
  /** A copy of a JSON-like value with every string redacted (for event payloads). */
  redactValue(value: unknown): unknown;
  /**
   * Which of the secrets Loki was given (the values of its secret environment variables and the
   * extra ones) `text` holds, named without their values ("the value of ANTHROPIC_API_KEY"): for
   * telling an agent what to take out of its work. Token shapes are not reported here: a project's
   * own test fixtures and docs hold fake keys and example headers, which are not Loki's to refuse.
   */
  describeSecretsIn(text: string): string[];
}

export interface CreateRedactorOptions {
  env?: Readonly<Record<string, string | undefined>>;
  extraSecrets?: readonly string[];
}

export const REDACTED = '[REDACTED]';

/** Names of environment variables whose values are treated as secrets. */
const SECRET_NAME_PATTERN = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
/** Shorter values (`true`, `1`, `dev`) are too likely to be ordinary words to be replaced everywhere. */
const MINIMUM_ENV_SECRET_LENGTH = 8;
const MINIMUM_EXTRA_SECRET_LENGTH = 4;

interface TokenShape {
  pattern: RegExp;
  /** `$1` keeps a prefix such as `Authorization: Bearer ` so the text stays readable. */
  replacement: string;
}

const PRIVATE_KEY_BEGIN = /-----BEGIN [A-Z ]*PRIVATE KEY-----/g;
const PRIVATE_KEY_END = /-----END [A-Z ]*PRIVATE KEY-----/g;

/**
 * Every pattern here runs in linear time on any text: redaction runs on the main thread over tool
 * outputs and event payloads that a model controls.
 */
const TOKEN_SHAPES: readonly TokenShape[] = [
  { pattern: /\bsk-ant-[A-Za-z0-9_-]{8,}/g, replacement: REDACTED },
  { pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, replacement: REDACTED },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}/g, replacement: REDACTED },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/g, replacement: REDACTED },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replacement: REDACTED },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replacement: REDACTED },
  {
    pattern: /(\bauthorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]+/gi,
    replacement: `$1${REDACTED}`,
  },
  { pattern: /(\bx-api-key["']?\s*[:=]\s*["']?)[^\s"',}]{8,}/gi, replacement: `$1${REDACTED}` },
];

export function createRedactor(options: CreateRedactorOptions = {}): Redactor {
  // Each secret value with what it is called (the first name that holds it).
  const secrets = new Map<string, string>();
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined || value.length < MINIMUM_ENV_SECRET_LENGTH) continue;
    if (SECRET_NAME_PATTERN.test(name) && !secrets.has(value)) secrets.set(value, `the value of ${name}`);
  }
  for (const value of options.extraSecrets ?? []) {
    if (value.length >= MINIMUM_EXTRA_SECRET_LENGTH && !secrets.has(value)) {
      secrets.set(value, 'a configured secret');
    }
  }
  // Longest first, so that a secret containing another one is replaced whole.
  const literalPattern =
    secrets.size === 0
      ? null
      : new RegExp(
          [...secrets.keys()]
            .sort((left, right) => right.length - left.length)
            .map(escapeRegularExpression)
            .join('|'),
          'g',
        );

  const redact = (text: string): string => {
    let result = literalPattern === null ? text : text.replace(literalPattern, REDACTED);
    result = redactPrivateKeys(result);
    for (const shape of TOKEN_SHAPES) result = result.replace(shape.pattern, shape.replacement);
    return result;
  };

  const redactValue = (value: unknown): unknown => {
    if (typeof value === 'string') return redact(value);
    if (Array.isArray(value)) return value.map(redactValue);
    if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(value)) copy[key] = redactValue(entry);
      return copy;
    }
    return value;
  };

  const describeSecretsIn = (text: string): string[] => {
    const found = new Set<string>();
    for (const match of literalPattern === null ? [] : text.matchAll(literalPattern)) {
      found.add(secrets.get(match[0]) ?? 'a configured secret');
    }
    return [...found];
  };

  return { redact, redactValue, describeSecretsIn };
}

/**
 * Replaces each private key block, from a BEGIN line to the first END line after it. Written as a
 * scan, not one lazy regular expression, which would rescan the rest of the text for every BEGIN
 * without an END (quadratic time on a long text full of BEGIN lines).
 */
function redactPrivateKeys(text: string): string {
  if (!text.includes('PRIVATE KEY-----')) return text;
  const begin = new RegExp(PRIVATE_KEY_BEGIN);
  const end = new RegExp(PRIVATE_KEY_END);
  let result = '';
  let copiedUpTo = 0;
  for (let opening = begin.exec(text); opening !== null; opening = begin.exec(text)) {
    end.lastIndex = begin.lastIndex;
    const closing = end.exec(text);
    // No END after this BEGIN means none after any later BEGIN either: nothing more to replace.
    if (closing === null) break;
    result += `${text.slice(copiedUpTo, opening.index)}${REDACTED}`;
    copiedUpTo = end.lastIndex;
    begin.lastIndex = end.lastIndex;
  }
  return copiedUpTo === 0 ? text : result + text.slice(copiedUpTo);
}

function escapeRegularExpression(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
