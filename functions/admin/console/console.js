// Hooklane console: plain DOM, no framework. Every value from the API goes
// into the page as text (textContent), never as HTML.
'use strict';

// ------------------------------------------------------------ credentials

const TOKEN_KEY = 'hooklane.token';
const PORTAL_KEY = 'hooklane.portal';

/** A portal link's token arrives in the fragment (`#portal=…`), which no
 *  server or proxy sees; it moves to sessionStorage and leaves the URL. */
function takePortalToken() {
  const m = /^#portal=([A-Za-z0-9_.\-]+)$/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(PORTAL_KEY, m[1]);
  sessionStorage.removeItem(TOKEN_KEY);
  history.replaceState(null, '', location.pathname + '#/');
}

function portalToken() { return sessionStorage.getItem(PORTAL_KEY); }
function credential() { return portalToken() || sessionStorage.getItem(TOKEN_KEY); }

/** The one bot a portal token opens (`hlp_{bot}.{created}.{expiry}.{sig}`). */
function portalBot() {
  const t = portalToken();
  return t ? t.slice(4).split('.')[0] : null;
}

// ------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const base = portalToken() ? '/portal/v1' : '/v1';
  const init = { method, headers: { Authorization: 'Bearer ' + credential() } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (!r.ok) {
    const e = (json && json.error) || {};
    if (r.status === 401) signOut(e.message || 'Signed out.', true);
    throw new ApiError(r.status, e.code || 'error', e.message || ('HTTP ' + r.status));
  }
  return json;
}

const enc = encodeURIComponent;

// ------------------------------------------------------------ DOM helpers

/** h('p', {class: 'x'}, 'text', child…): an element; children are text or nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const view = () => document.getElementById('view');

/** A secret or key answered by a create, shown on the page it leads to. */
let pendingOnce = null;
function takeOnce() { const o = pendingOnce; pendingOnce = null; return o ? shownOnce(o[0], o[1]) : null; }

function say(text) {
  const s = document.getElementById('status');
  s.textContent = text;
  clearTimeout(say.t);
  say.t = setTimeout(() => { s.textContent = ''; }, 4000);
}

function fmtTime(t) { return t ? new Date(t).toLocaleString() : '—'; }
function pill(status) { return h('span', { class: 'pill st-' + status }, status); }
function brief(v) { return v === undefined ? '' : JSON.stringify(v, null, 1); }

function copyButton(text, label) {
  return h('button', {
    type: 'button', class: 'quiet', 'aria-label': label,
    onclick: async (ev) => {
      try { await navigator.clipboard.writeText(text); say('Copied.'); }
      catch (_) { say('Copy is blocked here; select the text instead.'); }
      ev.target.focus();
    },
  }, 'Copy');
}

/** A value shown this once (a secret or key); it is never read back. */
function shownOnce(label, value) {
  return h('div', { class: 'secret-once', role: 'alert' },
    h('strong', {}, label + ' (shown once, copy it now): '),
    h('code', { class: 'once-value' }, value), ' ', copyButton(value, 'Copy ' + label));
}

/** Shows an API refusal next to the field its message names (`name`,
 *  `auth.secret`, `actions[1].url` → the field for `name`, `auth`,
 *  `actions`), or in the form's own error line. */
