// The dashboard's entry: login with the administrator token, the views behind the
// navigation, and the live trust-event stream. Any 401 returns to the login view.

import { api, token, setToken, clearToken, Unauthorized } from './api.js';
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

function showLogin(message) {
  if (stream) { stream.abort(); stream = null; }
  clearFleet();
  for (const v of VIEWS) $(v + '-view').hidden = true;
  $('nav').hidden = $('logout').hidden = $('live').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

// Any failure of the session ends here: a refused token logs out; anything else shows.
function failed(e) {
  if (e instanceof Unauthorized) {
    clearToken();
    showLogin('The service refused the token: sign in again.');
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

async function start() {
  $('login-view').hidden = true;
  $('nav').hidden = $('logout').hidden = $('live').hidden = false;
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
  if (!t) { $('login-error').textContent = 'Enter the administrator token.'; return; }
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

function wire() {
  $('login').addEventListener('click', login);
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

wire();
if (token()) start().catch(failed); else showLogin();
