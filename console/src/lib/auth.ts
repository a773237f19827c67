/**
 * The operator's token. The service verifies JWTs and runs no login flow: the console holds an ops token in session
 * storage only (gone when the tab closes), taken from the sign-in form or, in development, from the `#token=` fragment
 * of the link `npm start` prints. The fragment is removed from the address bar at once, so it is neither bookmarked
 * nor shown over a shoulder; a fragment never reaches a server or a Referer.
 */
const KEY = 'console.token';

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  setToken(decodeURIComponent(match[1]!));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
}

export const getToken = (): string | null => sessionStorage.getItem(KEY);
export const setToken = (token: string): void => sessionStorage.setItem(KEY, token.trim());
export const clearToken = (): void => sessionStorage.removeItem(KEY);

/** The claims a person can read off a token (not verified here: the service verifies every call). */
export function tokenClaims(token: string): { role?: string; sub?: string; exp?: number } | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { role?: string; sub?: string; exp?: number };
  } catch {
    return null;
  }
}
