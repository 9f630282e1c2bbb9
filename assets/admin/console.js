// The dbmcp operator console: plain JavaScript, no framework, no build step.
// Everything from the server (labels, client names, arguments) is put in the page as text
// (textContent / text nodes), never parsed as HTML.
'use strict';

const state = { csrf: null, services: [], service: null, logCursors: [], logDetail: null };
const $ = (selector) => document.querySelector(selector);

/** Builds an element: h('button', { class: 'x', onclick: f }, 'text', child...). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

class SessionEnded extends Error {}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { 'x-csrf-token': state.csrf || '', ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    endSession('Your console session has ended (it expired, you signed out, or the admin token changed). Sign in again.');
    throw new SessionEnded();
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error_description: text }; }
  }
  if (!res.ok) {
    const error = new Error((data && (data.error_description || data.error)) || `HTTP ${res.status}`);
    error.status = res.status;
    error.code = data && data.error;
    error.data = data;
    throw error;
  }
  return data;
}

const enc = encodeURIComponent;
const servicePath = (tail) => `/admin/services/${enc(state.service)}/${tail}`;

function when(ms) {
  if (ms === null || ms === undefined) return 'never';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString();
}

function toast(message) {
  const t = $('#toast');
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2500);
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without the clipboard API (permission refused), copy through a selected text area.
    const area = h('textarea', { 'aria-hidden': 'true', class: 'offscreen' });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  toast(`${what} copied`);
}

function copyButton(text, what, id) {
  return h('button', { type: 'button', class: 'secondary small', id, 'aria-label': `Copy ${what}`, onclick: () => copy(text, what) }, 'Copy');
}

function message(el, text, kind = 'error') {
  el.textContent = text;
  el.className = kind;
  el.hidden = !text;
}

/** Asks for a confirmation in the page's own dialog; resolves true on Confirm. */
function confirmAction(text, okLabel = 'Confirm') {
  const dialog = $('#confirm-dialog');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  $('#confirm-cancel').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

// ---- session -------------------------------------------------------------------------------

function endSession(text) {
  state.csrf = null;
  $('#nav').hidden = true;
  $('#session-tools').hidden = true;
  $('#view').hidden = true;
  $('#view').replaceChildren();
  $('#signin').hidden = false;
  message($('#signin-message'), text || '', 'notice');
  $('#token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('#token');
  const note = $('#signin-message');
  let res;
  try {
    res = await fetch('/admin/session', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: input.value }),
    });
  } catch (e) {
    message(note, `The worker cannot be reached: ${e.message}`);
    return;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const text = res.status === 401 ? 'Wrong admin token.'
      : res.status === 429 ? 'Too many sign-in attempts. Wait a few minutes and try again.'
        : data.error_description || `Sign-in failed (HTTP ${res.status}).`;
    message(note, text);
    input.select();
    return;
  }
  input.value = '';
  state.csrf = data.csrf_token;
  message(note, '');
  await start();
}

