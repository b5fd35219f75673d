// Signing a person in with the service's OpenID Connect provider: Authorization Code with
// PKCE (RFC 7636, S256). The browser only navigates to the provider and back; the code
// comes back to /dashboard/ and this service exchanges it (POST /v1/sign-in/token), since
// the page may connect to its own origin only. The state, nonce and verifier live in this
// tab's sessionStorage for the round trip and are removed when it ends.

import { anonymous } from './api.js';

const PENDING_KEY = 'ironroot.sign-in';

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// 32 random bytes: 43 characters, within RFC 7636's 43 to 128 for a verifier.
function random() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return base64url(b);
}

// Where the provider sends the browser back: this page, exactly as the service expects it.
export function redirectUri() { return location.origin + '/dashboard/'; }

// The provider people sign in with ({issuer, client_id, authorization_endpoint}), or null
// when the service has none (404) or cannot reach it.
export async function provider() {
  try { return await anonymous('/v1/sign-in'); } catch (_) { return null; }
}

// Leaves for the provider's sign-in page.
export async function begin(info) {
  const endpoint = new URL(info.authorization_endpoint);
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    throw new Error('the provider\'s authorization endpoint is not a web address');
  }
  const pending = { state: random(), nonce: random(), verifier: random() };
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const q = endpoint.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', info.client_id);
  q.set('redirect_uri', redirectUri());
  q.set('scope', 'openid email profile');
  q.set('state', pending.state);
  q.set('nonce', pending.nonce);
  q.set('code_challenge', base64url(new Uint8Array(digest)));
  q.set('code_challenge_method', 'S256');
  location.assign(endpoint.href);
}

// On the way back from the provider: null when this page load is not a sign-in's return;
// else the service's answer ({id_token, expires_at, email}). Throws an Error whose message
// is for the login view. The code leaves the address bar and history before anything else.
export async function finish() {
  const q = new URLSearchParams(location.search);
  if (!q.has('state') || !(q.has('code') || q.has('error'))) return null;
  history.replaceState(null, '', location.pathname);
  let pending = null;
  try { pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null'); } catch (_) { pending = null; }
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || q.get('state') !== pending.state) {
    throw new Error('This sign-in was not started from this tab (its state does not match): sign in again.');
  }
  if (q.has('error')) {
    const why = q.get('error_description') ? ` (${q.get('error_description')})` : '';
    throw new Error(`The identity provider did not sign you in: ${q.get('error')}${why}.`);
  }
  try {
    return await anonymous('/v1/sign-in/token', 'POST', {
      code: q.get('code'),
      code_verifier: pending.verifier,
      redirect_uri: redirectUri(),
      nonce: pending.nonce,
    });
  } catch (e) {
    throw new Error(`The service did not sign you in: ${e.message}`);
  }
}
