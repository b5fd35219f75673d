// Compliance: clusters × policies from the hub (`GET /v1/compliance`), one row per
// policy, most severe first, each cell the cluster's status for that policy; the worst
// wins overall (non-compliant > pending > unknown > compliant). No policy set yet (a 404,
// or an overview without policies) is an empty state, not an error. A cell opens the
// violations of that policy in that cluster.

import { api, ApiError } from './api.js';
import { el, $, badge, fillTable } from './dom.js';
import { SEVERITY_RANK, status } from './alerts.js';
import { showViolations, seen } from './violations.js';

const STATUS_RANK = { compliant: 0, unknown: 1, pending: 2, non_compliant: 3 };
const WORDS = { compliant: 'compliant', unknown: 'unknown', pending: 'pending', non_compliant: 'non-compliant' };
let shown = { columns: [], rows: [], objects: [] };
export function complianceShown() { return shown; }

function words(s) { return WORDS[s] || String(s); }
function statusBadge(s) {
  return el('span', { class: 'status-badge st-' + (s in WORDS ? s : 'unknown') }, words(s));
}

// Rows most severe first, then worst status, then by id; columns every cluster by name.
export function matrix(overview) {
  const policies = [...overview.policies].sort((a, b) =>
    (SEVERITY_RANK[b.severity] ?? -1) - (SEVERITY_RANK[a.severity] ?? -1) ||
    (STATUS_RANK[b.status] ?? 0) - (STATUS_RANK[a.status] ?? 0) ||
    a.policy.localeCompare(b.policy));
  const clusters = new Map();
  for (const p of policies) for (const c of p.clusters || []) clusters.set(c.cluster, c.cluster_name);
  const columns = [...clusters].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  return { policies, clusters: columns };
}

function cellOf(p, cluster) { return (p.clusters || []).find(c => c.cluster === cluster.id); }

function cellText(c) {
  if (!c) return '–'; // the overview names every cluster; a gap is shown, not guessed
  return words(c.status) + (c.violations ? ` (${c.violations})` : '');
}

function empty(message) {
  status('compliance-status', message);
  $('compliance-overall').replaceChildren();
  shown = fillTable($('compliance'), [], [], null);
  $('compliance').hidden = true;
}

export async function loadCompliance() {
  status('compliance-status', 'loading…');
  let overview;
  try { overview = await api('/v1/compliance'); } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
    overview = null;
  }
  if (!overview || !Array.isArray(overview.policies) || overview.policies.length === 0) {
    empty('No policy set yet: write one at the hub (PUT /v1/policies, docs/policies.md) and the clusters\' compliance shows here.');
    return;
  }
  const { policies, clusters } = matrix(overview);
  status('compliance-status', clusters.length ? '' : 'No cluster is registered yet: every policy is pending.');
  $('compliance').hidden = false;
  $('compliance-overall').replaceChildren('Overall: ', statusBadge(overview.status),
    el('span', { class: 'muted' }, ` policy version ${overview.policy_version ?? '–'}, ${policies.length} policies, ${clusters.length} clusters`));
  shown = fillTable($('compliance'), [
    ['Policy', p => el('span', { title: p.description || '' }, p.policy), p => p.policy],
    ['Severity', p => badge(p.severity), p => p.severity],
    ['Status', p => statusBadge(p.status), p => p.status],
    ...clusters.map(c => [
      c.name,
      p => cellText(cellOf(p, c)),
      p => { const x = cellOf(p, c); return x ? x.status + (x.violations ? ` (${x.violations})` : '') : ''; },
      p => {
        const x = cellOf(p, c);
        return {
          class: 'cell st-' + (x ? x.status : 'none'),
          dataset: { policy: p.policy, cluster: c.name, status: x ? x.status : 'none' },
          on: { click: ev => { ev.stopPropagation(); showViolations(p.policy, c.name); } },
        };
      },
    ]),
  ], policies, p => ({ dataset: { policy: p.policy, status: p.status }, on: { click: () => showViolations(p.policy, '') } }));
  seen('violations-policies', policies.map(p => p.policy));
  seen('violations-clusters', clusters.map(c => c.name));
}
