// Policy violations: the alerts whose source is `policy/{id}` and subject
// `cluster/{cluster}/{namespace}/{Kind}/{name}` (AlertKey::policy_violation), filtered by
// the service (cluster, namespace, policy, lowest severity, state, time) and paged; a
// click opens one object's drill-down: its alert's history and every alert on it.

import { api, ApiError } from './api.js';
import { el, $, time, badge, fillTable } from './dom.js';
import { AlertPages, pagerControls, pageSize, remediation, status, acknowledge, ackButton } from './alerts.js';

const enc = encodeURIComponent;
const HOUR = 3600;
let shown = { columns: [], rows: [], objects: [] };
export function violationsShown() { return shown; }

// A violation's parts, from its key; anything else shows its subject whole.
export function violationParts(a) {
  const policy = a.source.startsWith('policy/') ? a.source.slice('policy/'.length) : a.source;
  const p = a.subject.split('/');
  if (p[0] !== 'cluster' || p.length < 5) return { policy, cluster: '', namespace: '', kind: '', name: a.subject };
  return { policy, cluster: p[1], namespace: p[2], kind: p[3], name: p.slice(4).join('/') };
}

function params() {
  const cluster = $('violations-cluster').value.trim();
  const hours = Number($('violations-since').value);
  return {
    source: 'policy/',
    policy: $('violations-policy').value.trim(),
    cluster,
    // The service takes a namespace only with its cluster (a namespace is per cluster).
    namespace: cluster ? $('violations-namespace').value.trim() : '',
    severity: $('violations-severity').value,
    state: $('violations-state').value,
    since: hours > 0 ? Math.floor(Date.now() / 1000) - hours * HOUR : '',
    limit: pageSize('violations-limit'),
  };
}

const pages = new AlertPages(params);
let updatePager = () => {};

async function go(step) {
  status('violations-status', 'loading…');
  try { await step(); } catch (e) {
    if (e instanceof ApiError && e.status === 400) {
      // Nothing shown is left under a filter the service refused.
      status('violations-status', `Filter refused: ${e.message}`);
      pages.reset();
      render();
      return;
    }
    if (e instanceof ApiError && e.status === 404) {
      status('violations-status', 'Not available: this service does not offer alerts yet.');
      pages.reset();
      render();
      return;
    }
    throw e;
  }
  status('violations-status', pages.alerts.length ? '' : 'No violation matches.');
  render();
}

export function loadViolations() {
  $('violation-detail').hidden = true;
  return go(() => pages.first());
}

export function wireViolations(failed) {
  updatePager = pagerControls($('violations-pager'), pages, step => go(step).catch(failed));
  const reload = () => loadViolations().catch(failed);
  $('violations-apply').addEventListener('click', reload);
  for (const id of ['violations-cluster', 'violations-namespace', 'violations-policy']) {
    $(id).addEventListener('keydown', e => { if (e.key === 'Enter') reload(); });
  }
  $('violations-cluster').addEventListener('input', namespaceNeedsCluster);
  for (const id of ['violations-severity', 'violations-state', 'violations-since', 'violations-limit']) {
    $(id).addEventListener('change', reload);
  }
  namespaceNeedsCluster();
}

function namespaceNeedsCluster() {
  $('violations-namespace').disabled = !$('violations-cluster').value.trim();
}

// Shows the violations of `policy` (and `cluster`): from a compliance cell.
export function showViolations(policy, cluster) {
  $('violations-policy').value = policy || '';
  $('violations-cluster').value = cluster || '';
  $('violations-namespace').value = '';
  namespaceNeedsCluster();
  if (location.hash === '#violations') loadViolations();
  else location.hash = '#violations';
}

