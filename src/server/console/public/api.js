// The API key lives in this module's memory only: never in localStorage, sessionStorage, a cookie
// or the URL. Every call sends it as a bearer token; reloading the page forgets it.
let key = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signIn(value) {
  key = value;
}

export function signOut() {
  key = null;
}

export const signedIn = () => key !== null;

async function call(method, path, body) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) {
    let code = 'HTTP_ERROR';
    let message = `${response.status} ${response.statusText}`;
    try {
      const doc = await response.json();
      code = doc.error?.code ?? code;
      message = doc.error?.message ?? message;
    } catch {
      // not JSON
    }
    throw new ApiError(response.status, code, message);
  }
  return response;
}

export const get = async (path) => (await call('GET', path)).json();
export const post = async (path, body) => (await call('POST', path, body)).json();

/** An image the API serves, as a blob: URL (an <img src> could not send the bearer token). */
export async function imageUrl(path) {
  const blob = await (await call('GET', path)).blob();
  return URL.createObjectURL(blob);
}
