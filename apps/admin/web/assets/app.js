// attendance admin: progressive enhancement only. Every page works without this
// file except the interactive report. User data is inserted with textContent,
// never innerHTML, so names like <script> stay text.
'use strict';

(() => {
  // ---- small helpers -------------------------------------------------------
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const svg = (tag, attrs = {}) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const pad = (n) => String(n).padStart(2, '0');
  // Local wall-clock time, unambiguous and sortable: 2026-11-24 09:05:12.
  const fmtTime = (ms) => {
    if (ms === null || ms === undefined) return '';
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };
  const fmtClock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const nf = new Intl.NumberFormat();

  // ---- confirmations and copy buttons ---------------------------------------
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  });
  document.addEventListener('click', async (e) => {
    const btn = e.target instanceof Element ? e.target.closest('[data-copy]') : null;
    if (!btn) return;
    const target = document.getElementById(btn.dataset.copy);
    if (!target) return;
    const text = target.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const range = document.createRange();
      range.selectNodeContents(target);
      const s = window.getSelection();
      s.removeAllRanges();
      s.addRange(range);
      document.execCommand('copy');
    }
    const old = btn.textContent;
    btn.textContent = 'Copied';
    setTimeout(() => { btn.textContent = old; }, 1500);
  });

  // ---- local time ------------------------------------------------------------
  // The server renders UTC; the organizer reads and types their own local time.
  const toInputValue = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  for (const t of document.querySelectorAll('time[data-local]')) {
    const when = Date.parse(t.getAttribute('datetime'));
    if (!Number.isNaN(when)) { t.title = t.textContent; t.textContent = fmtTime(when).slice(0, 16); }
  }
  for (const input of document.querySelectorAll('input[type="datetime-local"][data-utc]')) {
    const when = Date.parse(input.dataset.utc);
    if (!Number.isNaN(when)) input.value = toInputValue(new Date(when));
  }
  for (const tz of document.querySelectorAll('input[name="tzOffset"]')) tz.value = String(new Date().getTimezoneOffset());

  // ---- the report -----------------------------------------------------------
  const root = $('#report');
  if (!root) return;

  const PAGE = 50;
  const state = { report: null, filter: 'all', sort: 'firstSeen', dir: 1, page: 0, query: '' };
  const fetchBtn = $('#fetch-report');
  const fetchedAt = $('#fetched-at');
  const body = $('#report-body');

  // The report JSON is core's (`attendance-admin report --format json`,
  // docs/check-in-semantics.md); this is the only place that knows its fields.
  const ms = (iso) => (iso === null || iso === undefined ? null : Date.parse(iso));
  function normalise(r) {
    const t = r.summary || {};
    return {
      synced: Boolean(r.synced),
      registered: t.registered ?? 0,
      attended: t.attended ?? 0,
      noShows: t.noShows ?? 0,
      walkIns: t.walkIns ?? 0,
      unknownDevices: t.unknownDevices ?? 0,
      attendanceRate: t.attendanceRate ?? 0,
      scanners: (r.scanners || []).map((s) => ({ id: s.scannerId, lastSync: ms(s.lastSyncAt), records: s.recordsReceived ?? 0 })),
      participants: (r.participants || []).map((p) => ({
        name: p.name ?? '', email: p.email ?? '', status: p.status ?? '',
        firstSeen: ms(p.firstSeen), lastSeen: ms(p.lastSeen),
        scanners: (p.scanners || []).join(', '), sightings: p.sightings ?? 0,
      })),
    };
  }

  async function load() {
    fetchBtn.disabled = true;
    fetchBtn.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(root.dataset.reportUrl, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
      if (res.status === 401) { window.location.assign('/login'); return; }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      state.report = normalise(await res.json());
      state.page = 0;
      render();
      fetchedAt.textContent = `Fetched at ${fmtClock(new Date())}`;
      fetchedAt.dataset.fetched = 'true';
    } catch (err) {
      fetchedAt.textContent = `Could not fetch the report (${err.message}). Try again.`;
    } finally {
      fetchBtn.disabled = false;
      fetchBtn.removeAttribute('aria-busy');
    }
  }

  function stat(label, value, extra) {
    return el('div', { class: 'stat' }, el('div', { class: 'stat-label', text: label }),
      el('div', { class: `stat-value${extra ? ' ' + extra : ''}`, text: value }));
  }

  function render() {
    const r = state.report;
    body.replaceChildren();
    if (!r.synced) {
      body.append(el('div', { class: 'card not-synced', id: 'not-synced' },
        el('p', { class: 'big', text: 'Attendance data has not been synced.' }),
        el('p', { class: 'muted' }, el('strong', { id: 'registered-count', text: nf.format(r.registered) }),
          ` participant${r.registered === 1 ? ' is' : 's are'} registered. Run attendance-sync on the scanner after the event, then fetch the data here.`)));
      return;
    }
    const rate = `${Math.round(r.attendanceRate * 1000) / 10}%`;
    body.append(el('div', { class: 'stats', id: 'totals' },
      stat('Registered', nf.format(r.registered)), stat('Attended', nf.format(r.attended), 'accent'),
      stat('No-shows', nf.format(r.noShows)), stat('Walk-ins', nf.format(r.walkIns)),
      stat('Unknown devices', nf.format(r.unknownDevices)), stat('Attendance rate', rate)));
    body.append(renderChart(r), renderScanners(r), renderTable());
  }

  function renderScanners(r) {
    const tbody = el('tbody');
    for (const s of r.scanners) {
      tbody.append(el('tr', {}, el('td', {}, el('code', { text: s.id })),
        el('td', {}, el('time', { datetime: s.lastSync ? new Date(s.lastSync).toISOString() : undefined, text: fmtTime(s.lastSync) || 'never' })),
        el('td', { class: 'num', text: nf.format(s.records) })));
    }
    return el('section', { class: 'card flush', 'aria-labelledby': 'scanners-h' },
      el('div', { class: 'card-head' }, el('h2', { id: 'scanners-h', text: 'Last sync per scanner' })),
      el('div', { class: 'table-wrap' }, el('table', { id: 'scanner-table' },
        el('thead', {}, el('tr', {}, el('th', { text: 'Scanner' }), el('th', { text: 'Last sync' }), el('th', { class: 'num', text: 'Records received' }))),
        tbody)));
  }

  // Arrivals over time: first sightings bucketed into at most 36 bars.
  function renderChart(r) {
    const times = r.participants.map((p) => p.firstSeen).filter((t) => t !== null).sort((a, b) => a - b);
    const section = el('section', { class: 'card chart', 'aria-labelledby': 'chart-h' },
      el('div', { class: 'card-head' }, el('h2', { id: 'chart-h', text: 'Arrivals over time' })));
    if (times.length === 0) { section.append(el('p', { class: 'muted', text: 'Nobody was seen.' })); return section; }
    const steps = [60e3, 5 * 60e3, 10 * 60e3, 15 * 60e3, 30 * 60e3, 3600e3, 2 * 3600e3, 6 * 3600e3, 86400e3];
    const span = times[times.length - 1] - times[0];
    const step = steps.find((s) => span / s <= 36) || 86400e3;
    const start = Math.floor(times[0] / step) * step;
    const n = Math.floor((times[times.length - 1] - start) / step) + 1;
    const counts = new Array(n).fill(0);
    for (const t of times) counts[Math.floor((t - start) / step)] += 1;
    const max = Math.max(...counts);
    const W = 720, H = 200, L = 36, B = 24, T = 8;
    const bw = (W - L) / n;
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Arrivals per ${step / 60e3} minutes, peak ${max}` });
    chart.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B }));
    for (const frac of max >= 2 ? [0.5, 1] : [1]) {
      const y = H - B - frac * (H - B - T);
      chart.append(svg('line', { class: 'axis', x1: L, y1: y, x2: W, y2: y, 'stroke-dasharray': '3 4' }));
      const label = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' });
      label.textContent = String(Math.round(max * frac));
      chart.append(label);
    }
    counts.forEach((c, i) => {
      const h = max ? (c / max) * (H - B - T) : 0;
      const w = Math.max(1, Math.min(bw - 2, 28));
      const rect = svg('rect', { class: 'bar', x: L + i * bw + (bw - w) / 2, y: H - B - h, width: w, height: h, rx: 2 });
      const title = svg('title');
      title.textContent = `${fmtTime(start + i * step).slice(11, 16)}: ${c} arrival${c === 1 ? '' : 's'}`;
      rect.append(title);
      chart.append(rect);
    });
    const labels = Math.min(n, 6);
    for (let k = 0; k < labels; k += 1) {
      const i = Math.round((k * (n - 1)) / Math.max(1, labels - 1));
      const text = svg('text', { x: L + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle' });
      text.textContent = fmtTime(start + i * step).slice(11, 16);
      chart.append(text);
    }
    section.append(chart);
    return section;
  }

  const columns = [
    ['name', 'Name'], ['email', 'Email'], ['status', 'Status'], ['firstSeen', 'First seen'], ['lastSeen', 'Last seen'], ['scanners', 'Scanners'],
  ];
  const statusBadge = { attended: 'badge-ok', 'no-show': 'badge', 'walk-in': 'badge-accent' };

  function visibleRows() {
    const q = state.query.toLowerCase();
    let rows = state.report.participants;
    if (state.filter !== 'all') rows = rows.filter((p) => p.status === state.filter);
    if (q) rows = rows.filter((p) => p.name.toLowerCase().includes(q) || p.email.toLowerCase().includes(q));
    const k = state.sort, dir = state.dir;
    return rows.slice().sort((a, b) => {
      const x = a[k], y = b[k];
      if (x === y) return 0;
      if (x === null || x === '') return 1;   // empty values last in both directions
      if (y === null || y === '') return -1;
      return (x < y ? -1 : 1) * dir;
    });
  }

  function timeCell(t) {
    return t === null ? el('td', { class: 'muted', text: '—' })
      : el('td', { class: 'nowrap' }, el('time', { datetime: new Date(t).toISOString(), text: fmtTime(t) }));
  }

  function renderTable() {
    const section = el('section', { class: 'card flush', 'aria-labelledby': 'people-h', id: 'participants' });
    const head = el('div', { class: 'card-head' }, el('h2', { id: 'people-h', text: 'Participants' }));
    const seg = el('div', { class: 'seg', role: 'group', 'aria-label': 'Filter by status' });
    for (const [value, label] of [['all', 'All'], ['attended', 'Attended'], ['no-show', 'No-shows'], ['walk-in', 'Walk-ins']]) {
      const b = el('button', { type: 'button', 'data-filter': value, 'aria-pressed': String(state.filter === value), text: label });
      b.addEventListener('click', () => { state.filter = value; state.page = 0; redraw(); });
      seg.append(b);
    }
    const search = el('input', { type: 'search', placeholder: 'Search name or email', 'aria-label': 'Search participants', value: state.query });
    search.addEventListener('input', () => { state.query = search.value; state.page = 0; redraw(false); });
    const toolbar = el('div', { class: 'toolbar' }, seg, el('span', { class: 'spacer' }), search);
    const wrap = el('div', { class: 'table-wrap' });
    const pager = el('div', { class: 'pager' });
    section.append(head, toolbar, wrap, pager);

    function redraw(all = true) {
      if (all) for (const b of seg.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.filter === state.filter));
      const rows = visibleRows();
      const pages = Math.max(1, Math.ceil(rows.length / PAGE));
      state.page = Math.min(state.page, pages - 1);
      const thead = el('tr');
      for (const [key, label] of columns) {
        const th = el('th', { scope: 'col', 'aria-sort': state.sort === key ? (state.dir > 0 ? 'ascending' : 'descending') : undefined });
        const btn = el('button', { class: 'sort', type: 'button', text: label });
        btn.addEventListener('click', () => {
          state.dir = state.sort === key ? -state.dir : 1;
          state.sort = key;
          redraw();
        });
        th.append(btn);
        thead.append(th);
      }
      const tbody = el('tbody');
      for (const p of rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
        tbody.append(el('tr', {},
          el('td', { text: p.name }), el('td', { text: p.email }),
          el('td', {}, el('span', { class: `badge ${statusBadge[p.status] || ''}`, text: p.status })),
          timeCell(p.firstSeen), timeCell(p.lastSeen),
          el('td', { text: p.scanners })));
      }
      const table = el('table', { id: 'participant-table' }, el('thead', {}, thead), tbody);
      wrap.replaceChildren(rows.length ? table : el('div', { class: 'empty', text: 'No participants match.' }));
      const prev = el('button', { class: 'btn btn-sm', type: 'button', text: '← Previous', disabled: state.page === 0 });
      const next = el('button', { class: 'btn btn-sm', type: 'button', text: 'Next →', disabled: state.page >= pages - 1 });
      prev.addEventListener('click', () => { state.page -= 1; redraw(false); });
      next.addEventListener('click', () => { state.page += 1; redraw(false); });
      const first = rows.length ? state.page * PAGE + 1 : 0;
      pager.replaceChildren(el('span', { id: 'page-info', text: `${nf.format(first)}–${nf.format(Math.min(rows.length, (state.page + 1) * PAGE))} of ${nf.format(rows.length)}` }),
        el('span', { class: 'row' }, prev, next));
    }
    redraw();
    return section;
  }

  fetchBtn.addEventListener('click', load);
  load();
})();
