// Key releases and refusals, and images by risk (alerts, violations and compliance have
// modules of their own).
// Each keeps what it shows for export; a route the service lacks shows "not available".

import { api, ApiError } from './api.js';
import { el, $, time, badge, fillTable } from './dom.js';

const shown = { keys: empty(), images: empty() };
function empty() { return { columns: [], rows: [], objects: [] }; }
export function viewShown(name) { return shown[name]; }

function status(id, text) { $(id).textContent = text || ''; }

function unavailable(id, e, what) {
  if (e instanceof ApiError && e.status === 404) {
    status(id, `Not available: this service does not offer ${what}.`);
    return true;
  }
  return false;
}

// --- key releases -------------------------------------------------------------------
let releases = [];
let keyNames = new Map();

export async function loadKeys() {
  status('keys-status', 'loading…');
  const keys = await api('/v1/keys');
  keyNames = new Map((keys || []).map(k => [k.key_id, k.name]));
  releases = await api('/v1/keys/releases?limit=1000');
  status('keys-status', releases.length ? '' : 'No key was released or refused yet.');
  renderKeys();
}

export function renderKeys() {
  const want = $('keys-outcome').value;
  const rows = releases.filter(r => !want || (want === 'released') === r.released);
  shown.keys = fillTable($('keys'), [
    ['When', r => time(r.at)],
    ['Key', r => keyNames.get(r.key_id) || r.key_id],
    ['Host', r => r.hostname || r.host_id || ''],
    ['Outcome', r => badge(r.released ? 'released' : 'refused'), r => r.released ? 'released' : 'refused'],
    ['Reason', r => r.reason],
    ['Report', r => r.report_id || ''],
  ], rows, r => ({ class: r.released ? 'released' : 'refused', dataset: { seq: r.seq } }));
  const refused = releases.filter(r => !r.released).length;
  $('keys-summary').textContent = `${releases.length - refused} released, ${refused} refused`;
}

// --- images by risk -----------------------------------------------------------------
const RANK = { critical: 5, high: 4, medium: 3, low: 2, negligible: 1, unknown: 0 };
let images = [];

// The service keeps rescans as changes (new and fixed findings per image): replaying
// them oldest first gives each image's current findings.
export function currentFindings(log) {
  const byImage = new Map();
  for (const scan of [...(log.rescans || [])].reverse()) {
    for (const change of scan.images || []) {
      const open = byImage.get(change.image) || new Map();
      for (const v of change.fixed || []) open.delete(v.id + ' ' + v.package);
      for (const v of change.new || []) open.set(v.id + ' ' + v.package, v);
      byImage.set(change.image, open);
    }
  }
  return [...byImage].map(([image, open]) => {
    const findings = [...open.values()].sort((a, b) => (RANK[b.severity] ?? 0) - (RANK[a.severity] ?? 0));
    const worst = findings.length ? findings[0].severity : 'none';
    return { image, worst, findings };
  }).sort((a, b) => (RANK[b.worst] ?? -1) - (RANK[a.worst] ?? -1) || b.findings.length - a.findings.length);
}

export async function loadImages() {
  status('images-status', 'loading…');
  let log;
  try { log = await api('/v1/images/rescans'); } catch (e) {
    if (unavailable('images-status', e, 'image inventories (start it with --vulndb DIR)')) return;
    throw e;
  }
  images = currentFindings(log);
  const db = log.database ? `database generation ${log.database.updated_at ?? ''}` : 'no vulnerability database loaded yet';
  status('images-status', [log.problem && `Problem: ${log.problem}`, images.length ? '' : `No image has findings yet (${db}).`].filter(Boolean).join(' '));
  shown.images = fillTable($('images'), [
    ['Image', i => i.image],
    ['Worst', i => badge(i.worst), i => i.worst],
    ['Findings', i => String(i.findings.length)],
    ['Signatures', () => el('span', { class: 'muted' }, 'not recorded'), () => ''],
  ], images, i => ({ dataset: { image: i.image }, on: { click: () => imageDetail(i) } }));
  $('images-summary').textContent = `${images.length} images`;
}

function imageDetail(i) {
  const box = $('image-detail');
  box.hidden = false;
  box.replaceChildren(el('h2', {}, i.image), el('ul', {}, i.findings.map(v =>
    el('li', {}, badge(v.severity), ' ', el('code', {}, v.id), ` ${v.package} ${v.version}`,
      v.fixed_version ? ` (fixed in ${v.fixed_version})` : ' (no fix yet)'))));
}