/** A reload keeps the console signed in: the cookie's session gives back its CSRF token. */
async function resume() {
  let res;
  try {
    res = await fetch('/admin/session', { credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    return;
  }
  if (!res.ok) return;
  const data = await res.json().catch(() => ({}));
  if (!data.csrf_token) return;
  state.csrf = data.csrf_token;
  await start();
}

async function signOut() {
  try { await api('DELETE', '/admin/session'); } catch (e) { if (e instanceof SessionEnded) return; }
  endSession('You signed out.');
}

async function start() {
  let data;
  try { data = await api('GET', '/admin/services'); } catch (e) {
    if (!(e instanceof SessionEnded)) message($('#signin-message'), e.message);
    return;
  }
  state.services = data.services;
  const select = $('#service-select');
  select.replaceChildren(...state.services.map((s) => h('option', { value: s.name }, `${s.label} (${s.name})`)));
  if (!state.services.some((s) => s.name === state.service)) state.service = state.services[0]?.name ?? null;
  select.value = state.service ?? '';
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  $('#session-tools').hidden = false;
  $('#view').hidden = false;
  if (!location.hash) location.hash = '#services';
  else render();
}

// ---- pages ---------------------------------------------------------------------------------

const pages = { services: servicesPage, keys: keysPage, oauth: oauthPage, users: usersPage, tools: toolsPage, logs: logsPage };

async function render() {
  if (!state.csrf) return;
  const name = location.hash.slice(1).split('/')[0] || 'services';
  const page = pages[name] || servicesPage;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const view = $('#view');
  view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await page(view);
  } catch (e) {
    if (e instanceof SessionEnded) return;
    view.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
  }
  const heading = view.querySelector('h1');
  if (heading) { heading.tabIndex = -1; }
}

function currentService() {
  return state.services.find((s) => s.name === state.service);
}

function pageHeading(title) {
  const s = currentService();
  return h('h1', {}, title, s ? ` — ${s.label}` : '');
}

function setupSnippets(s) {
  const url = s.mcp_endpoint;
  const name = s.name;
  return [
    ['Claude', 'Settings → Connectors → Add custom connector, then paste this URL:', url],
    ['ChatGPT', 'Settings → Apps & Connectors → Advanced → Developer mode → Create, then paste this MCP server URL:', url],
    ['Cursor', 'Add to ~/.cursor/mcp.json:', JSON.stringify({ mcpServers: { [name]: { url } } }, null, 2)],
    ['VS Code', 'Add to .vscode/mcp.json:', JSON.stringify({ servers: { [name]: { type: 'http', url } } }, null, 2)],
    ['Claude Code', 'Run:', `claude mcp add --transport http ${name} ${url}`],
    ['MCP Inspector', 'Run the command below, choose transport "Streamable HTTP" and enter the URL:', `npx @modelcontextprotocol/inspector\n\nURL: ${url}`],
  ];
}

async function servicesPage(view) {
  const cards = state.services.map((s) => {
    const facts = [
      ['Name', s.name], ['Engine', s.engine === 'd1' ? 'Cloudflare D1' : s.engine === 'postgres' ? 'PostgreSQL' : s.engine],
      ['Read-only', s.read_only ? 'yes' : 'no'], ['Row cap', s.max_rows],
      ['Hidden tables', s.hidden_tables && s.hidden_tables.length ? s.hidden_tables.join(', ') : 'none'],
      ['Authentication', s.auth === 'none' ? 'none (open service)' : 'OAuth or API key'],
    ];
    if (s.rate_limits && typeof s.rate_limits === 'object') {
      const limits = Object.entries(s.rate_limits).map(([k, v]) => `${k.replace(/_per_minute$/, '').replace('_', ' ')}: ${v}/min`);
      facts.push(['Rate limits', limits.length ? limits.join(', ') : 'none']);
    }
    const snippets = setupSnippets(s).map(([client, how, text]) => h('details', { class: 'setup' },
      h('summary', {}, client),
      h('p', { class: 'muted' }, how),
      h('pre', {}, text),
      copyButton(text, `${client} set-up`)));
    return h('article', { class: 'card', 'data-service': s.name },
      h('h2', {}, s.label),
      s.description ? h('p', {}, s.description) : null,
      h('div', { class: 'endpoint' }, h('span', {}, 'MCP endpoint:'), h('code', { class: 'mcp-endpoint' }, s.mcp_endpoint),
        copyButton(s.mcp_endpoint, 'MCP endpoint')),
      h('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      h('h3', {}, 'Connect a client'),
      snippets);
  });
  view.replaceChildren(h('h1', {}, 'Services'),
    h('p', { class: 'muted' }, 'Configured in wrangler.toml (SERVICES). Pick the service the other pages manage at the top.'),
    ...cards);
}

// ---- API keys ------------------------------------------------------------------------------

async function keysPage(view) {
  const note = h('p', { id: 'page-message', role: 'alert', hidden: true });
  const panel = h('div', { id: 'new-key-panel', hidden: true });
  const label = h('input', { type: 'text', id: 'key-label', maxlength: 100, autocomplete: 'off' });
  const read = h('input', { type: 'checkbox', id: 'key-scope-read', checked: true });
  const write = h('input', { type: 'checkbox', id: 'key-scope-write', checked: true });
  const tbody = h('tbody');
  const form = h('form', { id: 'key-form', class: 'card' },
    h('h2', {}, 'Create a key'),
    h('label', { for: 'key-label' }, 'Label'), label,
    h('fieldset', {}, h('legend', {}, 'Scopes'),
      h('label', { class: 'inline', for: 'key-scope-read' }, read, 'mcp:read (query)'),
      h('label', { class: 'inline', for: 'key-scope-write' }, write, 'mcp:write (create, update, delete)')),
    h('button', { type: 'submit' }, 'Create key'));

  async function load() {
    const data = await api('GET', servicePath('keys'));
    const keys = data.keys.slice().sort((a, b) => b.created_ms - a.created_ms);
    tbody.replaceChildren(...(keys.length ? keys.map((k) => h('tr', { 'data-key-id': k.id },
      h('td', {}, h('code', {}, `${k.prefix}…`)),
      h('td', { class: 'key-label' }, k.label ?? ''),
      h('td', {}, (k.scopes || []).join(' ')),
      h('td', {}, when(k.created_ms)),
      h('td', {}, when(k.last_used_ms)),
      h('td', {}, k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min` : '—'),
      h('td', {}, h('button', { type: 'button', class: 'danger small', 'aria-label': `Revoke key ${k.prefix}`, onclick: () => revoke(k) }, 'Revoke')),
    )) : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No keys yet.'))]));
  }

  async function revoke(k) {
    if (!await confirmAction(`Revoke the key ${k.prefix}… (${k.label || 'no label'})? Clients using it stop working at once.`, 'Revoke')) return;
    try {
      await api('DELETE', servicePath(`keys/${enc(k.id)}`));
      message(note, '');
      toast('Key revoked');
    } catch (e) {
      if (e instanceof SessionEnded) return;
      message(note, e.status === 404 ? `The key ${k.prefix}… no longer exists (revoked elsewhere). The list was refreshed.` : `Could not revoke: ${e.message}`);
    }
    await load();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = [read.checked && 'mcp:read', write.checked && 'mcp:write'].filter(Boolean);
    try {
      const made = await api('POST', servicePath('keys'), { label: label.value || undefined, scopes });
      message(note, '');
      label.value = '';
      panel.replaceChildren(h('div', { class: 'secret' },
        h('h2', {}, 'New key (shown once)'),
        h('p', { class: 'notice' }, 'Copy this key now. It is shown only once and cannot be shown again; only its prefix is kept.'),
        h('code', { id: 'new-key' }, made.key),
        copyButton(made.key, 'Key', 'copy-new-key'),
        h('button', { type: 'button', class: 'secondary small', onclick: () => { panel.hidden = true; panel.replaceChildren(); } }, 'Done')));
      panel.hidden = false;
      await load();
    } catch (e) {
      if (!(e instanceof SessionEnded)) message(note, `Could not create the key: ${e.message}`);
    }
  });

  view.replaceChildren(pageHeading('API keys'), note, form, panel,
    h('h2', {}, 'Keys'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'keys-table' },
      h('thead', {}, h('tr', {}, ['Prefix', 'Label', 'Scopes', 'Created', 'Last used', 'Rate limit', ''].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  await load();
}

// ---- OAuth ---------------------------------------------------------------------------------

async function oauthPage(view) {
  const note = h('p', { id: 'page-message', role: 'alert', hidden: true });
  const secretPanel = h('div', { id: 'client-secret-panel', hidden: true });
  const loginPanel = h('div', { id: 'login-secret-panel', hidden: true });
  const name = h('input', { type: 'text', id: 'client-name', required: true, maxlength: 100 });
  const uris = h('textarea', { id: 'client-redirects', rows: 2, required: true, placeholder: 'https://chatgpt.com/connector_platform_oauth_redirect' });
  const isPublic = h('input', { type: 'checkbox', id: 'client-public' });
  const loginUrl = h('input', { type: 'url', id: 'login-url', placeholder: 'https://login.example.com/mcp' });
  const loginCurrent = h('p', { id: 'login-current' });
  const clientsBody = h('tbody');
  const dynamicBody = h('tbody');
  const documentBody = h('tbody');

  const failed = (what) => (e) => { if (!(e instanceof SessionEnded)) message(note, `${what}: ${e.message}`); };

  function clientRow(c, path) {
    return h('tr', { 'data-client-id': c.client_id },
      h('td', { class: 'client-name' }, c.client_name ?? ''),
      h('td', {}, h('code', {}, c.client_id)),
      h('td', {}, c.token_endpoint_auth_method),
      h('td', {}, (c.redirect_uris || []).join('\n')),
      h('td', {}, when(c.created_ms)),
      h('td', {}, h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Delete client ${c.client_name ?? c.client_id}`,
        onclick: () => remove(c, path),
      }, 'Delete')));
  }

  async function remove(c, path) {
    if (!await confirmAction(`Delete the client "${c.client_name ?? c.client_id}"? Its tokens stop working at once.`, 'Delete')) return;
    try {
      await api('DELETE', path);
      message(note, '');
      toast('Client deleted');
    } catch (e) {
      if (e instanceof SessionEnded) return;
      message(note, e.status === 404 ? 'That client no longer exists. The list was refreshed.' : `Could not delete: ${e.message}`);
    }
    await load();
  }

  const empty = (cols, text) => [h('tr', {}, h('td', { colspan: cols, class: 'muted' }, text))];

  // Metadata-document clients: the URL is their id; known from this service's live grants.
  function documentRow(c) {
    const users = c.users.join(', ') + (c.user_count > c.users.length ? ` and ${c.user_count - c.users.length} more` : '');
    const label = c.client_name ?? c.client_id;
    return h('tr', { 'data-client-id': c.client_id, class: c.blocked ? 'blocked' : null },
      h('td', {}, h('code', { class: 'client-url' }, c.client_id)),
      h('td', { class: 'nowrap' }, c.host ?? ''),
      h('td', { class: 'client-name' }, c.client_name ?? 'not known'),
      h('td', { class: 'client-users' }, c.blocked ? '—' : users),
      h('td', {}, c.blocked ? `blocked ${when(c.blocked_ms)}` : when(c.last_used_ms)),
      h('td', {}, c.blocked
        ? h('button', { type: 'button', class: 'secondary small', 'aria-label': `Allow ${label} again`, onclick: () => allowDocument(c) }, 'Allow again')
        : h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${label}`, onclick: () => blockDocument(c) }, 'Delete')));
  }

  async function blockDocument(c) {
    if (!await confirmAction(`Delete "${c.client_id}" on this service? Its refresh tokens and pending codes end now (access tokens already issued expire on their own, within an hour), and it cannot sign in again until you allow it.`, 'Delete')) return;
    try {
      await api('DELETE', servicePath(`metadata-clients?client_id=${enc(c.client_id)}`));
      message(note, '');
      toast('Client deleted and blocked');
    } catch (e) { failed('Could not delete')(e); }
    await load();
  }

  async function allowDocument(c) {
    try {
      await api('POST', servicePath(`metadata-clients/allow?client_id=${enc(c.client_id)}`));
      message(note, '');
      toast('Client allowed again');
    } catch (e) { failed('Could not allow')(e); }
    await load();
  }

  async function load() {
    const [mine, all, login, documents] = await Promise.all([
      api('GET', servicePath('clients')), api('GET', '/admin/clients'), api('GET', servicePath('login')),
      api('GET', servicePath('metadata-clients')),
    ]);
    documentBody.replaceChildren(...(documents.clients.length ? documents.clients.map(documentRow) : empty(6, 'None with live grants.')));
    const own = mine.clients.slice().sort((a, b) => b.created_ms - a.created_ms);
    clientsBody.replaceChildren(...(own.length ? own.map((c) => clientRow(c, servicePath(`clients/${enc(c.client_id)}`))) : empty(6, 'None yet.')));
    const dynamic = all.clients.filter((c) => c.dynamic);
    dynamicBody.replaceChildren(...(dynamic.length ? dynamic.map((c) => clientRow(c, `/admin/clients/${enc(c.client_id)}`)) : empty(6, 'None registered.')));
    loginCurrent.replaceChildren(login.url
      ? h('span', {}, 'Logins go to ', h('code', { id: 'login-url-current' }, login.url), ` (since ${when(login.created_ms)}).`)
      : h('span', { id: 'login-url-current' }, 'The built-in login form is used.'));
    clearButton.hidden = !login.url;
  }

  const clientForm = h('form', { id: 'client-form', class: 'card' },
    h('h2', {}, 'Create a client (id and secret)'),
    h('p', { class: 'muted' }, 'For clients where a person pastes credentials (e.g. ChatGPT). Clients that register themselves need nothing here.'),
    h('label', { for: 'client-name' }, 'Client name'), name,
    h('label', { for: 'client-redirects' }, 'Redirect URIs (one per line)'), uris,
    h('label', { class: 'inline', for: 'client-public' }, isPublic, 'Public client (PKCE only, no secret)'),
    h('div', {}, h('button', { type: 'submit' }, 'Create client')));
  clientForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const redirect_uris = uris.value.split('\n').map((u) => u.trim()).filter(Boolean);
    try {
      const c = await api('POST', servicePath('clients'), { client_name: name.value, redirect_uris, public: isPublic.checked });
      message(note, '');
      name.value = ''; uris.value = '';
      secretPanel.replaceChildren(h('div', { class: 'secret' },
        h('h2', {}, `Client "${c.client_name}"`),
        h('p', {}, 'Client id:'), h('code', { id: 'new-client-id' }, c.client_id), copyButton(c.client_id, 'Client id'),
        c.client_secret ? [
          h('p', { class: 'notice' }, 'Client secret: copy it now. It is shown only once and cannot be shown again.'),
          h('code', { id: 'new-client-secret' }, c.client_secret), copyButton(c.client_secret, 'Client secret'),
        ] : h('p', {}, 'A public client has no secret.'),
        h('div', {}, h('button', { type: 'button', class: 'secondary small', onclick: () => { secretPanel.hidden = true; secretPanel.replaceChildren(); } }, 'Done'))));
      secretPanel.hidden = false;
      await load();
    } catch (e) { failed('Could not create the client')(e); }
  });

  const clearButton = h('button', { type: 'button', class: 'secondary', id: 'login-clear', hidden: true, onclick: async () => {
    if (!await confirmAction('Go back to the built-in login form? The custom page stops receiving logins.', 'Use built-in form')) return;
    try { await api('DELETE', servicePath('login')); message(note, ''); toast('Custom login URL cleared'); loginPanel.hidden = true; await load(); } catch (e) { failed('Could not clear')(e); }
  } }, 'Use the built-in form');
  const loginForm = h('form', { id: 'login-form', class: 'card' },
    h('h2', {}, 'Custom login URL'), loginCurrent,
    h('label', { for: 'login-url' }, 'Send logins to (https URL)'), loginUrl,
    h('div', {}, h('button', { type: 'submit' }, 'Set login URL'), ' ', clearButton));
  loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const r = await api('PUT', servicePath('login'), { url: loginUrl.value });
      message(note, '');
      loginUrl.value = '';
      loginPanel.replaceChildren(h('div', { class: 'secret' },
        h('p', { class: 'notice' }, 'Login secret (your page signs assertions with it): copy it now. It is shown only once.'),
        h('code', { id: 'login-secret' }, r.secret), copyButton(r.secret, 'Login secret')));
      loginPanel.hidden = false;
      await load();
    } catch (e) { failed('Could not set the login URL')(e); }
  });

  const table = (id, body) => h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, ['Name', 'Client id', 'Authentication', 'Redirect URIs', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))), body));

  view.replaceChildren(pageHeading('OAuth'), note, clientForm, secretPanel, loginForm, loginPanel,
    h('h2', {}, 'Clients created for this service'), table('clients-table', clientsBody),
    h('h2', {}, 'Dynamically registered clients (all services)'), table('dynamic-clients-table', dynamicBody),
    h('h2', {}, 'Metadata-document clients (this service)'),
    h('p', { class: 'muted' }, 'Clients identified by the URL of their metadata document, listed while a user has a live grant. Delete ends their tokens now and blocks the URL on this service until you allow it again.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'document-clients-table' },
      h('thead', {}, h('tr', {}, ['Client id (URL)', 'Host', 'Name', 'Users', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))), documentBody)));
  await load();
}

// ---- users ---------------------------------------------------------------------------------

async function usersPage(view) {
  const note = h('p', { id: 'page-message', role: 'alert', hidden: true });
  const username = h('input', { type: 'text', id: 'user-name', required: true, autocomplete: 'off' });
  const password = h('input', { type: 'password', id: 'user-password', required: true, minlength: 8, autocomplete: 'new-password' });
  const tbody = h('tbody');
  const failed = (what) => (e) => { if (!(e instanceof SessionEnded)) message(note, `${what}: ${e.message}`); };

  async function change(u, body, done) {
    try {
      await api('PATCH', servicePath(`users/${enc(u.username)}`), body);
      message(note, '');
      toast(done);
    } catch (e) { failed('Could not change the user')(e); }
    await load();
  }

  function resetRow(u, row) {
    const input = h('input', { type: 'password', id: `reset-${u.username}`, autocomplete: 'new-password', required: true });
    const form = h('form', { class: 'row reset-form' },
      h('div', {}, h('label', { for: `reset-${u.username}` }, `New password for ${u.username}`), input),
      h('button', { type: 'submit' }, 'Save password'),
      h('button', { type: 'button', class: 'secondary', onclick: () => extra.remove() }, 'Cancel'));
    const extra = h('tr', {}, h('td', { colspan: 4 }, form));
    form.addEventListener('submit', (event) => { event.preventDefault(); change(u, { password: input.value }, 'Password reset'); });
    row.after(extra);
    input.focus();
  }

  async function load() {
    const data = await api('GET', servicePath('users'));
    tbody.replaceChildren(...(data.users.length ? data.users.map((u) => {
      const row = h('tr', { 'data-user': u.username },
        h('td', {}, u.username),
        h('td', {}, h('span', { class: u.disabled ? 'badge bad' : 'badge good' }, u.disabled ? 'disabled' : 'active')),
        h('td', {}, when(u.created_ms)),
        h('td', {},
          h('button', { type: 'button', class: 'secondary small', onclick: () => resetRow(u, row) }, 'Reset password'),
          h('button', { type: 'button', class: 'secondary small', onclick: () => change(u, { disabled: !u.disabled }, u.disabled ? 'User enabled' : 'User disabled') }, u.disabled ? 'Enable' : 'Disable'),
          h('button', { type: 'button', class: 'danger small', onclick: async () => {
            if (!await confirmAction(`Delete the user ${u.username}? Their sign-ins and tokens end at once.`, 'Delete')) return;
            try { await api('DELETE', servicePath(`users/${enc(u.username)}`)); message(note, ''); toast('User deleted'); } catch (e) {
              if (e instanceof SessionEnded) return;
              message(note, e.status === 404 ? 'That user no longer exists. The list was refreshed.' : `Could not delete: ${e.message}`);
            }
            await load();
          } }, 'Delete')));
      return row;
    }) : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No users yet.'))]));
  }

  const form = h('form', { id: 'user-form', class: 'card' },
    h('h2', {}, 'Create a user'),
    h('p', { class: 'muted' }, 'People sign in as users of this service when a client connects with OAuth.'),
    h('div', { class: 'row' },
      h('div', {}, h('label', { for: 'user-name' }, 'Username'), username),
      h('div', {}, h('label', { for: 'user-password' }, 'Password (8 characters or more)'), password)),
    h('button', { type: 'submit' }, 'Create user'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', servicePath('users'), { username: username.value, password: password.value });
      message(note, '');
      username.value = ''; password.value = '';
      toast('User created');
      await load();
    } catch (e) { failed('Could not create the user')(e); }
  });

  view.replaceChildren(pageHeading('Users'), note, form, h('h2', {}, 'Users'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
      h('thead', {}, h('tr', {}, ['Username', 'Status', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody)));
  await load();
}

// ---- custom tools --------------------------------------------------------------------------

async function toolsPage(view) {
  const note = h('p', { id: 'page-message', role: 'alert', hidden: true });
  const problems = h('ul', { id: 'tool-errors', class: 'error', role: 'alert', hidden: true });
  const tbody = h('tbody');
  const field = (id, label, el, hint) => h('div', {}, h('label', { for: id }, label), el, hint ? h('p', { class: 'muted' }, hint) : null);
  const name = h('input', { type: 'text', id: 'tool-name', required: true, maxlength: 64, autocomplete: 'off', pattern: '[A-Za-z_][A-Za-z0-9_]*' });
  const title = h('input', { type: 'text', id: 'tool-title', autocomplete: 'off' });
  const description = h('textarea', { id: 'tool-description', rows: 2, required: true });
  const sql = h('textarea', { id: 'tool-sql', rows: 5, required: true, spellcheck: 'false', placeholder: 'SELECT name FROM customers WHERE country = :country LIMIT :n' });
  const parameters = h('textarea', { id: 'tool-parameters', rows: 4, spellcheck: 'false', placeholder: '{"country": {"type": "string", "maxLength": 40}, "n": {"type": "integer", "default": 10}}' });
  const required = h('input', { type: 'text', id: 'tool-required', autocomplete: 'off', placeholder: 'country' });
  const enabled = h('input', { type: 'checkbox', id: 'tool-enabled', checked: true });
  const heading = h('h2', { id: 'tool-form-title' }, 'Create a tool');
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'tool-cancel', hidden: true, onclick: () => reset() }, 'Cancel editing');
  const form = h('form', { id: 'tool-form', class: 'card' }, heading,
    h('p', { class: 'muted' }, 'One read-only SELECT with named parameters (:name), or the caller\'s attributes (:user.customer_id). It is checked like the configuration\'s tools and against the live schema before it is saved.'),
    problems,
    h('div', { class: 'row' }, field('tool-name', 'Name', name), field('tool-title', 'Title (optional)', title)),
    field('tool-description', 'Description (for the model)', description),
    field('tool-sql', 'SQL', sql),
    field('tool-parameters', 'Parameters (JSON: name → {type, description, maxLength, enum, minimum, maximum, default})', parameters),
    field('tool-required', 'Required parameters (comma-separated)', required),
    h('label', { class: 'inline', for: 'tool-enabled' }, enabled, 'Enabled (listed and callable)'),
    h('div', {}, h('button', { type: 'submit', id: 'tool-save' }, 'Save tool'), ' ', cancel));
  let version = 0;
  let editing = null;
  const failed = (what) => (e) => { if (!(e instanceof SessionEnded)) message(note, `${what}: ${e.message}`); };

  function showProblems(list) {
    problems.replaceChildren(...list.map((p) => h('li', {}, p)));
    problems.hidden = list.length === 0;
  }

  function reset() {
    editing = null;
    form.reset();
    name.readOnly = false;
    heading.textContent = 'Create a tool';
    cancel.hidden = true;
    showProblems([]);
  }

  function edit(t) {
    const d = t.definition || {};
    editing = t;
    name.value = t.name;
    name.readOnly = true;
    title.value = d.title ?? '';
    description.value = d.description ?? '';
    sql.value = d.sql ?? '';
    parameters.value = d.parameters ? JSON.stringify(d.parameters, null, 2) : '';
    required.value = (d.required || []).join(', ');
    enabled.checked = d.enabled !== false;
    heading.textContent = `Edit ${t.name}`;
    cancel.hidden = false;
    showProblems([]);
    name.scrollIntoView({ block: 'center' });
    description.focus();
  }

  // A change made elsewhere since this page read the list (412): say so and read it again.
  async function write(method, path, body, done) {
    try {
      await api(method, servicePath(path), body, { 'if-match': `"${version}"` });
      message(note, '');
      showProblems([]);
      toast(done);
      return true;
    } catch (e) {
      if (e instanceof SessionEnded) return false;
      if (e.status === 412) message(note, 'The tools were changed elsewhere since this page read them. The list was refreshed: check it and try again.');
      else if (e.status === 404) message(note, 'That tool no longer exists (deleted elsewhere). The list was refreshed.');
      else if (e.data && Array.isArray(e.data.problems)) showProblems(e.data.problems);
      else message(note, e.message);
      return false;
    } finally {
      await load().catch(failed('Could not read the tools'));
    }
  }

  function row(t) {
    const admin = t.source === 'admin';
    const actions = admin ? [
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `Edit ${t.name}`, onclick: () => edit(t) }, 'Edit'),
      h('button', { type: 'button', class: 'secondary small', 'aria-label': `${t.enabled ? 'Disable' : 'Enable'} ${t.name}`,
        onclick: () => write('PATCH', `tools/${enc(t.name)}`, { enabled: !t.enabled }, t.enabled ? 'Tool disabled' : 'Tool enabled') }, t.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${t.name}`, onclick: async () => {
        if (!await confirmAction(`Delete the tool ${t.name}? Clients stop seeing it at once.`, 'Delete')) return;
        if (editing && editing.name === t.name) reset();
        await write('DELETE', `tools/${enc(t.name)}`, undefined, 'Tool deleted');
      } }, 'Delete'),
    ] : [h('span', { class: 'muted' }, 'read-only: set in the configuration')];
    return h('tr', { 'data-tool': t.name, 'data-source': t.source },
      h('td', {}, h('code', {}, t.name)),
      h('td', { class: 'tool-title' }, t.title ?? ''),
      h('td', {}, admin ? 'admin API' : 'configuration'),
      h('td', {}, h('span', { class: t.enabled ? 'badge good' : 'badge bad' }, t.enabled ? 'enabled' : 'disabled'),
        t.problem ? h('p', { class: 'error tool-problem' }, t.problem) : null),
      h('td', {}, t.writes ? 'yes' : 'no'),
      h('td', {}, actions));
  }

  async function load() {
    const data = await api('GET', servicePath('tools'));
    version = data.version;
    tbody.replaceChildren(...(data.tools.length ? data.tools.map(row) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No custom tools yet.'))]));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let params;
    if (parameters.value.trim()) {
      try { params = JSON.parse(parameters.value); } catch (e) { showProblems([`parameters: not valid JSON (${e.message})`]); return; }
    }
    const definition = { description: description.value, sql: sql.value, enabled: enabled.checked };
    if (title.value.trim()) definition.title = title.value.trim();
    if (params !== undefined) definition.parameters = params;
    const names = required.value.split(',').map((r) => r.trim()).filter(Boolean);
    if (names.length) definition.required = names;
    if (editing && editing.definition && 'writes' in editing.definition) definition.writes = editing.definition.writes;
    const saved = await write('PUT', `tools/${enc(name.value.trim())}`, definition, editing ? 'Tool saved' : 'Tool created');
    if (saved) reset();
  });

  view.replaceChildren(pageHeading('Custom tools'), note,
    h('p', { class: 'muted' }, 'Tools of this service: those of the configuration (read-only here), then those added here. Clients see a change within about a minute (each worker instance reads the stored tools at most every 10 seconds; storage takes up to 60 seconds to reach every location); clients listening for changes are told.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'custom-tools-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Title', 'Source', 'Status', 'Writes', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody)),
    form);
  try {
    await load();
  } catch (e) {
    if (e.status === 501) {
      view.replaceChildren(pageHeading('Custom tools'), h('p', { class: 'notice', id: 'tools-unavailable' }, e.message));
      return;
    }
    throw e;
  }
}

// ---- execution logs ------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Calls per hour (bars) with their errors (red part), as inline SVG. */
function hourlyChart(rows) {
  const width = 720; const height = 180; const pad = 28;
  const max = Math.max(1, ...rows.map((r) => r.calls));
  const step = (width - pad) / Math.max(1, rows.length);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title' });
  svg.append(s('title', { id: 'chart-title' }, `Calls per hour over ${rows.length} hours; the red part of each bar is errors`));
  svg.append(s('text', { x: 0, y: 10 }, String(max)));
  svg.append(s('text', { x: 0, y: height - pad }, '0'));
  rows.forEach((r, i) => {
    const x = pad + i * step;
    const total = ((height - pad - 12) * r.calls) / max;
    const bad = ((height - pad - 12) * r.errors) / max;
    const bar = s('rect', { class: 'bar-calls', x: x + 1, y: height - pad - total, width: Math.max(1, step - 2), height: total });
    bar.append(s('title', {}, `${when(r.hour)}: ${r.calls} calls, ${r.errors} errors`));
    svg.append(bar);
    if (r.errors) svg.append(s('rect', { class: 'bar-errors', x: x + 1, y: height - pad - bad, width: Math.max(1, step - 2), height: bad }));
    if (i % Math.ceil(rows.length / 6) === 0) {
      svg.append(s('text', { x, y: height - 10 }, new Date(r.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
    }
  });
  return svg;
}

async function logsPage(view) {
  const note = h('p', { id: 'page-message', role: 'alert', hidden: true });
  const field = (id, label, el) => h('div', {}, h('label', { for: id }, label), el);
  const principal = h('input', { type: 'text', id: 'log-principal' });
  const client = h('input', { type: 'text', id: 'log-client' });
  const tool = h('input', { type: 'text', id: 'log-tool' });
  const outcome = h('select', { id: 'log-outcome' }, ['', 'ok', 'tool_error', 'protocol_error', 'rate_limited'].map((o) => h('option', { value: o }, o || 'any')));
  const from = h('input', { type: 'datetime-local', id: 'log-from' });
  const to = h('input', { type: 'datetime-local', id: 'log-to' });
  const tbody = h('tbody');
  const pager = h('div', { class: 'row' });
  const detail = h('div', { id: 'log-detail' });
  const summary = h('div', { id: 'log-summary' });
  state.logCursors = [null];

  function filters() {
    const q = new URLSearchParams();
    if (principal.value.trim()) q.set('principal', principal.value.trim());
    if (client.value.trim()) q.set('client', client.value.trim());
    if (tool.value.trim()) q.set('tool', tool.value.trim());
    if (outcome.value) q.set('outcome', outcome.value);
    if (from.value) q.set('from', String(new Date(from.value).getTime()));
    if (to.value) q.set('to', String(new Date(to.value).getTime()));
    return q;
  }

  async function showDetail(id) {
    const e = await api('GET', servicePath(`logs/${enc(id)}`));
    const rows = Object.entries(e).map(([k, v]) => [h('dt', {}, k),
      h('dd', {}, v !== null && typeof v === 'object' ? h('pre', {}, JSON.stringify(v, null, 2)) : k === 'time' ? `${when(v)} (${v})` : String(v ?? ''))]);
    detail.replaceChildren(h('div', { class: 'card' }, h('h2', { tabindex: -1, id: 'log-detail-title' }, `Call ${e.id}`), h('dl', { class: 'facts' }, rows)));
    $('#log-detail-title').focus();
  }

  async function loadPage(index) {
    const q = filters();
    q.set('limit', '50');
    if (state.logCursors[index]) q.set('cursor', state.logCursors[index]);
    const data = await api('GET', `${servicePath('logs')}?${q}`);
    state.logCursors[index + 1] = data.next_cursor;
    tbody.replaceChildren(...(data.entries.length ? data.entries.map((e) => {
      const open = () => showDetail(e.id).catch((err) => { if (!(err instanceof SessionEnded)) message(note, err.message); });
      return h('tr', { class: 'clickable', tabindex: 0, 'data-log-id': e.id, onclick: open, onkeydown: (ev) => { if (ev.key === 'Enter') open(); } },
        h('td', {}, when(e.time)),
        h('td', {}, e.key_label ? `${e.principal_kind}: ${e.key_label}` : `${e.principal_kind ?? ''} ${e.principal_id ?? ''}`),
        h('td', {}, e.client_name ?? e.client_id ?? ''),
        h('td', {}, e.target ? `${e.method} ${e.target}` : e.method),
        h('td', {}, h('span', { class: e.outcome === 'ok' ? 'badge good' : 'badge bad' }, e.outcome)),
        h('td', {}, `${e.duration_ms} ms`));
    }) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No calls match.'))]));
    pager.replaceChildren(
      h('button', { type: 'button', class: 'secondary', disabled: index === 0, onclick: () => loadPage(index - 1).catch(report) }, 'Newer'),
      h('span', { class: 'muted' }, `Page ${index + 1}`),
      h('button', { type: 'button', class: 'secondary', disabled: !data.next_cursor, onclick: () => loadPage(index + 1).catch(report) }, 'Older'));
  }

  async function loadSummary() {
    const data = await api('GET', `${servicePath('logs/summary')}?hours=24`);
    const tools = (data.tools || []).map((t) => h('tr', {},
      h('td', {}, t.tool), h('td', {}, t.calls), h('td', {}, t.errors),
      h('td', {}, `${(100 * (t.error_rate || 0)).toFixed(1)} %`, h('meter', { min: 0, max: 1, low: 0.05, high: 0.2, optimum: 0, value: t.error_rate || 0, 'aria-label': `error rate of ${t.tool}` })),
      h('td', {}, t.p95_ms ?? ''), h('td', {}, t.max_ms ?? '')));
    summary.replaceChildren(
      h('div', { class: 'card chart' }, h('h2', {}, `Calls per hour (last ${data.hours} hours)`), hourlyChart(data.calls_per_hour || []),
        data.write_failures ? h('p', { class: 'notice' }, `${data.write_failures} log records could not be written.`) : null),
      h('h2', {}, 'Error rate per tool'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'tools-table' },
        h('thead', {}, h('tr', {}, ['Tool', 'Calls', 'Errors', 'Error rate', 'p95 ms', 'max ms'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, tools.length ? tools : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No calls in this period.'))))));
  }

  function report(e) {
    if (e instanceof SessionEnded) return;
    message(note, e.status === 404 && e.code !== 'unknown_log_entry' ? 'The execution log is not available in this deployment.' : e.message);
  }

  async function exportAs(format) {
    const q = filters();
    q.set('format', format);
    const res = await fetch(`${servicePath('logs/export')}?${q}`, { headers: { 'x-csrf-token': state.csrf }, credentials: 'same-origin' });
    if (res.status === 401) { endSession('Your console session has ended. Sign in again.'); return; }
    if (!res.ok) { message(note, `Export failed (HTTP ${res.status})`); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: `${state.service}-logs.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  const form = h('form', { id: 'log-filters', class: 'card' },
    h('h2', {}, 'Filter'),
    h('div', { class: 'row' },
      field('log-principal', 'Principal (key id or user)', principal), field('log-client', 'Client', client),
      field('log-tool', 'Tool', tool), field('log-outcome', 'Outcome', outcome),
      field('log-from', 'From', from), field('log-to', 'To', to)),
    h('div', {}, h('button', { type: 'submit' }, 'Apply'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => exportAs('jsonl').catch(report) }, 'Export JSONL'), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => exportAs('csv').catch(report) }, 'Export CSV')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.logCursors = [null];
    detail.replaceChildren();
    loadPage(0).catch(report);
  });

  view.replaceChildren(pageHeading('Execution logs'), note, summary, form,
    h('div', { class: 'table-wrap' }, h('table', { id: 'logs-table' },
      h('thead', {}, h('tr', {}, ['Time', 'Principal', 'Client', 'Call', 'Outcome', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))), tbody)),
    pager, detail);
  await Promise.all([loadSummary().catch(report), loadPage(0).catch(report)]);
}

/** Gives each table cell its column's name, which narrow screens show beside the value. */
function labelCells() {
  for (const table of document.querySelectorAll('#view table')) {
    const names = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((td, i) => { if (!td.hasAttribute('data-label') && names[i]) td.setAttribute('data-label', names[i]); });
    }
  }
}

// ---- wiring --------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#signin-form').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', signOut);
  $('#service-select').addEventListener('change', (event) => { state.service = event.target.value; render(); });
  window.addEventListener('hashchange', render);
  new MutationObserver(labelCells).observe($('#view'), { childList: true, subtree: true });
  $('#token').focus();
  resume();
});
