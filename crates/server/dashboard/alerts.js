// Alerts, paged from the service (`GET /v1/alerts`, most recently seen first): the paging
// both the alerts and violations views use, and the alerts view itself (filters by state
// and lowest severity, the remediation taken, acknowledge).

import { api, ApiError } from './api.js';
import { el, $, time, badge, fillTable } from './dom.js';

const enc = encodeURIComponent;
export const SEVERITIES = ['unknown', 'info', 'low', 'medium', 'high', 'critical'];
export const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));

const REMEDIATION = {
  none: 'none',
  taint: 'node tainted',
  drain: 'node drained',
  deny: 'denied at admission',
  'held-by-brake': 'due, held back by the brake',
};
export function remediation(r) { return REMEDIATION[r] || String(r ?? ''); }

export function status(id, text) { $(id).textContent = text || ''; }

// The page size typed in `id`, kept within what the service accepts (1-1000).
export function pageSize(id) {
  const n = Number.parseInt($(id).value, 10);
  const size = Number.isFinite(n) ? Math.min(1000, Math.max(1, n)) : 50;
  $(id).value = String(size);
  return size;
}

// One paged listing: `params()` gives the filters. "Older" follows the answer's `next`;
// "newer" goes back through the cursors of the pages already seen.
export class AlertPages {
  constructor(params) { this.params = params; this.reset(); }
  reset() { this.after = null; this.before = []; this.next = null; this.alerts = []; }
  get number() { return this.before.length + 1; }
  async load() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.params())) {
      if (v !== '' && v !== null && v !== undefined) q.set(k, String(v));
    }
    if (this.after) q.set('after', this.after);
    const answer = await api('/v1/alerts?' + q.toString());
    this.alerts = (answer && Array.isArray(answer.alerts)) ? answer.alerts : [];
    this.next = (answer && typeof answer.next === 'string') ? answer.next : null;
    return this.alerts;
  }
  first() { this.reset(); return this.load(); }
  older() {
    if (!this.next) return Promise.resolve(this.alerts);
    this.before.push(this.after);
    this.after = this.next;
    return this.load();
  }
  newer() {
    if (!this.before.length) return Promise.resolve(this.alerts);
    this.after = this.before.pop();
    return this.load();
  }
}

// "Newer", "page N", "Older" in `holder`; `go(step)` loads and renders.
export function pagerControls(holder, pages, go) {
  const newer = el('button', { type: 'button', class: 'newer', on: { click: () => go(() => pages.newer()) } }, '‹ Newer');
  const label = el('span', { class: 'page' });
  const older = el('button', { type: 'button', class: 'older', on: { click: () => go(() => pages.older()) } }, 'Older ›');
  holder.replaceChildren(newer, label, older);
  return () => {
    newer.disabled = pages.before.length === 0;
    older.disabled = !pages.next;
    label.textContent = `page ${pages.number}`;
  };
}

export async function acknowledge(a, statusId) {
  try {
    await api(`/v1/alerts/${enc(a.id)}/ack`, 'POST', { by: 'dashboard' });
    return true;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    status(statusId, `Could not acknowledge: ${e.message}`);
    return false;
  }
}

export function ackButton(a, after) {
  if (a.state !== 'open') return a.acknowledged_by ? `by ${a.acknowledged_by}` : '';
  return el('button', { type: 'button', class: 'ack', on: { click: ev => { ev.stopPropagation(); after(a); } } }, 'Acknowledge');
}

// --- the alerts view -----------------------------------------------------------------
let shown = { columns: [], rows: [], objects: [] };
export function alertsShown() { return shown; }

const pages = new AlertPages(() => ({
  state: $('alerts-state').value,
  severity: $('alerts-severity').value,
  limit: pageSize('alerts-limit'),
}));
let updatePager = () => {};

async function go(step) {
  status('alerts-status', 'loading…');
  try { await step(); } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      status('alerts-status', 'Not available: this service does not offer alerts yet.');
      pages.reset();
      renderAlerts();
      return;
    }
    throw e;
  }
  status('alerts-status', pages.alerts.length ? '' : 'No alert.');
  renderAlerts();
}

export function wireAlerts(failed) {
  updatePager = pagerControls($('alerts-pager'), pages, step => go(step).catch(failed));
  for (const id of ['alerts-state', 'alerts-severity', 'alerts-limit']) {
    $(id).addEventListener('change', () => loadAlerts().catch(failed));
  }
}

export function loadAlerts() { return go(() => pages.first()); }

function renderAlerts() {
  shown = fillTable($('alerts'), [
    ['Severity', a => badge(a.severity), a => a.severity],
    ['Alert', a => a.title],
    ['Subject', a => a.subject],
    ['State', a => badge(a.state), a => a.state],
    ['Count', a => String(a.count)],
    ['First seen', a => time(a.first_seen)],
    ['Last seen', a => time(a.last_seen)],
    ['Remediation', a => remediation(a.remediation)],
    ['', a => ackButton(a, async x => { if (await acknowledge(x, 'alerts-status')) await go(() => pages.load()); }), () => ''],
  ], pages.alerts, a => ({ class: 'alert-' + a.state, dataset: { alertId: a.id, subject: a.subject, state: a.state } }));
  const open = pages.alerts.filter(a => a.state === 'open').length;
  $('alerts-summary').textContent = `${pages.alerts.length} shown, ${open} open`;
  updatePager();
}
