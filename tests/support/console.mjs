// Helpers for the operator console's tests: sign in through `POST /admin/session`, and make
// cookies the way the worker does (tests know ADMIN_TOKEN, so they can forge an expired one).

import { createHmac } from 'node:crypto';
import { ADMIN_TOKEN } from './worker.mjs';

export const COOKIE_NAME = '__Host-dbmcp_console';

/** Signs in with raw fetch; answers the response, the `name=value` cookie and the CSRF token. */
export async function consoleSignIn(url, { token = ADMIN_TOKEN, address = '198.51.100.7', origin = url } = {}) {
  const res = await fetch(`${url}/admin/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, 'cf-connecting-ip': address },
    body: JSON.stringify({ token }),
  });
  const setCookie = res.headers.get('set-cookie');
  const body = await res.json().catch(() => null);
  return { res, setCookie, cookie: setCookie ? setCookie.split(';')[0] : null, csrf: body?.csrf_token, body };
}

function mac(token, purpose, message) {
  const key = createHmac('sha256', token).update('dbmcp console session v1').digest();
  return createHmac('sha256', key).update(`${purpose}\n${message}`).digest('base64url');
}

/** A cookie value signed like the worker's (session id, expiry in ms), and its CSRF token. */
export function forgeSession(id, expiresMs, token = ADMIN_TOKEN) {
  const body = `${id}.${expiresMs}`;
  return { value: `${body}.${mac(token, 'cookie', body)}`, csrf: mac(token, 'csrf', id) };
}
