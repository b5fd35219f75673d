// Export of what a view shows, built in the page: CSV and JSON files handed to the
// browser as Blob URLs through <a download> (no request leaves the page).

import { el } from './dom.js';

// One CSV field: quoted when needed, and prefixed with ' when a spreadsheet would read it
// as a formula (host names and reasons are attacker-influenced).
export function csvField(v) {
  let s = String(v ?? '');
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(columns, rows) {
  return [columns, ...rows].map(r => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Buttons that export `shown()` ({columns, rows, objects}) as `<name>-<date>.csv|json`.
export function exportButtons(holder, name, shown) {
  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  holder.replaceChildren(
    el('button', { type: 'button', class: 'export-csv', on: { click: () => {
      const s = shown();
      download(`${name}-${stamp()}.csv`, 'text/csv', toCsv(s.columns, s.rows));
    } } }, 'Export CSV'),
    el('button', { type: 'button', class: 'export-json', on: { click: () => {
      download(`${name}-${stamp()}.json`, 'application/json', JSON.stringify(shown().objects, null, 2));
    } } }, 'Export JSON'),
  );
}
