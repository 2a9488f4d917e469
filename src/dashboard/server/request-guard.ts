import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export interface GuardOptions {
  token: string;
  /** The port the server listens on: the only origins and hosts it answers are on it. */
  port: () => number;
}

/** The cookie that holds the token; named after the port so two dashboards do not overwrite each other. */
export function tokenCookieName(port: number): string {
  return `loki-dashboard-${port}`;
}

/**
 * Every request passes here first. The dashboard steers a run, so it answers only its own page:
 * - a `Host` other than 127.0.0.1 / localhost on its port is refused: a DNS-rebinding page that
 *   resolves its own name to 127.0.0.1 sends its own name as Host;
 * - an `Origin` other than its own is refused (CSRF from any other site or port), and no CORS
 *   header is ever sent, so no other origin can read an answer;
 * - the token, given once in the URL, is exchanged for an HttpOnly, SameSite=Strict cookie and the
 *   URL is cleaned; without the cookie every request is 401.
 */
export function requestGuard(options: GuardOptions): MiddlewareHandler {
  const expected = Buffer.from(options.token, 'utf8');
  const isToken = (value: string | undefined): boolean => {
    if (value === undefined) return false;
    const given = Buffer.from(value, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (context, next) => {
    const port = options.port();
    const ownHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    const host = context.req.header('host');
    if (host === undefined || !ownHosts.has(host.toLowerCase())) {
      return refuse(context, 403, 'DASHBOARD_FOREIGN_HOST', 'this dashboard answers only on 127.0.0.1');
    }
    const origin = context.req.header('origin');
    const ownOrigins = new Set([...ownHosts].map((ownHost) => `http://${ownHost}`));
    if (origin !== undefined && !ownOrigins.has(origin.toLowerCase())) {
      return refuse(context, 403, 'DASHBOARD_FOREIGN_ORIGIN', 'requests from other sites are refused');
    }
    const queryToken = context.req.query('token');
    if (queryToken !== undefined && context.req.method === 'GET' && context.req.path === '/') {
      if (!isToken(queryToken)) return unauthorized(context);
      setCookie(context, tokenCookieName(port), options.token, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
      });
      // The token leaves the address bar (and the history) at once.
      return context.redirect('/', 303);
    }
    if (!isToken(getCookie(context, tokenCookieName(port)))) return unauthorized(context);
    await next();
    return undefined;
  };
}

function unauthorized(context: Context): Response {
  return refuse(
    context,
    401,
    'DASHBOARD_UNAUTHORIZED',
    'open the dashboard with the URL loki printed (it ends in ?token=…); loki status shows it again',
  );
}

function refuse(context: Context, status: 401 | 403, code: string, message: string): Response {
  return context.json({ error: { code, message } }, status);
}
