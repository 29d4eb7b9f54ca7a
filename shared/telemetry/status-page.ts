import { createHash } from 'node:crypto';

/**
 * The status page: one self-contained HTML document (no external scripts, styles or fonts: it must work on a
 * host with no internet and pass a strict CSP) that polls `status.json` beside it and draws every table the
 * process reports. Values are put in the page with `textContent` only, never as markup: file paths, target
 * URLs and error texts come from outside and may hold anything.
 */

export const STATUS_POLL_MS = 2_000;

const STYLE = `
  :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
  .meta { color: var(--muted); }
  .badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; color: #fff; font-weight: 600; }
  .ready { background: var(--ok); } .not-ready { background: var(--bad); }
  .problems { color: var(--bad); white-space: pre-wrap; margin: .5rem 0; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: .2rem .6rem; border-bottom: 1px solid #8884; text-align: left; vertical-align: top; }
  td.number, th.number { text-align: right; }
  .rate { color: var(--muted); font-size: .85em; margin-left: .3rem; }
  .empty { color: var(--muted); }
  #error { color: var(--bad); }
`;

const SCRIPT = `
'use strict';
const POLL_MS = ${STATUS_POLL_MS};
let previous;

function formatBytes(value) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value, unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) { scaled /= 1024; unit++; }
  return (unit === 0 ? String(scaled) : scaled.toFixed(1)) + ' ' + units[unit];
}
function formatNumber(value) {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}
let serverNow = Date.now();
function ago(time) {
  const seconds = Math.max(0, (serverNow - Date.parse(time)) / 1000);
  return seconds < 90 ? seconds.toFixed(seconds < 10 ? 1 : 0) + ' s ago' : seconds < 5400 ? Math.round(seconds / 60) + ' min ago' : time;
}
function format(value, unit) {
  if (value === null || value === undefined) return '–';
  if (unit === 'time' && typeof value === 'string') return ago(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value !== 'number') return String(value);
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'seconds') return (Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1)) + ' s';
  return formatNumber(value);
}
function rowKey(table, row) { return table.key.map((column) => String(row[column])).join('/'); }

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

function drawTable(table, seconds) {
  const section = document.createElement('section');
  section.dataset.table = table.id;
  section.append(cell('h2', table.title));
  if (table.rows.length === 0) { section.append(cell('div', 'none', 'empty')); return section; }
  const before = new Map();
  const old = previous && previous.tables.find((candidate) => candidate.id === table.id);
  if (old) for (const row of old.rows) before.set(rowKey(old, row), row);
  const element = document.createElement('table');
  const head = element.createTHead().insertRow();
  for (const column of table.columns) head.append(cell('th', column.label, column.unit ? 'number' : ''));
  const body = element.createTBody();
  for (const row of table.rows) {
    const line = body.insertRow();
    line.dataset.key = rowKey(table, row);
    const earlier = before.get(rowKey(table, row));
    for (const column of table.columns) {
      const value = row[column.key];
      const td = cell('td', format(value, column.unit), column.unit ? 'number' : '');
      td.dataset.column = column.key;
      if (column.unit === 'total' && typeof value === 'number' && earlier && typeof earlier[column.key] === 'number' && seconds > 0) {
        const rate = Math.max(0, (value - earlier[column.key]) / seconds);
        td.append(cell('span', (rate >= 10 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1)) + '/s', 'rate'));
      }
      line.append(td);
    }
  }
  section.append(element);
  return section;
}

function draw(status) {
  const seconds = previous ? (Date.parse(status.now) - Date.parse(previous.now)) / 1000 : 0;
  serverNow = Date.parse(status.now);
  document.title = 'Tributary ' + status.process + ' ' + status.id;
  const title = document.getElementById('title');
  title.textContent = 'Tributary ' + status.process + ' ' + status.id + ' ';
  title.append(cell('span', status.ready ? 'ready' : 'not ready', 'badge ' + (status.ready ? 'ready' : 'not-ready')));
  document.getElementById('meta').textContent =
    'version ' + status.version + ' · host ' + status.host + ' · pid ' + status.pid + ' · started ' + status.started_at + ' · updated ' + status.now;
  document.getElementById('problems').textContent = status.problems.join('\\n');
  const tables = document.getElementById('tables');
  tables.replaceChildren(...status.tables.map((table) => drawTable(table, seconds)));
  previous = status;
}

async function poll() {
  try {
    const response = await fetch('status.json', { cache: 'no-store' });
    if (!response.ok) throw new Error('status.json answered ' + response.status);
    draw(await response.json());
    document.getElementById('error').textContent = '';
  } catch (error) {
    document.getElementById('error').textContent = 'cannot reach the process: ' + error.message + ' (retrying)';
  }
  setTimeout(poll, POLL_MS);
}
poll();
`;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tributary status</title>
<style>${STYLE}</style>
</head>
<body>
<h1 id="title">Tributary</h1>
<div class="meta" id="meta"></div>
<div class="problems" id="problems"></div>
<div id="error"></div>
<main id="tables"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const digest = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Only this page's own script and style may run, and it may talk only to its own origin: a value that slipped
 * past `textContent` still could not load or send anything.
 */
export const STATUS_PAGE_CSP = `default-src 'none'; script-src ${digest(SCRIPT)}; style-src ${digest(STYLE)}; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
