// Calls to the dashboard's own API. The token travels in its HttpOnly cookie, never in script.

async function answer(response) {
  const text = await response.text();
  const body = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function postJson(path, body = {}) {
  return answer(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}
