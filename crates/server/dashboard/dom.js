// Building the page's DOM. Text from the service (host names, reasons, tags: chosen by
// nodes or their operators) only ever becomes text nodes or attribute values; nothing
// here parses HTML.

// An element: `attrs` sets attributes (functions under `on` become listeners), then
// `children` (strings become text nodes; null and undefined are skipped).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    } else if (k.startsWith('on')) {
      throw new Error('event handlers are functions under "on"');
    } else {
      e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function replace(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

export function $(id) { return document.getElementById(id); }

export function time(unix) {
  if (!unix) return '';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function badge(word) {
  return el('span', { class: 'badge ' + String(word).replace(/[^a-z]/g, '') }, String(word));
}

// Fills a table: `columns` are [title, cell(row) -> node or string, text(row) -> string,
// attrs(row) -> the cell's attributes]; returns what is shown, for export.
export function fillTable(table, columns, rows, rowAttrs) {
  replace(table.tHead, el('tr', {}, columns.map(c => el('th', {}, c[0]))));
  const body = clear(table.tBodies[0]);
  for (const r of rows) {
    body.appendChild(el('tr', rowAttrs ? rowAttrs(r) : {}, columns.map(c => el('td', c[3] ? c[3](r) : {}, c[1](r)))));
  }
  return {
    columns: columns.map(c => c[0]),
    rows: rows.map(r => columns.map(c => (c[2] || c[1])(r))).map(cells => cells.map(textOf)),
    objects: rows,
  };
}

function textOf(v) {
  if (v === null || v === undefined) return '';
  if (v instanceof Node) return v.textContent;
  return String(v);
}
