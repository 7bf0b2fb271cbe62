/** Names the platform uses for itself: no user may take them. */
const RESERVED = new Set(['admin-token', 'anonymous', 'system']);
const ALLOWED = /^[\p{L}\p{N}._@-]{1,100}$/u;

/** A name as a reader of the audit log sees it: names that differ only in case or Unicode form are one name. */
export function foldUsername(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

/** Why `name` cannot be a user name (null when it can): letters, digits and . _ @ - only, at most 100, not reserved. */
export function usernameProblem(name: string): string | null {
  if (!ALLOWED.test(name)) return `the user name ${JSON.stringify(name.slice(0, 100))} may hold letters, digits and . _ @ - only, at most 100`;
  if (RESERVED.has(foldUsername(name))) return `the user name ${name} is reserved`;
  return null;
}
