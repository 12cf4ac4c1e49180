// The hub's admin console: a small single-page app over the inspection API.
// The API key lives only in this browser tab (sessionStorage) and goes in the Authorization header.

const app = document.getElementById('app');
const KEY = 'hub-api-key';

// ---------- helpers ----------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers: {
      authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    // the sign-in form says so itself; anywhere else, back to it
    if (!options.signingIn) location.hash = '#/login';
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function render(...nodes) {
  app.replaceChildren(...nodes);
}

let refresh = null;
function every(ms, fn) {
  if (refresh) clearInterval(refresh);
  refresh = setInterval(() => fn().catch(() => undefined), ms);
}

// ---------- login ----------

function loginPage(message) {
  const input = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', placeholder: 'hub_…', required: true });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, input.value.trim());
        try {
          await api('/admin/machines', { signingIn: true });
          if (location.hash === '#/actors') route();
          else location.hash = '#/actors';
        } catch (failure) {
          error.textContent = failure.status === 401 ? 'That key is not valid.' : failure.message;
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste an API key (admin, operator or viewer). It stays in this tab only.'),
    h('label', {}, 'API key', input),
    h('p', {}, h('button', { type: 'submit' }, 'Sign in')),
    error,
  );
  render(form);
  input.focus();
}

// ---------- actors list ----------

async function actorsPage(params) {
  const filters = {
    type: params.get('type') ?? '',
    state: params.get('state') ?? '',
    tag: params.get('tag') ?? '',
    q: params.get('q') ?? '',
  };
  const go = (next) => {
    const query = new URLSearchParams(Object.entries({ ...filters, ...next }).filter(([, v]) => v));
    location.hash = `#/actors?${query}`;
  };
  const machinesBox = h('div', { class: 'cards' });
  const drawMachines = async () => {
    const { machines } = await api('/admin/machines');
    machinesBox.replaceChildren(
      ...machines.map((m) =>
        h(
          'div',
          { class: 'card machine', 'data-machine': m.type },
          h('h3', {}, h('a', { href: `#/machine/${m.type}` }, m.type), h('span', { class: 'muted' }, ` v${m.version} · ${m.total}`)),
          h(
            'div',
            { class: 'chips' },
            Object.entries(m.states).map(([state, count]) =>
              h(
                'span',
                {
                  class: `chip${filters.type === m.type && filters.state === state ? ' active' : ''}`,
                  'data-state': state,
                  onclick: () => go({ type: m.type, state }),
                },
                `${state} `,
                h('b', {}, count),
              ),
            ),
          ),
        ),
      ),
    );
    return machines;
  };
  const machines = await drawMachines();

  const typeSelect = h(
    'select',
    { name: 'type' },
    h('option', { value: '' }, 'any type'),
    machines.map((m) => h('option', { value: m.type, selected: m.type === filters.type }, m.type)),
  );
  const stateInput = h('input', { name: 'state', value: filters.state, placeholder: 'e.g. paying' });
  const tagInput = h('input', { name: 'tag', value: filters.tag, placeholder: 'e.g. alert' });
  const qInput = h('input', { name: 'q', value: filters.q, placeholder: 'id starts with' });
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (e) => (
        e.preventDefault(),
        go({ type: typeSelect.value, state: stateInput.value.trim(), tag: tagInput.value.trim(), q: qInput.value.trim() })
      ),
    },
    h('label', {}, 'Type', typeSelect),
    h('label', {}, 'State', stateInput),
    h('label', {}, 'Tag', tagInput),
    h('label', {}, 'Id', qInput),
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', class: 'secondary', onclick: () => (location.hash = '#/actors') }, 'Clear'),
  );

  const { body, more } = await pagedRows({
    path: '/admin/actors',
    filters,
    items: (page) => page.actors,
    row: (a) =>
      h(
        'tr',
        {
          class: 'row',
          'data-actor': `${a.type}/${a.id}`,
          onclick: () => (location.hash = `#/actor/${encodeURIComponent(a.type)}/${encodeURIComponent(a.id)}`),
        },
        h('td', {}, a.type),
        h('td', {}, h('a', { href: `#/actor/${encodeURIComponent(a.type)}/${encodeURIComponent(a.id)}` }, a.id)),
        h('td', { class: 'state' }, a.state, a.tags.includes('alert') ? h('span', { class: 'badge' }, 'needs attention') : null),
        h('td', {}, a.revision),
        h('td', {}, time(a.updatedAt)),
      ),
    columns: 5,
    empty: 'No actors match.',
  });
  render(
    h('h1', {}, 'Actors'),
    machinesBox,
    form,
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, 'Id'), h('th', {}, 'State'), h('th', {}, 'Rev'), h('th', {}, 'Updated'))),
      body,
    ),
    h('p', {}, more),
  );
  // live counts
  every(5000, async () => {
    await drawMachines();
  });
}

/**
 * A list page's rows, 50 at a time: the first page at once, the next ones by the "More" button (the API's
 * `nextCursor`), with the page's filters as query parameters.
 */
async function pagedRows({ path, filters, items, row, columns, empty }) {
  const body = h('tbody');
  const more = h('button', { class: 'secondary', hidden: true }, 'More');
  let cursor = null;
  const load = async (append) => {
    const query = new URLSearchParams(
      Object.entries({ ...filters, limit: '50', ...(append && cursor ? { cursor } : {}) }).filter(([, v]) => v),
    );
    const page = await api(`${path}?${query}`);
    const rows = items(page).map(row);
    if (append) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (!append && rows.length === 0) body.replaceChildren(h('tr', {}, h('td', { colspan: columns, class: 'muted' }, empty)));
  };
  more.addEventListener('click', () => load(true));
  await load(false);
  return { body, more };
}

// ---------- statechart ----------

const mermaidId = (id) => id.replace(/[^A-Za-z0-9]/g, '_');

function eventLabel(event) {
  if (event.startsWith('xstate.after.')) return `after ${event.split('.')[2]}`;
  if (event.startsWith('xstate.done.actor.')) return `done ${event.slice('xstate.done.actor.'.length)}`;
  if (event.startsWith('xstate.error.actor.')) return `error ${event.slice('xstate.error.actor.'.length)}`;
  return event;
}

