/** The password testConfig gives the admin user seeded at first boot. */
export const TEST_ADMIN_PASSWORD = 'test-admin-password-1';

export interface LoginAnswer {
  readonly token: string;
  readonly expiresAt: string | null;
  readonly user: { readonly username: string; readonly role: string; readonly jurisdiction: unknown };
}

export async function login(baseUrl: string, username = 'admin', password = TEST_ADMIN_PASSWORD): Promise<LoginAnswer> {
  const res = await globalThis.fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`login of ${username} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as LoginAnswer;
}

/** A fetch that sends `token` (default: a fresh admin session at `baseUrl`) with every request. */
export async function signedIn(baseUrl: string, token?: string): Promise<typeof globalThis.fetch> {
  const bearer = token ?? (await login(baseUrl)).token;
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
    return globalThis.fetch(input, { ...init, headers });
  };
}
