// examples/webapp/server.js: topic pages on the web, served straight from the archive extension.
//
//   GET /                     the topic index (archive.topic_pages: name, posts, span)
//   GET /topics/<slug>        the topic's page, archive.topic_html(slug), as stored by the last refresh
//   GET /topics/<slug>.json   the topic's page record: its archive.topic_pages row as JSON
//
// Pages and records carry an ETag made of the page's refresh time and the last change it was
// refreshed through (refreshed_at, refreshed_through_change): a conditional request
// (If-None-Match) for an unchanged page gets 304 Not Modified. Unknown topics get 404.
//
// The database is the one libpq's environment names (PGHOST, PGPORT, PGDATABASE, PGUSER,
// PGPASSWORD...); the server listens on HOST (default 127.0.0.1) and PORT (default 3000; 0 picks a
// free port) and prints the address it listens on. Only the `pg` client is used.
'use strict';

const http = require('node:http');
const { Pool } = require('pg');

// Where topic pages live in this app; adjacent-thread links in the pages point here when the
// database builds them with archive.topic_url set to this pattern (see README.md).
const TOPIC_URL = '/topics/{slug}';
// Topic slugs as the extension makes them: lower-case letters and digits joined by hyphens
// (a "--" only in the suffix that keeps two tags' slugs apart).
const SLUG = /^[a-z0-9]+(?:--?[a-z0-9]+)*$/;
// The same policy as the pages' own <meta> one: the inline style, nothing else (inline SVG needs
// no fetch); the headers add what a <meta> policy cannot say.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

const pool = new Pool({
  application_name: process.env.PGAPPNAME || 'archive-webapp',
  // Times in the JSON records in UTC, as the pages show them.
  options: [process.env.PGOPTIONS, '-c TimeZone=UTC'].filter(Boolean).join(' '),
  max: Number(process.env.PG_POOL_MAX || 4),
});
pool.on('error', (err) => console.error(`database connection error: ${err.message}`));

// Text made safe for HTML element content and attribute values.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// A month as the pages write it, in UTC: "Mar 2020".
function formatMonth(date) {
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

// A topic's span for the index: "Apr 2010 – Jan 2026", "Feb 2017", or "undated".
function formatSpan(first, last) {
  if (!first && !last) return 'undated';
  const from = formatMonth(first || last);
  const to = formatMonth(last || first);
  return from === to ? from : `${from} – ${to}`;
}

// The ETag of a page: its refresh time (in microseconds) and the change it was refreshed through;
// a suffix keeps the validators of the page and of its record apart.
function pageEtag(row, suffix = '') {
  return `"${row.refreshed_through_change}.${row.refreshed_us}${suffix}"`;
}

// Whether an If-None-Match header matches the ETag (weak comparison, as RFC 9110 asks for it).
function etagMatches(header, etag) {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = (tag) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => bare(tag) === bare(etag));
}

// Sends a response; HEAD gets the headers alone.
function send(req, res, status, headers, body) {
  const buffer = body === undefined ? undefined : Buffer.from(body, 'utf8');
  const all = { ...SECURITY_HEADERS, ...headers };
  if (buffer !== undefined) all['Content-Length'] = buffer.length;
  res.writeHead(status, all);
  res.end(req.method === 'HEAD' ? undefined : buffer);
}

// Sends a cacheable representation, or 304 when the client already holds it.
function sendCached(req, res, etag, lastModified, type, body) {
  const headers = {
    ETag: etag,
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': 'no-cache',
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    send(req, res, 304, headers);
    return;
  }
  send(req, res, 200, { ...headers, 'Content-Type': type }, body);
}

// The app's own pages (index, errors) share the topic pages' look.
const STYLE = `body{margin:0;background:#fdfdfb;color:#1d1f21;font:1.0625rem/1.65 Charter,'Iowan Old Style',Georgia,serif}
main{max-width:42rem;margin:0 auto;padding:2.5rem 1.25rem 4rem}
h1{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.25;font-size:2rem;margin:0 0 1.25rem}
a{color:#0b57a4;text-underline-offset:.15em}
table{width:100%;border-collapse:collapse;margin-top:1.5rem}
th,td{padding:.45rem .5rem;border-bottom:1px solid #e3e5e8;vertical-align:baseline}
th{font:600 .8rem/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#5f666d;text-align:left;text-transform:uppercase;letter-spacing:.04em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.span{color:#4b5157;white-space:nowrap}
.lede{color:#4b5157}`;