/** A Mermaid stateDiagram-v2 from the machine's graph; the current state and the visited ones marked. */
export function statechart(graph, current, visited) {
  const lines = ['stateDiagram-v2', '  direction LR'];
  const leafIds = [];
  const draw = (node, indent) => {
    const pad = ' '.repeat(indent);
    for (const child of node.states) {
      const id = mermaidId(child.id);
      if (child.states.length > 0) {
        lines.push(`${pad}state "${child.key}" as ${id} {`);
        draw(child, indent + 2);
        lines.push(`${pad}}`);
      } else {
        lines.push(`${pad}state "${child.key}" as ${id}`);
        leafIds.push([child.id, id]);
      }
    }
    if (node.initial) lines.push(`${pad}[*] --> ${mermaidId(`${node.id}.${node.initial}`)}`);
    for (const child of node.states) {
      const from = mermaidId(child.id);
      const seen = new Set();
      for (const t of child.transitions) {
        for (const target of t.targets) {
          const label = `${eventLabel(t.event)}${t.guard ? ` [${t.guard}]` : ''}`.replace(/[:;"]/g, ' ');
          const key = `${target}|${label}`;
          if (seen.has(key)) continue;
          seen.add(key);
          lines.push(`${pad}${from} --> ${mermaidId(target)} : ${label}`);
        }
      }
      for (const t of child.always)
        for (const target of t.targets)
          lines.push(`${pad}${from} --> ${mermaidId(target)}${t.guard ? ` : [${t.guard.replace(/[:;"]/g, ' ')}]` : ''}`);
      if (child.type === 'final') lines.push(`${pad}${from} --> [*]`);
    }
  };
  draw(graph, 2);
  lines.push('  classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px,color:#000');
  lines.push('  classDef visited fill:#c8e6c9,stroke:#2e7d32');
  const machineId = graph.id;
  const currentIds = String(current)
    .split(', ')
    .map((s) => `${machineId}.${s}`);
  for (const [full, id] of leafIds) {
    if (currentIds.includes(full)) lines.push(`  class ${id} current`);
    else if (visited.has(full)) lines.push(`  class ${id} visited`);
  }
  return lines.join('\n');
}

let mermaidReady = false;
async function drawChart(container, text) {
  if (!window.mermaid) {
    container.replaceChildren(h('pre', {}, text));
    return;
  }
  if (!mermaidReady) {
    // the whole machine at once, fitted to the page; "Actual size" zooms in
    window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', state: { useMaxWidth: true } });
    mermaidReady = true;
  }
  const { svg } = await window.mermaid.render(`chart-${Date.now()}`, text);
  container.innerHTML = svg;
}

function fitToggle(container) {
  return h(
    'button',
    {
      class: 'secondary',
      type: 'button',
      onclick: (event) => {
        const svg = container.querySelector('svg');
        if (!svg) return;
        const zoomed = svg.dataset.zoomed === 'true';
        if (!zoomed) {
          svg.dataset.fitted = svg.getAttribute('style') ?? '';
          svg.setAttribute('style', `width: ${svg.viewBox.baseVal.width}px; max-width: none;`);
          svg.removeAttribute('width');
        } else {
          svg.setAttribute('style', svg.dataset.fitted ?? '');
          svg.setAttribute('width', '100%');
        }
        svg.dataset.zoomed = String(!zoomed);
        event.target.textContent = zoomed ? 'Actual size' : 'Fit to width';
        // in actual size, bring the current state into view
        container.querySelector('g.current')?.scrollIntoView({ block: 'center', inline: 'center' });
      },
    },
    'Actual size',
  );
}

// ---------- one actor ----------

function tree(value, name) {
  if (value === null || typeof value !== 'object') return h('div', { class: 'leaf' }, name ? `${name}: ` : '', JSON.stringify(value));
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  return h(
    'details',
    { open: name === undefined || entries.length <= 6 },
    h('summary', {}, `${name ?? 'context'} ${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`),
    entries.map(([k, v]) => tree(v, k)),
  );
}

function sendEventDialog(type, id, eventType, onSent) {
  const reason = h('input', { name: 'reason', required: true, minlength: 3, placeholder: 'why (audited)' });
  const payload = h('textarea', { name: 'payload', rows: 3, placeholder: '{"field": "value"} (optional)' });
  const error = h('p', { class: 'error', role: 'alert' });
  const dialog = h(
    'dialog',
    {},
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (e) => {
          e.preventDefault();
          let extra;
          try {
            extra = payload.value.trim() ? JSON.parse(payload.value) : {};
          } catch {
            error.textContent = 'The payload is not JSON.';
            return;
          }
          try {
            await api(`/admin/actors/${encodeURIComponent(type)}/${encodeURIComponent(id)}/events`, {
              method: 'POST',
              body: { event: { ...extra, type: eventType }, reason: reason.value.trim() },
            });
            dialog.close();
            dialog.remove();
            onSent();
          } catch (failure) {
            error.textContent = failure.message;
          }
        },
      },
      h('h2', {}, `Send ${eventType}`),
      h('label', {}, 'Reason', reason),
      h('label', {}, 'Event fields', payload),
      error,
      h(
        'p',
        {},
        h('button', { type: 'submit' }, 'Send'),
        ' ',
        h('button', { type: 'button', class: 'secondary', onclick: () => (dialog.close(), dialog.remove()) }, 'Cancel'),
      ),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();
}

async function actorPage(type, id) {
  const actorPath = `/admin/actors/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
  const [actor, definition, journal] = await Promise.all([
    api(actorPath),
    api(`/admin/machines/${encodeURIComponent(type)}`),
    api(`/actors/${encodeURIComponent(type)}/${encodeURIComponent(id)}/journal?limit=200`),
  ]);
  const visited = new Set(
    journal.entries
      .flatMap((e) => [e.from, e.to])
      .filter(Boolean)
      .flatMap((s) => s.split(', '))
      .map((s) => `${definition.graph.id}.${s}`),
  );
  const chart = h('div', { class: 'diagram', id: 'statechart', 'data-current': actor.state });
  const reload = () => actorPage(type, id);
  render(
    h('p', {}, h('a', { href: `#/actors?type=${encodeURIComponent(type)}` }, `← ${type}`)),
    h(
      'h1',
      {},
      `${type} / ${id} `,
      h('span', { class: 'state', id: 'current-state' }, actor.state),
      actor.tags.includes('alert') ? h('span', { class: 'badge' }, 'needs attention') : null,
    ),
    h(
      'p',
      { class: 'muted' },
      `revision ${actor.revision} · version ${actor.version} · created ${time(actor.createdAt)} · updated ${time(actor.updatedAt)}`,
    ),
    h(
      'div',
      { class: 'legend muted' },
      'Statechart',
      h('span', { style: 'background:#ffd54f' }),
      'now',
      h('span', { style: 'background:#c8e6c9' }),
      'visited',
      ' ',
      fitToggle(chart),
    ),
    chart,
    h(
      'div',
      { class: 'layout' },
      h(
        'div',
        {},
        h('h2', {}, 'Journal'),
        h(
          'table',
          { class: 'timeline' },
          h(
            'thead',
            {},
            h('tr', {}, h('th', {}, '#'), h('th', {}, 'Event'), h('th', {}, 'From → to'), h('th', {}, 'When'), h('th', {}, 'Who')),
          ),
          h(
            'tbody',
            {},
            [...journal.entries]
              .reverse()
              .map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, e.revision),
                  h('td', { class: 'event' }, e.event?.type ?? ''),
                  h('td', { class: 'state' }, `${e.from ?? '∅'} → ${e.to}`),
                  h('td', {}, time(e.at)),
                  h(
                    'td',
                    {},
                    e.origin?.actorName ?? e.origin?.integration ?? e.origin?.kind ?? '',
                    e.origin?.reason ? h('div', { class: 'muted' }, e.origin.reason) : null,
                  ),
                ),
              ),
          ),
        ),
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Send an event'),
        h(
          'div',
          { class: 'events', id: 'events' },
          actor.accepts.length
            ? actor.accepts.map((event) =>
                h('button', { 'data-event': event, onclick: () => sendEventDialog(type, id, event, reload) }, event),
              )
            : h('span', { class: 'muted' }, 'This state accepts no events.'),
        ),
        actor.children.length
          ? h(
              'div',
              {},
              h('h2', {}, 'Children'),
              h(
                'ul',
                {},
                actor.children.map((c) =>
                  h(
                    'li',
                    {},
                    h('a', { href: `#/actor/${c.type}/${encodeURIComponent(c.id)}` }, `${c.type}/${c.id}`),
                    ' ',
                    h('span', { class: 'state' }, c.state ?? '?'),
                  ),
                ),
              ),
            )
          : null,
        actor.timers.length
          ? h(
              'div',
              {},
              h('h2', {}, 'Timers'),
              h(
                'ul',
                {},
                actor.timers.map((t) => h('li', {}, `${eventLabel(t.event)} at ${time(t.dueAt)}`)),
              ),
            )
          : null,
        actor.effects.length
          ? h(
              'div',
              {},
              h('h2', {}, 'Calls in flight'),
              h(
                'ul',
                {},
                actor.effects.map((e) =>
                  h('li', {}, `${e.src} · attempt ${e.attempts}`, e.lastError ? h('div', { class: 'error' }, e.lastError.message) : null),
                ),
              ),
              h(
                'button',
                {
                  class: 'secondary',
                  onclick: async () => {
                    const reason = prompt('Why retry now? (audited)');
                    if (reason) {
                      await api(`${actorPath}/retry`, { method: 'POST', body: { reason } });
                      reload();
                    }
                  },
                },
                'Retry now',
              ),
            )
          : null,
        h('h2', {}, 'Context'),
        h('div', { class: 'tree card' }, tree(actor.context)),
      ),
    ),
  );
  try {
    await drawChart(chart, statechart(definition.graph, actor.state, visited));
  } catch (failure) {
    chart.replaceChildren(h('p', { class: 'error' }, `The diagram could not be drawn: ${failure.message}`));
  }
}

async function machinePage(type) {
  const definition = await api(`/admin/machines/${encodeURIComponent(type)}`);
  const chart = h('div', { class: 'diagram' });
  render(
    h('p', {}, h('a', { href: `#/actors?type=${type}` }, `← ${type} actors`)),
    h('h1', {}, `${type} v${definition.version}`),
    h('p', { class: 'muted' }, definition.description, ' ', fitToggle(chart)),
    chart,
  );
  await drawChart(chart, statechart(definition.graph, '', new Set()));
}

// ---------- other pages ----------

async function incidentsPage() {
  const data = await api('/admin/incidents');
  const link = (type, id) => h('a', { href: `#/actor/${type}/${encodeURIComponent(id)}` }, `${type}/${id}`);
  render(
    h('h1', {}, 'Incidents'),
    h('h2', {}, 'Needs a person'),
    data.needsAttention.length
      ? h(
          'ul',
          {},
          data.needsAttention.map((a) =>
            h(
              'li',
              {},
              link(a.type, a.id),
              ' ',
              h('span', { class: 'state' }, a.state),
              h('span', { class: 'muted' }, ` since ${time(a.since)}`),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing.'),
    h('h2', {}, 'Calls stuck or retried'),
    data.stuckEffects.length
      ? h(
          'ul',
          {},
          data.stuckEffects.map((e) =>
            h(
              'li',
              {},
              link(e.type, e.id),
              ` ${e.src} · attempt ${e.attempts}`,
              e.lastError ? h('span', { class: 'error' }, ` ${e.lastError.message}`) : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing.'),
    h('h2', {}, 'Longer in a state than its SLA'),
    data.overdue.length
      ? h(
          'ul',
          {},
          data.overdue.map((o) =>
            h(
              'li',
              {},
              link(o.type, o.id),
              ' ',
              h('span', { class: 'state' }, o.state),
              h('span', { class: 'muted' }, ` since ${time(o.since)}`),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing.'),
  );
}

async function integrationsPage() {
  const { integrations, syncs } = await api('/admin/integrations/health');
  render(
    h('h1', {}, 'Integrations'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Integration', 'Mode', 'Circuit', 'Calls', 'Availability (15 min)', 'Last error'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        integrations.map((i) =>
          h(
            'tr',
            {},
            h('td', {}, i.title ?? i.name),
            h('td', {}, i.mode),
            h('td', {}, i.circuit),
            h('td', {}, i.calls),
            h(
              'td',
              {},
              i.window?.availability === null || i.window?.availability === undefined
                ? '—'
                : `${Math.round(i.window.availability * 100)} %`,
            ),
            h('td', { class: 'error' }, i.lastError ? `${i.lastError.code}: ${i.lastError.message}` : ''),
          ),
        ),
      ),
    ),
    h('h2', {}, 'Synchronisations'),
    syncs.length
      ? h(
          'ul',
          {},
          syncs.map((s) => h('li', {}, `${s.job} (${s.integration}): ${s.succeeded}/${s.runs} ok, last ${time(s.lastRunAt)}`)),
        )
      : h('p', { class: 'muted' }, 'None ran yet.'),
  );
}

async function devicesPage() {
  const money = (minor) => (minor === null || minor === undefined ? '—' : (minor / 100).toFixed(2));
  const draw = async () => {
    const [{ devices }, { receipts }] = await Promise.all([api('/admin/devices'), api('/fiscal/receipts?limit=30')]);
    render(
      h('h1', {}, 'Devices'),
      devices.length
        ? h(
            'table',
            { id: 'devices' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Device', 'Kind', 'Port', 'Online', 'Mode', 'Shift', 'Paper', 'Cover', 'Document №', 'Last seen', 'Last error'].map((t) =>
                  h('th', {}, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              devices.map((d) =>
                h(
                  'tr',
                  { 'data-device': d.name },
                  h('td', {}, d.name, d.source === 'environment' ? h('span', { class: 'muted' }, ' (emulated)') : null),
                  h('td', {}, d.kind),
                  h('td', { class: 'mono' }, d.path),
                  h('td', { class: d.health.online ? '' : 'error' }, d.health.online ? 'yes' : 'no'),
                  h('td', {}, d.health.mode ?? '—'),
                  h('td', {}, d.health.shift ?? '—'),
                  h('td', { class: d.health.paper === 'out' ? 'error' : '' }, d.health.paper ?? '—'),
                  h(
                    'td',
                    { class: d.health.coverOpen ? 'error' : '' },
                    d.health.coverOpen === null ? '—' : d.health.coverOpen ? 'open' : 'closed',
                  ),
                  h('td', {}, d.health.documentNumber ?? '—'),
                  h('td', {}, time(d.health.lastSeenAt)),
                  h('td', { class: 'error' }, d.health.lastError ? `${d.health.lastError.code}: ${d.health.lastError.message}` : ''),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No devices configured (PUT /admin/devices/:name).'),
      ...devices
        .filter((d) => d.lastPrinted)
        .map((d) =>
          h('div', {}, h('h2', {}, `Last printed on ${d.name}`), h('pre', { class: 'slip', 'data-printed': d.name }, d.lastPrinted)),
        ),
      h('h2', {}, 'Receipts'),
      receipts.length
        ? h(
            'table',
            { id: 'receipts' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Receipt', 'State', 'Register', 'Kind', 'Total', 'Document №', 'Shift', 'Source', 'Waiting on', 'Updated'].map((t) =>
                  h('th', {}, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              receipts.map((r) =>
                h(
                  'tr',
                  { 'data-receipt': r.id },
                  h('td', {}, h('a', { href: `#/actor/receipt/${encodeURIComponent(r.id)}` }, r.id)),
                  h('td', {}, r.state),
                  h('td', {}, r.register),
                  h('td', {}, r.kind),
                  h('td', {}, money(r.total)),
                  h('td', {}, r.documentNumber ?? '—'),
                  h('td', {}, r.shiftNumber ?? '—'),
                  h('td', {}, r.source ? `${r.source.type} ${r.source.id}` : '—'),
                  h('td', { class: 'error' }, r.fault ? `${r.fault.code}: ${r.fault.message}` : ''),
                  h('td', {}, time(r.updatedAt)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No receipts yet.'),
    );
  };
  await draw();
  every(3000, draw);
}

// ---------- sales at the tills ----------

const SALE_TYPE = 'pos-sale';
const CURRENCY_SIGNS = { UZS: 'сум', UAH: 'грн' };

/** Minor units in the sale's currency, integers only: 2850000 UZS → "28 500.00 сум". */
function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  const abs = Math.abs(minor);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  const cents = String(abs % 100).padStart(2, '0');
  return `${minor < 0 ? '−' : ''}${whole}.${cents}${currency ? ` ${CURRENCY_SIGNS[currency] ?? currency}` : ''}`;
}

/** Only web links become hrefs (a provider's link is data, never a script). */
const webLink = (url) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null);
const actorHref = (type, id) => `#/actor/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
const saleHref = (id) => `#/sale/${encodeURIComponent(id)}`;

/** The loyalty answer the sale was made with: its status, an "offline" badge, the warning the cashier saw. */
function loyaltyCell(loyalty, compact) {
  if (!loyalty) return '—';
  const offline = loyalty.status === 'offline';
  return [
    h('span', { class: 'state' }, loyalty.status),
    offline ? h('span', { class: 'badge offline', title: loyalty.warning ?? 'the loyalty program did not answer' }, 'offline') : null,
    loyalty.warning ? h('div', { class: `warning${compact ? ' muted' : ''}`, title: loyalty.warning }, loyalty.warning) : null,
  ];
}

/** The flattened leaf states of a machine's graph (what the lists filter on), e.g. `paying.online`. */
function leafStates(graph) {
  const leaves = [];
  const walk = (node) => {
    for (const child of node.states) {
      if (child.states.length > 0) walk(child);
      else leaves.push(child.id.slice(graph.id.length + 1));
    }
  };
  walk(graph);
  return leaves;
}

async function salesPage(params) {
  const filters = {
    state: params.get('state') ?? '',
    loyalty: params.get('loyalty') === 'offline' ? 'offline' : '',
    store: params.get('store') ?? '',
  };
  const go = (next) => {
    const query = new URLSearchParams(Object.entries({ ...filters, ...next }).filter(([, v]) => v));
    location.hash = `#/sales?${query}`;
  };
  const definition = await api(`/admin/machines/${SALE_TYPE}`);
  const stateSelect = h(
    'select',
    { name: 'state' },
    h('option', { value: '' }, 'any state'),
    leafStates(definition.graph).map((s) => h('option', { value: s, selected: s === filters.state }, s)),
  );
  const offlineBox = h('input', { type: 'checkbox', name: 'offline', checked: filters.loyalty === 'offline' });
  const storeInput = h('input', { name: 'store', value: filters.store, placeholder: 'e.g. main' });
  const apply = () => go({ state: stateSelect.value, loyalty: offlineBox.checked ? 'offline' : '', store: storeInput.value.trim() });
  stateSelect.addEventListener('change', apply);
  offlineBox.addEventListener('change', apply);
  const form = h(
    'form',
    { class: 'filters', onsubmit: (e) => (e.preventDefault(), apply()) },
    h('label', {}, 'State', stateSelect),
    h('label', {}, 'Store', storeInput),
    h('label', { class: 'check' }, offlineBox, 'Only offline (made without the loyalty program)'),
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', class: 'secondary', onclick: () => (location.hash = '#/sales') }, 'Clear'),
  );

  // the list answers the receipt's id; its state and number come from the receipt itself
  const receiptCell = (receiptId) => {
    if (!receiptId) return h('td', { class: 'receipt muted' }, '—');
    const state = h('span', { class: 'state muted' }, '…');
    api(`/fiscal/receipts/${encodeURIComponent(receiptId)}`)
      .then((r) => state.replaceChildren(r.state, r.documentNumber ? ` · № ${r.documentNumber}` : ''))
      .catch(() => state.replaceChildren('?'));
    return h(
      'td',
      { class: 'receipt' },
      h('a', { href: actorHref('receipt', receiptId), onclick: (e) => e.stopPropagation() }, receiptId),
      ' ',
      state,
    );
  };

  const { body, more } = await pagedRows({
    path: '/pos/sales',
    filters,
    items: (page) => page.sales,
    row: (s) =>
      h(
        'tr',
        {
          class: `row${s.loyalty?.status === 'offline' ? ' offline' : ''}`,
          'data-sale': s.id,
          'data-loyalty': s.loyalty?.status ?? '',
          onclick: () => (location.hash = saleHref(s.id)),
        },
        h('td', {}, h('a', { href: saleHref(s.id) }, s.id)),
        h('td', { class: 'nowrap' }, time(s.createdAt)),
        h('td', {}, s.store),
        h('td', {}, s.cashier),
        h('td', { class: 'money' }, money(s.total, s.currency)),
        h('td', {}, s.method),
        h('td', { class: 'state' }, s.state),
        h('td', { class: 'loyalty' }, loyaltyCell(s.loyalty, true)),
        receiptCell(s.receipt),
        h('td', { class: 'accrual' }, s.accrual ?? '—'),
      ),
    columns: 10,
    empty: 'No sales match.',
  });
  render(
    h('h1', {}, 'Sales'),
    h('p', { class: 'muted' }, 'Sales at the tills, newest first, with the loyalty answer each was made with and its fiscal receipt.'),
    form,
    h(
      'table',
      { id: 'sales', 'data-filters': new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString() },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Sale', 'Time', 'Store', 'Cashier', 'Total', 'Method', 'State', 'Loyalty', 'Receipt', 'Accrual'].map((t) => h('th', {}, t)),
        ),
      ),
      body,
    ),
    h('p', {}, more),
  );
}

/** A QR code the API serves behind the key: fetched with it, shown as a data: image (the console's CSP allows those). */
let qrCache = { key: null, src: null };
async function qrSource(path, key) {
  if (qrCache.key === key) return qrCache.src;
  const response = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` } });
  if (!response.ok) return null;
  const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(await response.text())}`;
  qrCache = { key, src };
  return src;
}

/** Label/value rows. */
const facts = (id, rows) =>
  h(
    'table',
    { class: 'facts', id },
    h(
      'tbody',
      {},
      rows.filter(Boolean).map(([label, value, attrs]) => h('tr', attrs ?? {}, h('th', {}, label), h('td', {}, value))),
    ),
  );

async function salePage(id) {
  const page = location.hash;
  const draw = async () => {
    const sale = await api(`/pos/sales/${encodeURIComponent(id)}`);
    const current = sale.payment.current;
    const qr = sale.paymentQr
      ? await qrSource(sale.paymentQr, `${sale.paymentQr}|${current?.id}|${sale.paymentUrl}`).catch(() => null)
      : null;
    if (location.hash !== page) return; // the operator went elsewhere meanwhile
    const c = (minor) => money(minor, sale.currency);
    const customer = sale.loyalty.customer;
    const offline = sale.loyalty.status === 'offline' || sale.tags.includes('loyalty-offline');
    const payLink = webLink(sale.paymentUrl);
    render(
      h('p', {}, h('a', { href: '#/sales' }, '← Sales')),
      h(
        'h1',
        {},
        `Sale ${sale.id} `,
        h('span', { class: 'state', id: 'sale-state' }, sale.state),
        offline ? h('span', { class: 'badge offline', title: sale.loyalty.warning ?? '' }, 'loyalty offline') : null,
      ),
      h(
        'p',
        { class: 'muted' },
        `${sale.store} · register ${sale.register} · ${sale.cashier} · ${time(sale.createdAt)} · `,
        h('a', { href: actorHref(SALE_TYPE, sale.id), id: 'sale-actor' }, 'journal and statechart'),
      ),
      h(
        'div',
        { class: 'layout' },
        h(
          'div',
          {},
          h('h2', {}, 'Items'),
          h(
            'table',
            { id: 'sale-items' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['SKU', 'Name', 'Qty', 'Price', 'Sum'].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              sale.items.map((i) =>
                h(
                  'tr',
                  { 'data-sku': i.sku },
                  h('td', { class: 'mono' }, i.sku),
                  h('td', {}, i.name),
                  h('td', {}, i.qty),
                  h('td', { class: 'money' }, c(i.price)),
                  h('td', { class: 'money' }, c(i.qty * i.price)),
                ),
              ),
            ),
          ),
          h('h2', {}, 'Totals'),
          facts('sale-totals', [
            ['Subtotal', c(sale.subtotal), { 'data-total': 'subtotal' }],
            ['Discount', c(sale.discount), { 'data-total': 'discount' }],
            ['Bonuses spent', c(sale.bonusSpent), { 'data-total': 'bonusSpent' }],
            ['Total', h('b', {}, c(sale.total)), { 'data-total': 'total' }],
            sale.paid?.tendered ? ['Tendered', c(sale.paid.tendered), { 'data-total': 'tendered' }] : null,
            sale.change !== null && sale.change !== undefined ? ['Change', c(sale.change), { 'data-total': 'change' }] : null,
          ]),
          h('h2', {}, 'Returns'),
          sale.returns.length
            ? h(
                'table',
                { id: 'sale-returns' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Return', 'Lines', 'Amount', 'Refunded', 'By', 'Reason', 'When', 'Receipt'].map((t) => h('th', {}, t)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  sale.returns.map((r) =>
                    h(
                      'tr',
                      { 'data-return': r.returnId },
                      h('td', { class: 'mono' }, r.returnId),
                      h('td', {}, r.lines.map((l) => `${l.sku} × ${l.qty}`).join(', ')),
                      h('td', { class: 'money' }, c(r.amount)),
                      h('td', {}, r.refundedVia),
                      h('td', {}, r.by),
                      h('td', {}, r.reason),
                      h('td', {}, time(r.at)),
                      h('td', {}, r.receiptId ? h('a', { href: actorHref('receipt', r.receiptId) }, r.receiptId) : '—'),
                    ),
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'None.'),
          sale.errors.length || sale.payment.errors.length
            ? h(
                'div',
                {},
                h('h2', {}, 'Errors'),
                h(
                  'ul',
                  { class: 'error' },
                  sale.errors.map((e) => h('li', {}, `${e.code}: ${e.message}`)),
                  sale.payment.errors.map((e) => h('li', {}, `${e.paymentId} ${e.code}: ${e.message}`)),
                ),
              )
            : null,
        ),
        h(
          'div',
          {},
          h('h2', {}, 'Loyalty'),
          h(
            'div',
            { class: 'card', id: 'sale-loyalty' },
            h(
              'p',
              {},
              loyaltyCell(sale.loyalty, false),
              sale.loyalty.source
                ? h('span', { class: 'muted' }, sale.loyalty.source === 'cache' ? ' (known from the local cache: no discount)' : ' (live)')
                : null,
            ),
            customer
              ? facts('sale-customer', [
                  ['Customer', customer.name ?? '—'],
                  ['Id', h('span', { class: 'mono' }, customer.id)],
                  ['Level', customer.level ?? '—'],
                  ['Discount', `${customer.discountPercent} %`],
                  ['Bonus balance', c(customer.bonusBalance)],
                ])
              : h('p', { class: 'muted' }, 'No loyalty customer.'),
          ),
          h('h2', {}, 'Payment'),
          h(
            'div',
            { class: 'card', id: 'sale-payment' },
            facts('sale-payment-facts', [
              ['Method', sale.payment.method],
              ['Attempts', sale.payment.attempts],
              current ? ['Payment', h('a', { href: actorHref('payment', current.id) }, current.id)] : null,
              current
                ? ['Its state', h('span', { class: 'state' }, current.state, current.providerStatus ? ` (${current.providerStatus})` : '')]
                : null,
              sale.paid ? ['Paid', `${sale.paid.method} · ${sale.paid.by}${sale.paid.at ? ` · ${time(sale.paid.at)}` : ''}`] : null,
            ]),
            payLink
              ? h(
                  'div',
                  { class: 'pay' },
                  h(
                    'p',
                    {},
                    'Waiting for the customer: ',
                    h('a', { href: payLink, target: '_blank', rel: 'noopener noreferrer', id: 'payment-link' }, 'payment link'),
                  ),
                  qr ? h('img', { src: qr, alt: 'QR code of the payment link', class: 'qr', id: 'payment-qr' }) : null,
                )
              : null,
          ),
          h('h2', {}, 'Receipt'),
          h(
            'div',
            { class: 'card', id: 'sale-receipt' },
            sale.receipt
              ? facts('sale-receipt-facts', [
                  ['Receipt', h('a', { href: actorHref('receipt', sale.receipt.id) }, sale.receipt.id)],
                  ['State', h('span', { class: 'state' }, sale.receipt.state)],
                  ['Document №', sale.receipt.documentNumber ?? '—'],
                  sale.slip ? ['Slip', h('a', { href: actorHref('print-job', sale.slip) }, sale.slip)] : null,
                ])
              : h('p', { class: 'muted' }, 'No fiscal receipt (yet, or the store has no register).'),
          ),
          h('h2', {}, 'Bonus accrual'),
          h(
            'div',
            { class: 'card', id: 'sale-accrual' },
            sale.accrual
              ? facts('sale-accrual-facts', [
                  ['Status', h('span', { class: 'state' }, sale.accrual.status)],
                  ['Earned', c(sale.accrual.bonusEarned)],
                  ['Balance after', c(sale.accrual.bonusBalance)],
                ])
              : h('p', { class: 'muted' }, 'Not yet.'),
          ),
          sale.cancellation
            ? h('div', {}, h('h2', {}, 'Cancelled'), h('p', {}, `${sale.cancellation.reason} (${sale.cancellation.by})`))
            : null,
        ),
      ),
    );
  };
  await draw();
  // a sale moves on by itself (payment, receipt, accrual): keep it current
  every(3000, draw);
}

// ---------- orders (the shop's and the marketplaces') ----------

/** Where an order can come from, as the list filters it (the API filters by marketplace only). */
const MARKETPLACE_NAMES = ['rozetka', 'uzum', 'wildberries', 'ozon'];
const orderHref = (id) => `#/order/${encodeURIComponent(id)}`;

async function ordersPage(params) {
  const filters = {
    source: MARKETPLACE_NAMES.includes(params.get('source')) ? params.get('source') : '',
    state: params.get('state') ?? '',
  };
  const go = (next) => {
    const query = new URLSearchParams(Object.entries({ ...filters, ...next }).filter(([, v]) => v));
    location.hash = `#/orders?${query}`;
  };
  const sourceSelect = h(
    'select',
    { name: 'source' },
    h('option', { value: '' }, 'all sources'),
    MARKETPLACE_NAMES.map((name) => h('option', { value: name, selected: name === filters.source }, name)),
  );
  const stateInput = h('input', { name: 'state', value: filters.state, placeholder: 'e.g. fulfilment.awaitingShipment' });
  const apply = () => go({ source: sourceSelect.value, state: stateInput.value.trim() });
  sourceSelect.addEventListener('change', apply);
  const form = h(
    'form',
    { class: 'filters', onsubmit: (e) => (e.preventDefault(), apply()) },
    h('label', {}, 'Source', sourceSelect),
    h('label', {}, 'State', stateInput),
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', class: 'secondary', onclick: () => (location.hash = '#/orders') }, 'Clear'),
  );
  const { body, more } = await pagedRows({
    path: '/orders',
    filters,
    items: (page) => page.orders,
    row: (o) =>
      h(
        'tr',
        { class: 'row', 'data-order': o.id, 'data-source': o.source, onclick: () => (location.hash = orderHref(o.id)) },
        h('td', {}, h('a', { href: orderHref(o.id) }, o.id)),
        h('td', { class: 'nowrap' }, time(o.createdAt)),
        h(
          'td',
          { class: 'source' },
          h('span', { class: `source-tag${MARKETPLACE_NAMES.includes(o.source) ? ' marketplace' : ''}` }, o.source),
        ),
        h('td', { class: 'mono external' }, o.externalId ?? '—'),
        h('td', {}, o.customer ?? '—'),
        h('td', { class: 'money' }, money(o.total, o.currency)),
        h('td', {}, o.method),
        h('td', { class: 'state' }, o.state, o.late ? h('span', { class: 'badge' }, 'late') : null),
      ),
    columns: 8,
    empty: 'No orders match.',
  });
  render(
    h('h1', {}, 'Orders'),
    h('p', { class: 'muted' }, "Orders newest first: the shop's own and those the marketplaces sold (filter by marketplace)."),
    form,
    h(
      'table',
      { id: 'orders', 'data-filters': new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString() },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Order', 'Created', 'Source', 'External id', 'Customer', 'Total', 'Method', 'State'].map((t) => h('th', {}, t)),
        ),
      ),
      body,
    ),
    h('p', {}, more),
  );
}

/** What a marketplace has been told of an order, whether it cancelled it there, and a push it refused (in red). */
function marketplaceBlock(mp) {
  const incident = mp.incident;
  return h(
    'div',
    { class: 'card', id: 'order-marketplace', 'data-marketplace': mp.name },
    incident
      ? h(
          'p',
          { class: 'error incident', role: 'alert' },
          h('b', {}, 'Incident: '),
          `${mp.name} refused "${incident.status}": ${incident.code}: ${incident.message}`,
          h('span', { class: 'muted' }, ` (${time(incident.at)})`),
        )
      : null,
    facts('order-marketplace-facts', [
      ['Marketplace', h('a', { href: '#/marketplaces' }, mp.name)],
      ['Its order id', h('span', { class: 'mono' }, mp.externalId)],
      [
        'Told',
        mp.told.length
          ? h(
              'span',
              { class: 'told' },
              mp.told.map((s) => h('span', { class: 'chip', 'data-told': s }, s)),
            )
          : h('span', { class: 'muted' }, 'nothing yet'),
        { 'data-fact': 'told' },
      ],
      [
        'Cancelled there',
        mp.cancelledThere ? h('b', { class: 'cancelled-there' }, 'yes (by the marketplace or its buyer)') : 'no',
        { 'data-fact': 'cancelledThere' },
      ],
      ['Settled', mp.settled ? 'yes (nothing more to tell)' : 'no', { 'data-fact': 'settled' }],
      mp.lastError ? ['Last error', h('span', { class: 'error' }, mp.lastError), { 'data-fact': 'lastError' }] : null,
    ]),
  );
}

async function orderPage(id) {
  const page = location.hash;
  const draw = async () => {
    const order = await api(`/orders/${encodeURIComponent(id)}`);
    if (location.hash !== page) return;
    const currency = order.pricing?.currency ?? null;
    const c = (minor) => money(minor, currency);
    const current = order.payment.current;
    render(
      h('p', {}, h('a', { href: '#/orders' }, '← Orders')),
      h(
        'h1',
        {},
        `Order ${order.id} `,
        h('span', { class: 'state', id: 'order-state' }, order.state),
        order.marketplace?.incident ? h('span', { class: 'badge offline' }, 'incident') : null,
      ),
      h(
        'p',
        { class: 'muted' },
        'source ',
        h('span', { class: `source-tag${order.marketplace ? ' marketplace' : ''}`, id: 'order-source' }, order.source),
        order.externalId ? ` · external id ${order.externalId}` : '',
        ` · created ${time(order.createdAt)} · updated ${time(order.updatedAt)} · `,
        h('a', { href: actorHref('order', order.id) }, 'journal and statechart'),
      ),
      h(
        'div',
        { class: 'layout' },
        h(
          'div',
          {},
          h('h2', {}, 'Items'),
          h(
            'table',
            { id: 'order-items' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['SKU', 'Name', 'Qty', 'Price', 'Sum'].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              order.items.map((i) =>
                h(
                  'tr',
                  { 'data-sku': i.sku },
                  h('td', { class: 'mono' }, i.sku),
                  h('td', {}, i.name ?? ''),
                  h('td', {}, i.qty),
                  h('td', { class: 'money' }, c(i.unitPrice)),
                  h('td', { class: 'money' }, c(i.qty * i.unitPrice)),
                ),
              ),
            ),
          ),
          order.pricing ? h('h2', {}, 'Totals') : null,
          order.pricing
            ? facts('order-totals', [
                ['Subtotal', c(order.pricing.subtotal)],
                ['Delivery', c(order.pricing.deliveryFee)],
                ...order.pricing.fees.map((f) => [f.name, c(f.amount)]),
                ['Total', h('b', {}, c(order.pricing.total)), { 'data-total': 'total' }],
              ])
            : null,
          order.errors.length || order.payment.errors.length
            ? h(
                'div',
                {},
                h('h2', {}, 'Errors'),
                h(
                  'ul',
                  { class: 'error' },
                  order.errors.map((e) => h('li', {}, `${e.code}: ${e.message}`)),
                  order.payment.errors.map((e) => h('li', {}, `${e.paymentId} ${e.code}: ${e.message}`)),
                ),
              )
            : null,
        ),
        h(
          'div',
          {},
          order.marketplace ? h('div', {}, h('h2', {}, 'Marketplace'), marketplaceBlock(order.marketplace)) : null,
          h('h2', {}, 'Customer'),
          facts('order-customer', [
            ['Name', order.customer.name ?? '—'],
            ['Phone', order.customer.phone ?? '—'],
            ['E-mail', order.customer.email ?? '—'],
          ]),
          h('h2', {}, 'Payment'),
          facts('order-payment', [
            ['Method', order.payment.method],
            ['Attempts', order.payment.attempts],
            current ? ['Payment', h('a', { href: actorHref('payment', current.id) }, current.id)] : null,
            current ? ['Its state', h('span', { class: 'state' }, current.state)] : null,
          ]),
          h('h2', {}, 'Delivery'),
          facts('order-delivery', [
            ['Carrier', order.delivery.carrier],
            order.delivery.service ? ['Service', order.delivery.service] : null,
            order.delivery.cityName ? ['City', order.delivery.cityName] : null,
            order.delivery.warehouseName ? ['Warehouse', order.delivery.warehouseName] : null,
            order.shipment
              ? ['Shipped', `${time(order.shipment.shippedAt)}${order.shipment.waybill ? ` · ${order.shipment.waybill}` : ''}`]
              : null,
          ]),
          order.cancellation
            ? h(
                'div',
                {},
                h('h2', {}, 'Cancelled'),
                h('p', { id: 'order-cancellation' }, `${order.cancellation.reason} (${order.cancellation.by})`),
              )
            : null,
        ),
      ),
    );
  };
  await draw();
  every(5000, draw);
}

// ---------- marketplaces: each one's sync state ----------

/** A long cursor shortened, the whole of it in the title. */
function shortText(text, keep = 14) {
  if (text === null || text === undefined) return h('span', { class: 'muted' }, '—');
  const full = String(text);
  return h('span', { class: 'mono cursor', title: full, 'data-full': full }, full.length > keep + 1 ? `${full.slice(0, keep)}…` : full);
}

/** The marketplace sections the operator opened stay open (and reloaded) when the page redraws. */
const openSections = new Set();
/** What each open section showed last: kept on screen while a redraw fetches it again. */
const sectionContent = new Map();

function heldList(name) {
  return api(`/admin/marketplaces/${encodeURIComponent(name)}/held`).then(({ held }) =>
    held.length
      ? h(
          'table',
          { class: 'held' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Its order', 'Why held', 'Tries', 'First seen', 'Last tried', 'As received'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            held.map((o) =>
              h(
                'tr',
                { 'data-held': o.externalId },
                h('td', { class: 'mono' }, o.externalId),
                h('td', { class: 'error' }, `${o.reason.code}: ${o.reason.message}`),
                h('td', {}, o.attempts),
                h('td', { class: 'nowrap' }, time(o.firstSeenAt)),
                h('td', { class: 'nowrap' }, time(o.lastTriedAt)),
                h('td', {}, h('details', {}, h('summary', {}, 'show'), h('pre', { class: 'mono' }, JSON.stringify(o.order, null, 2)))),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No order held.'),
  );
}

function incidentList(name) {
  return api(`/admin/marketplaces/${encodeURIComponent(name)}/incidents`).then(({ incidents }) =>
    incidents.length
      ? h(
          'table',
          { class: 'incidents' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Order', 'Its order', 'Refused', 'Error', 'When', 'Told'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            incidents.map((i) =>
              h(
                'tr',
                { 'data-incident': i.orderId },
                h('td', {}, h('a', { href: orderHref(i.orderId) }, i.orderId)),
                h('td', { class: 'mono' }, i.externalId),
                h('td', { class: 'state' }, i.incident.status),
                h('td', { class: 'error' }, `${i.incident.code}: ${i.incident.message}`),
                h('td', { class: 'nowrap' }, time(i.incident.at)),
                h('td', {}, i.told.join(', ') || '—'),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No incident.'),
  );
}

/** A section opened on demand: its list is fetched when it opens (and again on every redraw while open). */
function lazySection(key, title, load) {
  const content = h('div', { class: 'section-body' }, sectionContent.get(key) ?? h('p', { class: 'muted' }, 'Loading…'));
  const fill = () =>
    load()
      .then((node) => {
        sectionContent.set(key, node);
        content.replaceChildren(node);
      })
      .catch((failure) => content.replaceChildren(h('p', { class: 'error' }, failure.message)));
  const open = openSections.has(key);
  const details = h(
    'details',
    {
      class: 'section',
      'data-section': key,
      open,
      ontoggle: (event) => {
        if (event.target.open) {
          openSections.add(key);
          fill();
        } else openSections.delete(key);
      },
    },
    h('summary', {}, title),
    content,
  );
  if (open) fill();
  return details;
}

/** "imported 1 · held 2", from a job run's output (what was skipped, if so). */
function runSummary(output) {
  if (!output || typeof output !== 'object') return 'done';
  if (output.skipped) return `skipped: ${output.skipped}`;
  const parts = Object.entries(output)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(' · ') : 'done';
}

/** When it last ran; and, when that run did not succeed (or is still running), when one last did. */
function lastRun({ lastRunAt, lastSuccessAt }) {
  const behind = lastRunAt && (!lastSuccessAt || Date.parse(lastSuccessAt) < Date.parse(lastRunAt));
  return [
    h('span', { class: 'nowrap' }, lastRunAt ? time(lastRunAt) : 'never'),
    behind ? h('div', { class: 'muted' }, lastSuccessAt ? `last success ${time(lastSuccessAt)}` : 'no success yet') : null,
  ];
}

async function marketplacesPage() {
  const page = location.hash;
  const results = {}; // the last button's outcome per marketplace, kept over redraws
  const draw = async () => {
    const { marketplaces } = await api('/admin/marketplaces');
    if (location.hash !== page) return;
    const runJob = (name, job, label) => async (event) => {
      event.target.disabled = true;
      results[name] = { text: `${label}…`, error: false };
      try {
        const run = await api(`/admin/jobs/${encodeURIComponent(job)}/run`, { method: 'POST', body: {} });
        const output = job === 'marketplace-push' ? (run.output?.[name] ?? run.output) : run.output;
        results[name] = { text: `${label}: ${runSummary(output)} (${time(new Date().toISOString())})`, error: false };
      } catch (failure) {
        results[name] = { text: `${label} failed: ${failure.message}`, error: true };
      }
      await draw();
    };
    render(
      h('h1', {}, 'Marketplaces'),
      h(
        'p',
        { class: 'muted' },
        'Each marketplace: its order import (cursor, last run), its stock and price push, what is still due, and incidents.',
      ),
      h(
        'div',
        { class: 'cards marketplaces' },
        marketplaces.map((m) => {
          const result = results[m.name];
          return h(
            'div',
            { class: `card marketplace${m.enabled ? '' : ' disabled'}`, 'data-marketplace': m.name, 'data-enabled': String(m.enabled) },
            h(
              'h3',
              {},
              m.name,
              ' ',
              h('span', { class: `badge ${m.enabled ? 'enabled' : 'off'}`, 'data-field': 'enabled' }, m.enabled ? 'enabled' : 'disabled'),
              h('span', { class: 'muted' }, ` ${m.currency}`),
            ),
            facts(`mp-${m.name}-facts`, [
              ['Listings', m.listings, { 'data-field': 'listings' }],
              ['Cursor', shortText(m.cursor), { 'data-field': 'cursor' }],
              ['Last import', lastRun(m.orders), { 'data-field': 'orders.lastRunAt' }],
              ['Imported', m.orders.imported, { 'data-field': 'orders.imported' }],
              ['Held', h('span', { class: m.orders.held > 0 ? 'warning' : '' }, m.orders.held), { 'data-field': 'orders.held' }],
              m.orders.lastError
                ? ['Import error', h('span', { class: 'error' }, m.orders.lastError), { 'data-field': 'orders.lastError' }]
                : null,
              ['Last push', lastRun(m.push), { 'data-field': 'push.lastRunAt' }],
              ['Push calls / items', `${m.push.calls} / ${m.push.items}`, { 'data-field': 'push.calls' }],
              [
                'Push failures',
                h('span', { class: m.push.failures > 0 ? 'error' : '' }, m.push.failures),
                { 'data-field': 'push.failures' },
              ],
              m.push.lastError ? ['Push error', h('span', { class: 'error' }, m.push.lastError), { 'data-field': 'push.lastError' }] : null,
              [
                'Pending',
                `stock ${m.pending.stock} · prices ${m.pending.prices} · statuses ${m.pending.statuses}`,
                { 'data-field': 'pending' },
              ],
              ['Incidents', h('span', { class: m.incidents > 0 ? 'error' : '' }, m.incidents), { 'data-field': 'incidents' }],
            ]),
            h(
              'p',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  'data-action': 'import',
                  disabled: !m.enabled,
                  title: m.enabled ? `imports the new ${m.name} orders now` : `${m.name} is not enabled`,
                  onclick: runJob(m.name, `marketplace-orders:${m.name}`, 'Import'),
                },
                'Import now',
              ),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'data-action': 'push',
                  title: 'pushes the stock, prices and statuses due at every enabled marketplace',
                  onclick: runJob(m.name, 'marketplace-push', 'Push'),
                },
                'Push now',
              ),
            ),
            result ? h('p', { class: result.error ? 'error run-result' : 'muted run-result', role: 'status' }, result.text) : null,
            lazySection(`${m.name}:held`, `Held orders (${m.orders.held})`, () => heldList(m.name)),
            lazySection(`${m.name}:incidents`, `Incidents (${m.incidents})`, () => incidentList(m.name)),
          );
        }),
      ),
      h('p', {}, h('a', { href: '#/orders' }, 'Orders by source →')),
    );
  };
  await draw();
  every(10000, draw);
}

async function alertsPage() {
  const { alerts } = await api('/admin/alerts');
  const act = (alert, what) => async () => {
    await api(`/admin/alerts/${encodeURIComponent(alert.id)}/${what}`, { method: 'POST', body: {} });
    alertsPage();
  };
  render(
    h('h1', {}, 'Alerts'),
    alerts.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Status', 'Kind', 'Subject', 'Message', 'Count', 'Last', ''].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            alerts.map((a) =>
              h(
                'tr',
                {},
                h('td', {}, a.status),
                h('td', {}, a.kind),
                h('td', {}, a.subject),
                h('td', {}, a.message),
                h('td', {}, a.count),
                h('td', {}, time(a.lastAt)),
                h(
                  'td',
                  {},
                  a.status === 'open' ? h('button', { class: 'secondary', onclick: act(a, 'acknowledge') }, 'Acknowledge') : null,
                  ' ',
                  a.status !== 'resolved' ? h('button', { class: 'secondary', onclick: act(a, 'resolve') }, 'Resolve') : null,
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No alerts.'),
  );
}

// ---------- routing ----------

async function route() {
  if (refresh) clearInterval(refresh);
  refresh = null;
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query ?? '');
  document.getElementById('logout').hidden = !sessionStorage.getItem(KEY);
  if (!sessionStorage.getItem(KEY) || path === '/login') return loginPage();
  const parts = (path ?? '').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'actor' && parts.length >= 3) return await actorPage(parts[1], parts.slice(2).join('/'));
    if (parts[0] === 'machine' && parts[1]) return await machinePage(parts[1]);
    if (parts[0] === 'incidents') return await incidentsPage();
    if (parts[0] === 'integrations') return await integrationsPage();
    if (parts[0] === 'alerts') return await alertsPage();
    if (parts[0] === 'devices') return await devicesPage();
    if (parts[0] === 'sales') return await salesPage(params);
    if (parts[0] === 'sale' && parts.length >= 2) return await salePage(parts.slice(1).join('/'));
    if (parts[0] === 'orders') return await ordersPage(params);
    if (parts[0] === 'order' && parts.length >= 2) return await orderPage(parts.slice(1).join('/'));
    if (parts[0] === 'marketplaces') return await marketplacesPage();
    return await actorsPage(params);
  } catch (failure) {
    if (failure.status === 401) return loginPage('Sign in again.');
    render(h('p', { class: 'error' }, failure.message));
  }
}

document.getElementById('logout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
route();