function showError(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const m = /^`([A-Za-z_]+)/.exec(err.message || '');
  const key = m && m[1];
  const field = key && form.querySelector('[data-field="' + key + '"]');
  const line = (field && form.querySelector('#' + field.id + '-error')) || form.querySelector('.form-error');
  if (field) field.setAttribute('aria-invalid', 'true');
  line.textContent = err.message;
  (field || line).focus && (field || line).focus();
}

function field(id, label, input, hint) {
  input.id = id;
  input.setAttribute('aria-describedby', id + '-error' + (hint ? ' ' + id + '-hint' : ''));
  return h('div', {},
    h('label', { for: id }, label), input,
    hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null,
    h('p', { class: 'field-error', id: id + '-error' }));
}

// ------------------------------------------------------------ routing

let timer = null;
function every(ms, fn) { clearInterval(timer); timer = setInterval(fn, ms); }

function crumbs(parts) {
  const nav = document.getElementById('crumbs');
  nav.replaceChildren(...parts.map(([text, href], i) =>
    i === parts.length - 1 ? h('span', { 'aria-current': 'page' }, text) : h('a', { href }, text + ' ›')));
}

async function route() {
  clearInterval(timer);
  const signedIn = !!credential();
  document.getElementById('sign-in').hidden = signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  const scope = document.getElementById('scope');
  scope.hidden = !portalToken();
  scope.textContent = portalToken() ? 'Portal: ' + portalBot() : '';
  if (!signedIn) { view().replaceChildren(); crumbs([]); return; }
  const p = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const pb = portalBot();
  try {
    if (pb && p[1] !== pb) { location.hash = '#/bots/' + enc(pb); return; }
    if (pb && !(p.length === 2 || (p[2] === 'endpoints' && p.length <= 4))) portalElsewhere(pb);
    else if (p[0] === 'bots' && p[2] === 'hooks' && p[3]) await hookPage(p[1], p[3]);
    else if (p[0] === 'bots' && p[2] === 'endpoints' && p[3]) await endpointPage(p[1], p[3]);
    else if (p[0] === 'bots' && p[1]) await botPage(p[1], p[2] || (pb ? 'endpoints' : 'hooks'));
    else await botsPage();
  } catch (e) {
    view().replaceChildren(h('div', { class: 'card', role: 'alert' }, h('h1', {}, 'Could not load this page'), h('p', {}, e.message)));
  }
  document.getElementById('main').focus();
}

/** A page a portal link does not open (a hook, the hooks tab): what the
 *  link is for, instead of the API's "no such route". */
function portalElsewhere(botId) {
  const home = '#/bots/' + enc(botId);
  crumbs([[botId, home]]);
  view().replaceChildren(h('div', { class: 'card', id: 'portal-elsewhere' },
    h('h1', {}, 'Not part of this link'),
    h('p', {}, 'This link gives access to ', h('code', {}, botId), '\'s endpoints and deliveries only: ',
      'not its hooks, runs or variables, nor other bots.'),
    h('p', {}, h('a', { href: home + '/endpoints' }, 'Open its endpoints'))));
}

/** Forgets the credential; `refused` (the API's 401) keeps `why` on the
 *  sign-in page, such as a portal link whose bot was deleted. */
function signOut(why, refused) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PORTAL_KEY);
  if (why) say(why);
  document.getElementById('sign-in-error').textContent = refused ? why : '';
  location.hash = '#/';
  route();
}

// ------------------------------------------------------------ bots

async function botsPage() {
  crumbs([['Bots', '#/']]);
  const list = h('div', {});
  const openForm = h('form', { class: 'row', onsubmit: (ev) => { ev.preventDefault(); location.hash = '#/bots/' + enc(openForm.bot.value.trim()); } },
    h('label', { for: 'open-bot', class: 'sr' }, 'Bot id'), h('input', { id: 'open-bot', name: 'bot', type: 'text', required: true, placeholder: 'bot id' }),
    h('button', { type: 'submit', class: 'quiet' }, 'Open'));
  const form = h('form', { id: 'new-bot', onsubmit: createBot },
    h('h2', {}, 'New bot'),
    h('div', { class: 'grid2' },
      field('bot-name', 'Name', h('input', { type: 'text', name: 'name', 'data-field': 'name', required: true })),
      field('bot-id', 'Id (optional)', h('input', { type: 'text', name: 'id', 'data-field': 'id' }), 'Your platform\'s id, or leave it empty for a generated one.')),
    h('p', { class: 'field-error form-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Create bot'), h('div', { class: 'once' }));
  view().replaceChildren(h('h1', {}, 'Bots'), list, h('div', { class: 'card' }, h('h2', {}, 'Open a bot'), openForm), h('div', { class: 'card' }, form));
  try {
    const page = await api('GET', '/bots?limit=100');
    list.replaceChildren(page.data.length ? table(['Bot', 'Id', 'Created'], page.data.map(b =>
      [h('a', { href: '#/bots/' + enc(b.id) }, b.name), h('code', {}, b.id), fmtTime(b.created_at)]), 'Bots, newest first')
      : h('p', { class: 'muted' }, 'No bots yet.'));
  } catch (e) {
    list.replaceChildren(h('p', { class: 'muted' }, 'Bots cannot be listed here (' + e.message + '); open one by its id.'));
  }
}

async function createBot(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = { name: f.name.value };
  if (f.id.value.trim()) body.id = f.id.value.trim();
  try {
    const bot = await api('POST', '/bots', body);
    f.querySelector('.once').replaceChildren(shownOnce('API key', bot.api_key), h('p', {}, h('a', { href: '#/bots/' + enc(bot.id) }, 'Open ' + bot.name)));
    say('Bot created.');
  } catch (e) { showError(f, e); }
}

function table(heads, rows, caption, attrs) {
  return h('table', attrs || {}, caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, heads.map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map(r => h('tr', {}, r.map(c => h('td', {}, c))))));
}

async function botPage(botId, tab) {
  const bot = await api('GET', '/bots/' + enc(botId));
  const pb = portalBot();
  crumbs(pb ? [[bot.name, '#/bots/' + enc(botId)]] : [['Bots', '#/'], [bot.name, '#/bots/' + enc(botId)]]);
  const tabs = pb ? ['endpoints'] : ['hooks', 'endpoints'];
  const body = h('div', {});
  view().replaceChildren(h('h1', {}, bot.name, ' ', h('code', { class: 'muted' }, bot.id)),
    h('nav', { class: 'tabs', 'aria-label': 'Sections' }, tabs.map(t =>
      h('a', { href: '#/bots/' + enc(botId) + '/' + t, 'aria-current': t === tab ? 'page' : null }, t[0].toUpperCase() + t.slice(1)))),
    body);
  if (tab === 'endpoints') await endpointsTab(botId, body);
  else await hooksTab(botId, body);
}

// ------------------------------------------------------------ hooks

// Every auth type and hmac scheme the API takes (docs/inbound.md).
const AUTH_TYPES = ['api_key', 'secret_header', 'hmac', 'signed_url', 'discord', 'telegram', 'none'];
const SCHEMES = ['standard', 'github', 'stripe', 'slack', 'shopify', 'twilio', 'generic'];
const ALGORITHMS = ['sha256', 'sha512'];
const ENCODINGS = ['hex', 'base64'];

/** Whether this console knows `auth` well enough to edit it: one it does
 *  not (a type or scheme newer than it) is shown as it is and never sent. */
function editableAuth(auth) {
  return !auth || (AUTH_TYPES.includes(auth.type) && (auth.type !== 'hmac' || SCHEMES.includes(auth.scheme)));
}

function options(values, current) {
  return values.map(v => h('option', { value: v, selected: v === current }, v));
}

/** The auth controls of a hook form: type, and the fields each type takes,
 *  filled from `current` (the hook's auth as read; secrets never are). A
 *  change to any of them marks the box `data-changed`. */
function authFields(prefix, current) {
  if (!editableAuth(current)) {
    return h('div', { id: prefix + '-auth-fixed' },
      h('p', {}, h('strong', {}, 'Auth '), h('code', {}, JSON.stringify(current))),
      h('p', { class: 'hint' }, 'This console cannot edit this auth; saving leaves it as it is. Change it through the API.'));
  }
  const c = current || { type: 'api_key' };
  const generic = c.type === 'hmac' && c.scheme === 'generic';
  const type = h('select', { name: 'auth_type', 'data-field': 'auth' }, options(AUTH_TYPES, c.type));
  const scheme = h('select', { name: 'scheme' }, options(SCHEMES, c.scheme || 'standard'));
  const header = h('input', { type: 'text', name: 'header', value: c.type === 'secret_header' ? c.header : '', placeholder: 'x-hook-secret' });
  const sigHeader = h('input', { type: 'text', name: 'sig_header', value: generic ? c.header : '', placeholder: 'X-Signature' });
  const algorithm = h('select', { name: 'algorithm' }, options(ALGORITHMS, c.algorithm || 'sha256'));
  const encoding = h('select', { name: 'encoding' }, options(ENCODINGS, c.encoding || 'hex'));
  const sigPrefix = h('input', { type: 'text', name: 'prefix', value: c.prefix || '', placeholder: 'sha256=' });
  const secret = h('input', { type: 'password', name: 'secret', autocomplete: 'off' });
  const publicKey = h('input', { type: 'text', name: 'public_key', value: c.public_key || '', autocomplete: 'off', spellcheck: 'false' });
  const secretToken = h('input', { type: 'password', name: 'secret_token', autocomplete: 'off' });
  const boxes = {
    scheme: field(prefix + '-scheme', 'Signature scheme', scheme),
    header: field(prefix + '-header', 'Header', header, 'Default x-hook-secret.'),
    sigHeader: field(prefix + '-sig-header', 'Signature header', sigHeader, 'The header the sender puts its signature in.'),
    algorithm: field(prefix + '-algorithm', 'Algorithm', algorithm),
    encoding: field(prefix + '-encoding', 'Encoding', encoding),
    prefix: field(prefix + '-prefix', 'Prefix (optional)', sigPrefix, 'Text before the signature in the header, such as sha256=.'),
    secret: field(prefix + '-secret', 'Secret', secret, current
      ? 'Leave empty to keep the current secret (when the type stays).'
      : 'secret_header: leave empty and one is generated. hmac: the provider\'s signing secret.'),
    publicKey: field(prefix + '-public-key', 'Public key', publicKey, 'The Discord application\'s public key (Developer Portal, General Information), 64 hex characters.'),
    secretToken: field(prefix + '-secret-token', 'Secret token', secretToken, current
      ? 'Leave empty to keep the current token (when the type stays), or to have one made and shown once.'
      : 'Leave empty and one is made and shown once. Give the same to Telegram\'s setWebhook.'),
  };
  const sync = () => {
    const t = type.value, isGeneric = t === 'hmac' && scheme.value === 'generic';
    boxes.scheme.hidden = t !== 'hmac';
    boxes.header.hidden = t !== 'secret_header';
    for (const b of [boxes.sigHeader, boxes.algorithm, boxes.encoding, boxes.prefix]) b.hidden = !isGeneric;
    boxes.secret.hidden = !['hmac', 'secret_header'].includes(t);
    boxes.publicKey.hidden = t !== 'discord';
    boxes.secretToken.hidden = t !== 'telegram';
  };
  type.addEventListener('change', sync);
  scheme.addEventListener('change', sync);
  sync();
  const box = h('div', { class: 'auth-fields' }, field(prefix + '-auth', 'Auth', type), Object.values(boxes));
  const changed = () => { box.dataset.changed = 'true'; };
  box.addEventListener('input', changed);
  box.addEventListener('change', changed);
  return box;
}

/** Whether `a` (no secret in it) says what `current` (as read) says. */
function sameAuth(a, current) {
  const keys = (o) => Object.keys(o).filter(k => o[k] !== undefined).sort();
  const ka = keys(a), kc = keys(current);
  return ka.length === kc.length && ka.every((k, i) => k === kc[i] && a[k] === current[k]);
}

/** The `auth` to send from form `f`, or `undefined` to send none: on an
 *  edit (`current`, the hook's auth as read) only when the auth controls
 *  were changed and say something else, never for an auth the console
 *  cannot edit. Secret fields left empty are left out (the API keeps the
 *  current ones while the type stays). */
function authBody(f, current) {
  const box = f.querySelector('.auth-fields');
  if (!box || (current && !box.dataset.changed)) return undefined;
  // By name through `elements`: `encoding` and `prefix` are also form properties.
  const value = (name) => f.elements.namedItem(name).value;
  const text = (name) => value(name).trim();
  const t = value('auth_type');
  const a = { type: t };
  if (t === 'secret_header') {
    if (text('header')) a.header = text('header');
    if (value('secret')) a.secret = value('secret');
  } else if (t === 'hmac') {
    a.scheme = value('scheme');
    if (a.scheme === 'generic') {
      if (text('sig_header')) a.header = text('sig_header');
      a.algorithm = value('algorithm');
      a.encoding = value('encoding');
      if (text('prefix')) a.prefix = text('prefix');
    }
    if (value('secret')) a.secret = value('secret');
  } else if (t === 'discord') {
    if (text('public_key')) a.public_key = text('public_key');
  } else if (t === 'telegram') {
    if (value('secret_token')) a.secret_token = value('secret_token');
  }
  return current && sameAuth(a, current) ? undefined : a;
}

/** The secret a create or save made for the hook (shown once), as
 *  [label, value], or null. */
function madeSecret(auth) {
  if (auth.secret) return ['Hook secret', auth.secret];
  if (auth.secret_token) return ['Telegram secret token', auth.secret_token];
  return null;
}

function parseActions(f) {
  try { return JSON.parse(f.actions.value || '[]'); }
  catch (e) { throw new ApiError(400, 'invalid_json', '`actions` is not JSON: ' + e.message); }
}

async function hooksTab(botId, body) {
  const page = await api('GET', '/bots/' + enc(botId) + '/hooks?limit=100');
  const rows = page.data.map(hk => [
    h('a', { href: '#/bots/' + enc(botId) + '/hooks/' + enc(hk.id) }, hk.name),
    h('span', { class: 'row' }, h('code', {}, hk.url), copyButton(hk.url, 'Copy the URL of ' + hk.name)),
    hk.auth.type, pill(hk.enabled ? 'enabled' : 'disabled')]);
  const form = h('form', { id: 'new-hook', onsubmit: (ev) => createHook(ev, botId) },
    h('h2', {}, 'New hook'),
    h('div', { class: 'grid2' }, field('hook-name', 'Name', h('input', { type: 'text', name: 'name', 'data-field': 'name', value: 'Hook' })), authFields('new-hook')),
    field('hook-actions', 'Actions (JSON)', h('textarea', { name: 'actions', 'data-field': 'actions' }, '[{"type": "log", "message": "called with {payload}"}]'),
      'A list of actions; see docs/actions.md.'),
    h('p', { class: 'field-error form-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Create hook'), h('div', { class: 'once' }));
  body.replaceChildren(rows.length ? table(['Hook', 'URL', 'Auth', 'State'], rows, 'Hooks, newest first', { id: 'hooks' }) : h('p', { class: 'muted' }, 'No hooks yet.'),
    h('div', { class: 'card' }, form));
}

async function createHook(ev, botId) {
  ev.preventDefault();
  const f = ev.target;
  try {
    const hook = await api('POST', '/bots/' + enc(botId) + '/hooks', { name: f.name.value, auth: authBody(f), actions: parseActions(f) });
    pendingOnce = madeSecret(hook.auth);
    location.hash = '#/bots/' + enc(botId) + '/hooks/' + enc(hook.id);
    say('Hook created.');
  } catch (e) { showError(f, e); }
}

async function hookPage(botId, hookId) {
  const base = '/bots/' + enc(botId) + '/hooks/' + enc(hookId);
  const [bot, hook] = await Promise.all([api('GET', '/bots/' + enc(botId)), api('GET', base)]);
  crumbs([['Bots', '#/'], [bot.name, '#/bots/' + enc(botId)], [hook.name, '']]);
  const toggle = h('button', { type: 'button', id: 'hook-toggle', class: 'quiet', 'aria-pressed': String(hook.enabled),
    onclick: async () => {
      try { await api('PATCH', base, { enabled: !hook.enabled }); say(hook.enabled ? 'Hook disabled.' : 'Hook enabled.'); route(); }
      catch (e) { say(e.message); }
    } }, hook.enabled ? 'Disable' : 'Enable');
  const edit = h('form', { id: 'edit-hook', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const patch = { name: f.name.value, methods: f.methods.value.split(',').map(s => s.trim()).filter(Boolean), actions: parseActions(f) };
      const auth = authBody(f, hook.auth);
      if (auth) patch.auth = auth;
      const saved = await api('PATCH', base, patch);
      say('Saved.');
      const made = madeSecret(saved.auth);
      if (made) document.getElementById('hook-once').replaceChildren(shownOnce(made[0], made[1]));
      else route();
    } catch (e) { showError(f, e); }
  } },
  h('h2', {}, 'Edit'),
  h('div', { class: 'grid2' },
    h('div', {}, field('edit-name', 'Name', h('input', { type: 'text', name: 'name', 'data-field': 'name', value: hook.name })),
      field('edit-methods', 'Methods', h('input', { type: 'text', name: 'methods', 'data-field': 'methods', value: hook.methods.join(', ') }), 'Comma-separated, e.g. POST, GET.')),
    authFields('edit', hook.auth)),
  field('edit-actions', 'Actions (JSON)', h('textarea', { name: 'actions', 'data-field': 'actions', rows: 10 }, JSON.stringify(hook.actions, null, 2))),
  h('p', { class: 'field-error form-error', role: 'alert' }),
  h('button', { type: 'submit' }, 'Save'));
  const runs = h('div', { id: 'runs' });
  view().replaceChildren(
    h('h1', {}, hook.name, ' ', pill(hook.enabled ? 'enabled' : 'disabled')),
    h('div', { id: 'hook-once' }, takeOnce()),
    h('div', { class: 'card' },
      h('p', { class: 'row' }, h('strong', {}, 'URL '), h('code', { id: 'hook-url' }, hook.url), copyButton(hook.url, 'Copy the hook URL')),
      h('p', {}, h('strong', {}, 'Auth '), h('code', { id: 'hook-auth' }, JSON.stringify(hook.auth)), h('span', { class: 'muted' }, ' (secrets are never shown again)')),
      h('p', { class: 'row' }, toggle)),
    h('h2', {}, 'Run log'), runs,
    h('div', { class: 'card' }, edit));
  const load = async () => {
    const page = await api('GET', base + '/runs?limit=25');
    runs.replaceChildren(page.data.length ? table(['Run', 'Status', 'Received', 'Actions'], page.data.map(r => [
      h('code', {}, r.id), pill(r.status), fmtTime(r.received_at),
      [...runNotes(r), h('ol', { class: 'actions-list', start: 0 }, r.actions.map(a => h('li', {},
        h('strong', {}, a.type), ' ', pill(a.status), ' ', a.duration_ms + ' ms', h('pre', { class: 'detail' }, brief(a.detail)))))],
    ]), 'Runs, newest first (refreshes every 2 s)', { id: 'run-log' }) : h('p', { class: 'muted', id: 'run-log-empty' }, 'No calls yet. Call the URL above; runs appear here.'));
  };
  await load();
  every(2000, () => load().catch(() => {}));
}

/** What a run says of itself beside its actions: why it failed or is
 *  retried (`error`), and the placeholders its templates named that were
 *  not found (left as written). */
function runNotes(r) {
  const unknown = r.unknown_placeholders || [];
  return [
    r.error ? h('p', { class: 'run-error' }, h('strong', {}, 'Error: '), r.error) : null,
    unknown.length ? h('p', { class: 'run-unknown' }, h('strong', {}, 'Not found, left as written: '),
      unknown.flatMap((p, i) => [i ? ', ' : '', h('code', {}, '{' + p + '}')])) : null,
  ];
}

// ------------------------------------------------------------ endpoints

async function endpointsTab(botId, body) {
  const page = await api('GET', '/bots/' + enc(botId) + '/endpoints?limit=100');
  const rows = page.data.map(ep => [
    h('a', { href: '#/bots/' + enc(botId) + '/endpoints/' + enc(ep.id) }, ep.name), h('code', {}, ep.url), ep.type,
    ep.events.length ? ep.events.join(', ') : 'every event', pill(ep.enabled ? 'enabled' : 'disabled')]);
  const parts = [rows.length ? table(['Endpoint', 'URL', 'Type', 'Events', 'State'], rows, 'Endpoints, newest first', { id: 'endpoints' }) : h('p', { class: 'muted' }, 'No endpoints yet.')];
  if (!portalBot()) {
    parts.push(h('div', { class: 'card' }, h('form', { id: 'new-endpoint', onsubmit: (ev) => createEndpoint(ev, botId) },
      h('h2', {}, 'New endpoint'),
      h('div', { class: 'grid2' },
        field('ep-name', 'Name', h('input', { type: 'text', name: 'name', 'data-field': 'name', value: 'Endpoint' })),
        field('ep-type', 'Type', h('select', { name: 'type', 'data-field': 'type' }, ['custom', 'discord', 'slack'].map(t => h('option', { value: t }, t))))),
      field('ep-url', 'URL', h('input', { type: 'url', name: 'url', 'data-field': 'url', required: true, placeholder: 'https://…' })),
      field('ep-events', 'Events', h('input', { type: 'text', name: 'events', 'data-field': 'events' }), 'Comma-separated, e.g. order.*, server.created; empty for every event.'),
      h('p', { class: 'field-error form-error', role: 'alert' }),
      h('button', { type: 'submit' }, 'Create endpoint'))));
  }
  body.replaceChildren(...parts);
}

async function createEndpoint(ev, botId) {
  ev.preventDefault();
  const f = ev.target;
  try {
    const ep = await api('POST', '/bots/' + enc(botId) + '/endpoints', {
      name: f.name.value, type: f.type.value, url: f.url.value.trim(),
      events: f.events.value.split(',').map(s => s.trim()).filter(Boolean) });
    pendingOnce = ['Signing secret', ep.secret];
    location.hash = '#/bots/' + enc(botId) + '/endpoints/' + enc(ep.id);
    say('Endpoint created.');
  } catch (e) { showError(f, e); }
}

const CHART_HOURS = 6;
const BUCKET_MINUTES = 15;

/** Deliveries, failures and mean latency per 15 minutes over the last hours. */
function series(rows) {
  const step = BUCKET_MINUTES * 60;
  const end = Math.ceil(Date.now() / 1000 / step) * step;
  const n = CHART_HOURS * 60 / BUCKET_MINUTES;
  const xs = [], total = [], failed = [], latency = [], sum = [], count = [];
  for (let i = 0; i < n; i++) { xs.push(end - (n - i) * step); total.push(0); failed.push(0); sum.push(0); count.push(0); }
  for (const r of rows) {
    const i = Math.floor((Date.parse(r.triggered_at) / 1000 - xs[0]) / step);
    if (i < 0 || i >= n) continue;
    total[i]++;
    if (r.status !== 'succeeded') failed[i]++;
    if (r.response_time_ms !== null) { sum[i] += r.response_time_ms; count[i]++; }
  }
  for (let i = 0; i < n; i++) latency.push(count[i] ? Math.round(sum[i] / count[i]) : null);
  return [xs, total, failed, latency];
}

function chart(el, rows) {
  el.replaceChildren();
  const width = Math.max(320, Math.min(1100, (el.clientWidth || 940) - 44));
  // eslint-disable-next-line no-undef
  new uPlot({
    title: 'Last ' + CHART_HOURS + ' hours, per ' + BUCKET_MINUTES + ' minutes', width, height: 220,
    scales: { ms: { auto: true } },
    series: [{}, { label: 'Deliveries', stroke: '#1f6feb', width: 2 }, { label: 'Failures', stroke: '#cf222e', width: 2 },
      { label: 'Latency (ms)', stroke: '#9a6700', dash: [6, 4], scale: 'ms' }],
    axes: [{}, { label: 'attempts' }, { side: 1, scale: 'ms', label: 'ms', grid: { show: false } }],
  }, series(rows), el);
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', 'Chart of deliveries, failures and latency; the same rows are in the delivery log below.');
}

async function recentDeliveries(base) {
  const since = Date.now() - CHART_HOURS * 3600 * 1000;
  let rows = [], cursor = null;
  for (let i = 0; i < 5; i++) {
    const page = await api('GET', base + '/deliveries?limit=100' + (cursor ? '&cursor=' + enc(cursor) : ''));
    rows = rows.concat(page.data);
    cursor = page.next;
    if (!cursor || !page.data.length || Date.parse(page.data[page.data.length - 1].triggered_at) < since) break;
  }
  return rows;
}

async function endpointPage(botId, epId) {
  const base = '/bots/' + enc(botId) + '/endpoints/' + enc(epId);
  const [bot, ep] = await Promise.all([api('GET', '/bots/' + enc(botId)), api('GET', base)]);
  const pb = portalBot();
  crumbs((pb ? [] : [['Bots', '#/']]).concat([[bot.name, '#/bots/' + enc(botId) + '/endpoints'], [ep.name, '']]));
  const act = (label, id, fn, cls) => h('button', { type: 'button', id, class: cls || 'quiet', onclick: async (ev) => {
    ev.target.disabled = true;
    try { await fn(); } catch (e) { say(e.message); } finally { ev.target.disabled = false; }
  } }, label);
  const recover = h('form', { id: 'recover', class: 'row', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const since = new Date(f.since.value).toISOString();
      const r = await api('POST', base + '/recover', { since });
      say(r.recovered + ' failed message(s) queued again.');
    } catch (e) { showError(f, e); }
  } }, h('label', { for: 'recover-since' }, 'Recover failures since'),
  h('input', { id: 'recover-since', name: 'since', type: 'datetime-local', 'data-field': 'since', required: true,
    value: new Date(Date.now() - 86400000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) }),
  h('button', { type: 'submit', class: 'quiet' }, 'Recover'), h('p', { class: 'field-error form-error', role: 'alert' }));
  const chartEl = h('div', { class: 'chart card', id: 'endpoint-chart' });
  const log = h('div', { id: 'deliveries' });
  view().replaceChildren(
    h('h1', {}, ep.name, ' ', pill(ep.enabled ? 'enabled' : 'disabled')),
    h('div', { id: 'endpoint-once' }, takeOnce()),
    h('div', { class: 'card' },
      h('p', {}, h('strong', {}, 'URL '), h('code', {}, ep.url), ' · ', ep.type, ' · ', ep.events.length ? ep.events.join(', ') : 'every event'),
      ep.disabled_reason ? h('p', { class: 'st-disabled' }, ep.disabled_reason) : null,
      h('div', { class: 'row' },
        act('Send test event', 'test-endpoint', async () => { await api('POST', base + '/test'); say('Test event queued.'); load(); }, ''),
        act('Rotate secret', 'rotate-secret', async () => {
          const r = await api('POST', base + '/secret/rotate', {});
          document.getElementById('endpoint-once').replaceChildren(shownOnce('New signing secret', r.secret),
            h('p', { class: 'hint' }, r.previous_secret_expires_at ? 'The old secret keeps signing until ' + fmtTime(r.previous_secret_expires_at) + '.' : ''));
        })),
      recover),
    h('h2', {}, 'Deliveries, failures and latency'), chartEl,
    h('h2', {}, 'Delivery log'), log);
  const load = async () => {
    const rows = await recentDeliveries(base);
    chart(chartEl, rows);
    const shown = rows.slice(0, 50);
    log.replaceChildren(shown.length ? table(['Event', 'Status', 'HTTP', 'Time', 'Response time', 'Attempt', 'Next retry', ''], shown.map(d => [
      h('span', {}, d.event, h('br'), h('code', { class: 'muted' }, d.message_id)), pill(d.status),
      d.http_status === null ? (d.error ? h('span', { title: d.error }, 'error') : '—') : String(d.http_status),
      fmtTime(d.triggered_at), d.response_time_ms === null ? '—' : d.response_time_ms + ' ms', String(d.attempt),
      d.next_attempt_at ? fmtTime(d.next_attempt_at) : '—',
      h('button', { type: 'button', class: 'quiet', 'aria-label': 'Resend ' + d.id, onclick: async () => {
        try { await api('POST', '/bots/' + enc(botId) + '/deliveries/' + enc(d.id) + '/resend'); say('Queued again.'); load(); }
        catch (e) { say(e.message); }
      } }, 'Resend'),
    ]), 'Attempts, newest first (refreshes every 2 s)', { id: 'delivery-log' }) : h('p', { class: 'muted', id: 'delivery-log-empty' }, 'No deliveries yet. Send a test event.'));
  };
  await load();
  every(2000, () => load().catch(() => {}));
}

// ------------------------------------------------------------ start

document.getElementById('sign-in-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = document.getElementById('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await api('GET', '/bots/_?limit=1').catch(e => { if (e.status === 401) throw e; });
    document.getElementById('token').value = '';
    route();
  } catch (e) {
    document.getElementById('sign-in-error').textContent = e.message;
  }
});
document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
window.addEventListener('hashchange', () => { takePortalToken(); route(); });
takePortalToken();
route();