function render() {
  shown = fillTable($('violations'), [
    ['Last seen', a => time(a.last_seen)],
    ['Severity', a => badge(a.severity), a => a.severity],
    ['Policy', a => violationParts(a).policy],
    ['Cluster', a => violationParts(a).cluster],
    ['Namespace', a => violationParts(a).namespace],
    ['Object', a => { const v = violationParts(a); return v.kind ? `${v.kind}/${v.name}` : v.name; }],
    ['State', a => badge(a.state), a => a.state],
    ['Count', a => String(a.count)],
    ['Remediation', a => remediation(a.remediation)],
    ['Message', a => a.title],
  ], pages.alerts, a => {
    const v = violationParts(a);
    return { class: 'alert-' + a.state, dataset: { alertId: a.id, policy: v.policy, cluster: v.cluster, namespace: v.namespace, subject: a.subject }, on: { click: () => drill(a.id).catch(e => status('violations-status', e.message)) } };
  });
  seen('violations-policies', pages.alerts.map(a => violationParts(a).policy));
  seen('violations-clusters', pages.alerts.map(a => violationParts(a).cluster));
  $('violations-summary').textContent = `${pages.alerts.length} shown`;
  updatePager();
}

// Offers the values seen so far in an input's datalist (also fed by the compliance view).
export function seen(id, values) {
  const have = new Set([...$(id).options].map(o => o.value));
  for (const v of values) if (v && !have.has(v)) { have.add(v); $(id).appendChild(el('option', { value: v })); }
}

// What the alert record says happened, in time order.
function history(a) {
  const events = [[a.first_seen, 'first seen: alert opened']];
  if (a.acknowledged_at) events.push([a.acknowledged_at, `acknowledged by ${a.acknowledged_by || '?'}`]);
  if (a.resolved_at) events.push([a.resolved_at, a.resolved_automatically ? 'resolved: the cause went away' : `resolved by ${a.resolved_by || '?'}`]);
  if (a.count > 1 || a.last_seen !== a.first_seen) events.push([a.last_seen, `last seen: ${a.count} occurrence${a.count === 1 ? '' : 's'} in all`]);
  return events.sort((x, y) => x[0] - y[0]);
}

function fact(name, value) { return [el('dt', {}, name), el('dd', {}, value)]; }

// One object's drill-down: the alert read afresh, its history, every alert on the object.
export async function drill(id) {
  const a = await api(`/v1/alerts/${enc(id)}`);
  const v = violationParts(a);
  const others = await api(`/v1/alerts?subject=${enc(a.subject)}&limit=100`);
  const onObject = ((others && others.alerts) || []).filter(o => o.subject === a.subject);
  const box = $('violation-detail');
  box.hidden = false;
  box.dataset.alertId = a.id;
  box.replaceChildren(
    el('h2', {}, `${v.kind}/${v.name}`, el('span', { class: 'muted' }, ` in namespace ${v.namespace || '(cluster-scoped)'} of cluster ${v.cluster}`)),
    el('dl', { class: 'facts' },
      fact('Policy', v.policy), fact('Severity', badge(a.severity)), fact('State', badge(a.state)),
      fact('First seen', time(a.first_seen)), fact('Last seen', time(a.last_seen)),
      fact('Occurrences', String(a.count)), fact('Remediation taken', remediation(a.remediation)),
      fact('Acknowledged', a.acknowledged_by ? `by ${a.acknowledged_by} at ${time(a.acknowledged_at)}` : 'no'),
      fact('Resolved', a.resolved_at ? `${a.resolved_automatically ? 'automatically' : 'by ' + a.resolved_by} at ${time(a.resolved_at)}` : 'no'),
      fact('', ackButton(a, async x => { if (await acknowledge(x, 'violations-status')) { await drill(x.id); await go(() => pages.load()); } }))),
    el('h3', {}, 'Message'), el('p', { class: 'why' }, a.title),
    a.details ? el('pre', { class: 'fault' }, a.details) : null,
    el('h3', {}, 'History'),
    el('ol', { class: 'history' }, history(a).map(([t, what]) => el('li', {}, el('code', {}, time(t)), ' ', what))),
    el('h3', {}, 'Every alert on this object'),
    el('ul', { class: 'on-object' }, onObject.map(o => el('li', {}, badge(o.state), ' ', violationParts(o).policy, ` (${o.count}×, last ${time(o.last_seen)}, ${remediation(o.remediation)})`))),
  );
  box.scrollIntoView({ block: 'nearest' });
}
