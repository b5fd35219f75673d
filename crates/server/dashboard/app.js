// The dashboard's entry: sign-in (with the service's identity provider, or a pasted API
// or administrator token), the views behind the navigation, and the live trust-event
// stream. Any 401 returns to the login view; a 403 says what the role may not do.

import { api, token, setToken, clearToken, Unauthorized, ApiError } from './api.js';
import * as signIn from './signin.js';
import { $ } from './dom.js';
import { follow } from './events.js';
import { exportButtons } from './export.js';
import { loadFleet, clearFleet, onTrustEvent, render as renderFleet, fleetShown } from './fleet.js';
import { loadKeys, renderKeys, loadImages, viewShown } from './views.js';
import { loadAlerts, wireAlerts, alertsShown } from './alerts.js';
import { loadViolations, wireViolations, violationsShown } from './violations.js';
import { loadCompliance, complianceShown } from './compliance.js';

const VIEWS = ['fleet', 'keys', 'images', 'alerts', 'compliance', 'violations'];
const LOADERS = { keys: loadKeys, images: loadImages, alerts: loadAlerts, compliance: loadCompliance, violations: loadViolations };
let stream = null; // AbortController of the event stream
let idp = null; // the service's identity provider, when it has one

function showLogin(message) {
  if (stream) { stream.abort(); stream = null; }
  clearFleet();
  for (const v of VIEWS) $(v + '-view').hidden = true;
  $('nav').hidden = $('logout').hidden = $('live').hidden = $('whoami').hidden = true;
  $('notice').textContent = '';
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

// A person's ID token is a JWS (three dot-separated parts); API tokens are not.
function personSignedIn() { return (token() || '').split('.').length === 3; }

// Any failure of the session ends here: a refused token logs out; a refusal of the
// caller's role, or anything else the service says, is shown without logging out.
function failed(e) {
  if (e instanceof Unauthorized) {
    const person = personSignedIn();
    clearToken();
    showLogin(person
      ? 'The service no longer accepts your sign-in (it expired, or your e-mail address is no longer bound to a role): sign in again.'
      : 'The service refused the token: sign in again.');
  } else if (e instanceof ApiError) {
    $('notice').textContent = e.status === 403 ? `Not allowed: ${e.message}` : e.message;
  } else {
    console.error(e);
  }
}

function live(up) {
  $('live').className = 'live ' + (up ? 'up' : 'down');
  $('live').textContent = up ? 'live' : 'reconnecting…';
}

function route() {
  const name = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'fleet';
  for (const v of VIEWS) $(v + '-view').hidden = v !== name;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('current', a.dataset.view === name);
  if (LOADERS[name]) LOADERS[name]().catch(failed);
}

// Who the session is, in the header: `person/ada@example.com (viewer in acme)`.
async function whoami() {
  const me = await api('/v1/whoami');
  $('whoami').textContent = me.role ? `${me.actor} (${me.role} in ${me.organisation})` : me.actor;
  $('whoami').hidden = false;
}

async function start() {
  $('login-view').hidden = true;
  $('nav').hidden = $('logout').hidden = $('live').hidden = false;
  $('notice').textContent = '';
  await whoami();
  const last = await loadFleet();
  route();
  stream = new AbortController();
  live(false);
  follow(last, {
    status: live,
    unauthorized: () => failed(new Unauthorized()),
    event: (name, data) => {
      if (name === 'trust') onTrustEvent(JSON.parse(data)).catch(failed);
      // Too far behind to replay: read everything again.
      else if (name === 'lagged') loadFleet().catch(failed);
    },
  }, stream.signal);
}

async function login() {
  const t = $('token').value.trim();
  if (!t) { $('login-error').textContent = 'Enter an API or bootstrap token.'; return; }
  setToken(t);
  try {
    await api('/v1/hosts');
  } catch (e) {
    clearToken();
    showLogin(e instanceof Unauthorized ? 'The service refused this token.' : `The service did not answer: ${e.message}`);
    return;
  }
  start().catch(failed);
}

// Offers the identity provider's sign-in when the service has one.
async function offerSignIn() {
  idp = await signIn.provider();
  $('sign-in').hidden = !idp;
}

// Back from the provider: the exchanged ID token becomes the session's token.
async function returned() {
  let answer;
  try { answer = await signIn.finish(); } catch (e) { showLogin(e.message); return true; }
  if (!answer) return false;
  setToken(answer.id_token);
  start().catch(failed);
  return true;
}

function wire() {
  $('login').addEventListener('click', login);
  $('sign-in').addEventListener('click', () => {
    if (idp) signIn.begin(idp).catch(e => { $('login-error').textContent = `Could not start the sign-in: ${e.message}`; });
  });
  $('token').addEventListener('keydown', e => { if (e.key === 'Enter') login(); });
  $('logout').addEventListener('click', () => { clearToken(); showLogin('Signed out.'); });
  $('fleet-filter').addEventListener('input', renderFleet);
  $('fleet-trust').addEventListener('change', renderFleet);
  $('keys-outcome').addEventListener('change', renderKeys);
  wireAlerts(failed);
  wireViolations(failed);
  window.addEventListener('hashchange', () => { if (token()) route(); });
  const sources = {
    fleet: fleetShown, keys: () => viewShown('keys'), images: () => viewShown('images'),
    alerts: alertsShown, violations: violationsShown, compliance: complianceShown,
  };
  for (const holder of document.querySelectorAll('[data-export]')) {
    const name = holder.dataset.export;
    exportButtons(holder, name, sources[name]);
  }
}

async function boot() {
  wire();
  await offerSignIn();
  if (await returned()) return;
  if (token()) start().catch(failed); else showLogin();
}

boot();