function htmlDocument(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
${body}</main>
</body>
</html>
`;
}

function notFound(req, res, what) {
  const body = htmlDocument('Not found',
    `<h1>Not found</h1>\n<p>${escapeHtml(what)}</p>\n<p><a href="/">All topics</a></p>\n`);
  send(req, res, 404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, body);
}

// The columns every handler reads the validators from.
const VALIDATORS = `p.refreshed_through_change,
  (extract(epoch FROM p.refreshed_at) * 1000000)::bigint::text AS refreshed_us,
  p.refreshed_at`;

async function serveIndex(req, res) {
  const { rows } = await pool.query(
    `SELECT p.topic, p.name, p.post_count, p.first_published, p.last_published, ${VALIDATORS}
     FROM archive.topic_pages AS p
     ORDER BY p.post_count DESC, p.name, p.topic`);
  // The index changes when any page does, or when a topic comes or goes.
  const latest = rows.reduce((a, r) => (a && BigInt(a.refreshed_us) >= BigInt(r.refreshed_us) ? a : r), null);
  const maxChange = rows.reduce((m, r) => (BigInt(r.refreshed_through_change) > m ? BigInt(r.refreshed_through_change) : m), 0n);
  const etag = `"index.${rows.length}.${maxChange}.${latest ? latest.refreshed_us : 0}"`;
  const items = rows.map((r) => `<tr><td><a href="${escapeHtml(TOPIC_URL.replace('{slug}', r.topic))}">${escapeHtml(r.name)}</a></td>`
    + `<td class="n">${escapeHtml(r.post_count)}</td>`
    + `<td class="span">${escapeHtml(formatSpan(r.first_published, r.last_published))}</td></tr>`);
  const body = rows.length === 0
    ? '<h1>Topics</h1>\n<p class="lede">There are no topic pages yet: load posts and run <code>SELECT archive.refresh()</code>.</p>\n'
    : `<h1>Topics</h1>
<p class="lede">${rows.length} ${rows.length === 1 ? 'topic' : 'topics'}, largest first.</p>
<table>
<thead><tr><th scope="col">Topic</th><th scope="col" class="n">Posts</th><th scope="col">Span</th></tr></thead>
<tbody>
${items.join('\n')}
</tbody>
</table>
`;
  sendCached(req, res, etag, latest ? latest.refreshed_at : new Date(0),
    'text/html; charset=utf-8', htmlDocument('Topics', body));
}

async function serveTopic(req, res, slug) {
  const { rows } = await pool.query(
    `SELECT archive.topic_html(p.topic) AS html, ${VALIDATORS}
     FROM archive.topic_pages AS p WHERE p.topic = $1`, [slug]);
  if (rows.length === 0) return notFound(req, res, `There is no topic “${slug}”.`);
  sendCached(req, res, pageEtag(rows[0]), rows[0].refreshed_at, 'text/html; charset=utf-8', rows[0].html);
}

async function serveRecord(req, res, slug) {
  // The row as JSON text made by the server: the view's columns in order, every digit kept.
  const { rows } = await pool.query(
    `SELECT row_to_json(p)::text || E'\\n' AS record, ${VALIDATORS}
     FROM archive.topic_pages AS p WHERE p.topic = $1`, [slug]);
  if (rows.length === 0) {
    send(req, res, 404, { 'Content-Type': 'application/json; charset=utf-8' },
      `${JSON.stringify({ error: 'unknown topic', topic: slug })}\n`);
    return;
  }
  sendCached(req, res, pageEtag(rows[0], '.json'), rows[0].refreshed_at,
    'application/json; charset=utf-8', rows[0].record);
}

async function route(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'Method not allowed\n');
    return;
  }
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path === '/') return serveIndex(req, res);
  // Browsers ask for it unprompted; there is none, and that is no error.
  if (path === '/favicon.ico') return send(req, res, 204, { 'Cache-Control': 'max-age=86400' });
  const match = /^\/topics\/([^/]+?)(\.json)?$/.exec(path);
  if (match && SLUG.test(match[1])) {
    return match[2] ? serveRecord(req, res, match[1]) : serveTopic(req, res, match[1]);
  }
  return notFound(req, res, match ? `There is no topic “${decodeURIComponentSafe(match[1])}”.` : 'There is no such page.');
}

function decodeURIComponentSafe(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Warns when the stored pages link adjacent threads somewhere other than this app.
async function checkTopicUrl() {
  try {
    const { rows } = await pool.query(
      `SELECT s.settings ->> 'topic_url' AS built_with, current_database() AS db FROM archive.refresh_state AS s`);
    if (rows.length === 0) {
      console.warn('archive-webapp: the pages were never refreshed: run SELECT archive.refresh()');
    } else if (rows[0].built_with !== TOPIC_URL) {
      console.warn(`archive-webapp: the pages were built with archive.topic_url = '${rows[0].built_with || ''}', `
        + `so adjacent threads do not link to this app; run\n`
        + `  ALTER DATABASE ${rows[0].db} SET archive.topic_url = '${TOPIC_URL}';\n`
        + `and, in a new session, SELECT archive.refresh(full => true);`);
    }
  } catch (err) {
    console.warn(`archive-webapp: could not read archive.refresh_state: ${err.message}`);
  }
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    console.error(`archive-webapp: ${req.method} ${req.url}: ${err.message}`);
    if (!res.headersSent) {
      send(req, res, 500, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Internal server error\n');
    } else {
      res.destroy();
    }
  });
});

function shutdown(signal) {
  console.log(`archive-webapp: ${signal}, stopping`);
  server.close(() => pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
  setTimeout(() => process.exit(1), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
checkTopicUrl().then(() => {
  server.listen(port, host, () => {
    const address = server.address();
    console.log(`archive-webapp: listening on http://${address.address}:${address.port}/`);
  });
});
