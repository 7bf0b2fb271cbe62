/** The admin password the bench and soak runs seed their monitor with (a throwaway data folder each run). */
export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** A session token of the seeded admin, for the WebSocket that counts alarms. */
export async function signIn(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }) });
  if (res.status !== 200) throw new Error(`bench sign-in answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
