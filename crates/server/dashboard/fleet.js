// The fleet view: every enrolled host with its trust, certified tags, bound Kubernetes
// Node and, when it is not trusted, why (the failing rules of its latest report). Trust
// events update a row in place: a host that loses trust turns red without a reload.

import { api, pooled, ApiError } from './api.js';
import { el, $, replace, time, badge, fillTable } from './dom.js';

const hosts = new Map(); // host_id -> {host, report, node}
const generation = new Map(); // host_id -> count of updates, so a stale refresh loses
let shown = { columns: [], rows: [], objects: [] };
let selected = null;

const ORDER = { untrusted: 0, expired: 1, unknown: 2, trusted: 3 };
const enc = encodeURIComponent;

export function fleetShown() { return shown; }

// Reads the fleet; answers the event-log position to follow the stream from (read
// before the hosts, so that no change after the list is missed).
export async function loadFleet() {
  const nodes = await api('/v1/nodes');
  const list = await api('/v1/hosts');
  const bound = new Map(nodes.nodes.map(n => [n.host_id, n]));
  const reports = await pooled(list, 6, h => h.last_report_id ? api('/v1/reports/' + enc(h.last_report_id)) : null);
  hosts.clear();
  list.forEach((h, i) => hosts.set(h.host_id, { host: h, report: reports[i], node: bound.get(h.host_id) || null }));
  render();
  return nodes.last_event;
}

export function clearFleet() {
  hosts.clear();
  selected = null;
  render();
}

// One `trust` event: the row changes at once, then the host is re-read for the rest.
export async function onTrustEvent(ev) {
  const entry = hosts.get(ev.host_id);
  if (entry && ev.previous !== ev.trust) {
    entry.host.trust = ev.trust;
    entry.host.failures = ev.trust === 'trusted' ? [] : (ev.reasons || []);
    bump(ev.host_id);
    render();
  }
  await refreshHost(ev.host_id);
}

function bump(id) {
  const g = (generation.get(id) || 0) + 1;
  generation.set(id, g);
  return g;
}

async function refreshHost(id) {
  const g = bump(id);
  let host;
  try {
    host = await api('/v1/hosts/' + enc(id));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { hosts.delete(id); render(); return; }
    throw e;
  }
  const report = host.last_report_id ? await api('/v1/reports/' + enc(host.last_report_id)).catch(() => null) : null;
  const node = host.node ? await api('/v1/nodes/' + enc(id)).catch(() => null) : null;
  if (generation.get(id) !== g) return; // a newer event arrived meanwhile
  hosts.set(id, { host, report, node });
  render();
}

function tagsOf(e) {
  if (e.node && e.node.asset_tags) return e.node.asset_tags;
  return (e.report && e.report.report && e.report.report.asset_tags) || {};
}

function why(e) {
  const h = e.host;
  if (h.trust === 'expired') return ['no passing attestation before its deadline'];
  return h.trust === 'trusted' ? [] : (h.failures || []);
}

function tagText(e) {
  return Object.entries(tagsOf(e)).map(([k, v]) => `${k}=${v}`).join(' ');
}

const COLUMNS = [
  ['Host', e => e.host.hostname],
  ['Trust', e => badge(e.host.trust), e => e.host.trust],
  ['Kubernetes Node', e => e.host.node || el('span', { class: 'muted' }, 'not bound'), e => e.host.node || ''],
  ['Tags', e => Object.entries(tagsOf(e)).map(([k, v]) => el('span', { class: 'tag' }, `${k}=${v}`)), tagText],
  ['Flavor group', e => e.host.flavor_group],
  ['Last attested', e => time(e.host.last_attested_at)],
  ['Why', e => {
    const w = why(e);
    if (!w.length) return '';
    const more = w.length > 2 ? ` (+${w.length - 2} more)` : '';
    return el('div', { class: 'why' }, w.slice(0, 2).join('\n') + more);
  }, e => why(e).join('\n')],
];

function matches(e) {
  const trust = $('fleet-trust').value;
  if (trust && e.host.trust !== trust) return false;
  const q = $('fleet-filter').value.trim().toLowerCase();
  if (!q) return true;
  return [e.host.hostname, e.host.node || '', tagText(e), why(e).join(' '), e.host.host_id]
    .some(s => s.toLowerCase().includes(q));
}

export function render() {
  const all = [...hosts.values()];
  const rows = all.filter(matches).sort((a, b) =>
    (ORDER[a.host.trust] ?? 9) - (ORDER[b.host.trust] ?? 9) || a.host.hostname.localeCompare(b.host.hostname));
  shown = fillTable($('fleet'), COLUMNS, rows, e => ({
    class: 'trust-' + e.host.trust + (e.host.host_id === selected ? ' selected' : ''),
    dataset: { hostId: e.host.host_id, hostname: e.host.hostname, trust: e.host.trust },
    on: { click: () => showHost(e.host.host_id) },
  }));
  shown.objects = rows.map(e => ({ ...e.host, asset_tags: tagsOf(e) }));
  const count = s => all.filter(e => e.host.trust === s).length;
  $('fleet-summary').textContent = `${all.length} hosts: ${count('trusted')} trusted, ` +
    `${count('untrusted')} untrusted, ${count('expired')} expired, ${count('unknown')} unknown`;
  if (selected && hosts.has(selected)) detail(hosts.get(selected));
  else $('host-detail').hidden = true;
}

function showHost(id) {
  selected = id;
  render();
}

// The host's facts, its latest report's failing rules with every fault, and its history.
function detail(e) {
  const h = e.host;
  const box = $('host-detail');
  box.hidden = false;
  const results = (e.report && e.report.report && e.report.report.results) || [];
  const failed = results.filter(r => !r.trusted);
  replace(box,
    el('h2', {}, h.hostname, ' ', badge(h.trust)),
    el('p', { class: 'muted' }, `host ${h.host_id} · hardware ${h.hardware_uuid} · enrolled ${time(h.enrolled_at)}` +
      (h.trust === 'trusted' && h.trust_expires_at ? ` · trusted until ${time(h.trust_expires_at)}` : '')),
    el('h3', {}, e.report ? `Latest report ${e.report.report_id} (${time(e.report.created)})` : 'No report yet'),
    failed.length ? el('div', { id: 'failing-rules' }, failed.map(rule)) :
      el('p', { class: 'muted' }, e.report ? 'Every rule passed.' : ''),
    el('h3', {}, 'History'),
    el('div', { id: 'host-history', class: 'muted' }, 'loading…'),
  );
  api(`/v1/hosts/${enc(h.host_id)}/reports?limit=10`).then(list => {
    const target = $('host-history');
    if (!target || selected !== h.host_id) return;
    replace(target, el('ul', {}, list.map(r =>
      el('li', {}, time(r.created), ' ', badge(r.trusted ? 'trusted' : 'untrusted'), ' ', el('code', {}, r.report_id)))));
  }).catch(() => {});
}

function rule(r) {
  const title = [r.rule, r.subject, r.part, r.flavor_label && `flavor ${r.flavor_label}`].filter(Boolean).join(' · ');
  return el('div', { class: 'rule' },
    el('strong', {}, title),
    (r.faults || []).map(f => el('div', { class: 'fault' },
      el('code', {}, f.name), ': ', f.description,
      f.path ? el('div', {}, 'file: ', el('code', {}, f.path)) : null,
      f.expected ? el('div', {}, 'expected: ', el('code', {}, f.expected)) : null,
      f.actual ? el('div', {}, 'actual: ', el('code', {}, f.actual)) : null)));
}
