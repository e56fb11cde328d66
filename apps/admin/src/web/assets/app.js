// attendance admin: progressive enhancement only. Every page works without this
// file (the report shows its totals and first page; sorting, filtering, search,
// paging and the chart need it). User data is inserted with textContent,
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
  // The browser's zone at that instant, as the locale abbreviates it: "CEST" in July and "CET" in
  // December for Europe/Berlin in en-GB ("GMT+2"/"GMT+1" in en-US), "UTC"; else the offset.
  const zoneOf = (ms) => {
    const d = new Date(ms);
    try {
      const part = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
      if (part && part.value) return part.value;
    } catch { /* the offset below */ }
    const off = -d.getTimezoneOffset();
    return `UTC${off < 0 ? '−' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  };
  // Every time on screen says its zone: 2026-11-24 09:05:12 CET.
  const fmtZoned = (ms) => (ms === null || ms === undefined ? '' : `${fmtTime(ms)} ${zoneOf(ms)}`);
  const fmtClock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const nf = new Intl.NumberFormat();

  // ---- confirmations, event times and copy buttons ------------------------
  // A typed local date becomes an instant with the UTC offset of that date (so
  // a summer date typed in winter gets the summer offset): the form sends it
  // as startsUtc/endsUtc. Without JavaScript the server takes the typed value
  // as UTC, and the labels say so.
  const utcOf = (local) => {
    if (!local) return '';
    const when = new Date(local);  // "YYYY-MM-DDTHH:MM" without a zone is local time
    return Number.isNaN(when.getTime()) ? '' : when.toISOString();
  };
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      return;
    }
    for (const hidden of form.querySelectorAll('input[type="hidden"][data-utc-for]')) {
      const input = document.getElementById(hidden.dataset.utcFor);
      hidden.value = input ? utcOf(input.value) : '';
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
    if (!Number.isNaN(when)) { t.title = t.textContent; t.textContent = `${fmtTime(when).slice(0, 16)} ${zoneOf(when)}`; }
  }
  for (const input of document.querySelectorAll('input[type="datetime-local"][data-utc]')) {
    const when = Date.parse(input.dataset.utc);
    if (!Number.isNaN(when)) input.value = toInputValue(new Date(when));
  }
  let zoneName = 'local time';
  try { zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone || zoneName; } catch { /* keep the fallback */ }
  for (const hint of document.querySelectorAll('[data-tz-name]')) hint.textContent = zoneName;

  // ---- the report -----------------------------------------------------------
  // The server keeps the built report and answers one page at a time
  // (GET /api/events/{id}/report?offset&limit&filter&q&sort&dir, docs/admin-web.md):
  // the page never downloads all participants. Each answer carries the totals,
  // the scanners and the arrival buckets too, so everything on screen comes from
  // one consistent report.
  const root = $('#report');
  if (!root) return;

  const PAGE = 50;
  const MAX_BARS = 36;
  // The server renders the first page in this order (#report data-sort/data-dir).
  const state = { filter: 'all', sort: root.dataset.sort || 'firstSeen', dir: root.dataset.dir || 'asc', offset: 0, q: '' };
  const fetchBtn = $('#fetch-report');
  const fetchedAt = $('#fetched-at');
  const body = $('#report-body');
  let seq = 0;         // number of the latest request; older answers are dropped
  let view = null;     // the synced report's elements, built once and then updated
  let debounce = null;
  let typing = false;  // a search is waiting for its debounce
  let stale = 0;       // answers dropped because a newer request was made (tests read it)
  const dropped = () => { stale += 1; root.dataset.stale = String(stale); };

  // The session ended: sign in, then come back to this page.
  const signInAgain = () => window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  const ms = (iso) => (iso === null || iso === undefined ? null : Date.parse(iso));

  function pageUrl() {
    const p = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE), filter: state.filter, sort: state.sort, dir: state.dir, buckets: String(MAX_BARS) });
    if (state.q) p.set('q', state.q);
    return `${root.dataset.reportUrl}?${p}`;
  }

  function setBusy(on) {
    for (const node of [root, view && view.section]) {
      if (!node) continue;
      if (on) node.setAttribute('aria-busy', 'true'); else node.removeAttribute('aria-busy');
    }
  }

  async function load({ manual = false } = {}) {
    const mine = ++seq;
    setBusy(true);
    if (manual) fetchBtn.disabled = true;
    try {
      const res = await fetch(pageUrl(), { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
      if (res.status === 401) { signInAgain(); return; }
      if (!res.ok) {
        let why = `HTTP ${res.status}`;
        try { const e = await res.json(); if (e && e.error) why = e.error; } catch { /* not JSON */ }
        throw new Error(why);
      }
      const data = await res.json();
      if (mine !== seq) { dropped(); return; }  // the controls changed meanwhile; the newer answer counts
      const total = data.page ? data.page.total : 0;
      const summary = data.summary || {};
      const hasData = data.synced || (summary.manualCheckIns ?? 0) + (summary.revoked ?? 0) > 0;
      if (hasData && state.offset > 0 && state.offset >= total) {
        // Rows went away since the last page was shown: go to the new last page.
        state.offset = total > 0 ? Math.floor((total - 1) / PAGE) * PAGE : 0;
        load({ manual });
        return;
      }
      render(data);
      fetchedAt.textContent = `Fetched at ${fmtClock(new Date())}`;
      fetchedAt.dataset.fetched = 'true';
      fetchedAt.classList.remove('error');
    } catch (err) {
      if (mine !== seq) { dropped(); return; }
      // What is on screen stays; the message says what went wrong.
      fetchedAt.textContent = `Could not fetch the report (${err.message}). Try again.`;
      fetchedAt.classList.add('error');
      if (!view && !$('#not-synced') && !$('#totals')) {
        body.replaceChildren(el('div', { class: 'card empty', id: 'report-error', text: 'The report could not be loaded. Use "Fetch Attendance Data" to try again.' }));
      }
    } finally {
      if (mine === seq) {
        if (!typing) setBusy(false);
        fetchBtn.disabled = false;
      }
    }
  }

  function stat(label, value, extra) {
    return el('div', { class: 'stat' }, el('div', { class: 'stat-label', text: label }),
      el('div', { class: `stat-value${extra ? ' ' + extra : ''}`, text: value }));
  }

  function render(d) {
    const t = d.summary || {};
    // Manual check-ins (door staff) are data too: the report shows them before any scanner synced.
    if (!d.synced && (t.manualCheckIns ?? 0) + (t.revoked ?? 0) === 0) {
      view = null;
      const registered = t.registered ?? 0;
      body.replaceChildren(el('div', { class: 'card not-synced', id: 'not-synced' },
        el('p', { class: 'big', text: 'Attendance data has not been synced.' }),
        el('p', { class: 'muted' }, el('strong', { id: 'registered-count', text: nf.format(registered) }),
          ` participant${registered === 1 ? ' is' : 's are'} registered. Run attendance-sync on the scanner after the event, then fetch the data here.`)));
      return;
    }
    if (!view) view = buildView();
    const rate = `${Math.round((t.attendanceRate ?? 0) * 1000) / 10}%`;
    view.totals.replaceChildren(
      stat('Registered', nf.format(t.registered ?? 0)), stat('Attended', nf.format(t.attended ?? 0), 'accent'),
      stat('No-shows', nf.format(t.noShows ?? 0)), stat('Walk-ins', nf.format(t.walkIns ?? 0)),
      stat('Unknown devices', nf.format(t.unknownDevices ?? 0)), stat('Attendance rate', rate));
    const chartKey = JSON.stringify(d.arrivals || null);
    if (chartKey !== view.chartKey) { view.chartKey = chartKey; renderChart(d.arrivals); }
    renderScanners(d.scanners || []);
    renderUnknownCount(t.unknownDevices ?? 0);
    renderTable(d);
  }

  // The server renders the totals, the last sync per scanner and the first page
  // of the table (so they show without JavaScript): those elements are taken
  // over as they are, and the chart and the table's controls are added.
  function buildView() {
    const v = {};
    v.totals = $('#totals', body) || el('div', { class: 'stats', id: 'totals' });
    v.chart = el('section', { class: 'card chart', 'aria-labelledby': 'chart-h' },
      el('div', { class: 'card-head' }, el('h2', { id: 'chart-h', text: 'Arrivals over time' })));
    v.chartBody = el('div', { class: 'chart-body' });
    v.chart.append(v.chartBody);
    const servedScanners = $('#scanner-table', body);
    v.scannerBody = servedScanners ? servedScanners.tBodies[0] : el('tbody');
    const scanners = servedScanners ? servedScanners.closest('section') : el('section', { class: 'card flush', 'aria-labelledby': 'scanners-h' },
      el('div', { class: 'card-head' }, el('h2', { id: 'scanners-h', text: 'Last sync per scanner' })),
      el('div', { class: 'table-wrap' }, el('table', { id: 'scanner-table' },
        el('thead', {}, el('tr', {}, el('th', { text: 'Scanner' }), el('th', { text: 'Last sync' }), el('th', { class: 'num', text: 'Records received' }),
          el('th', { class: 'num', text: 'Distinct' }), el('th', { class: 'num', text: 'Resent' }), el('th', { class: 'num', text: 'Refused' }))),
        v.scannerBody)),
      el('p', { class: 'card-note muted small', id: 'scanner-note', text: 'Distinct: the check-ins stored from this scanner, each once. '
        + 'Resent: records it had sent before (a retry, a restarted upload), stored once already. '
        + 'Refused: records refused as invalid (a clock that was not set, a time outside the event), never stored.' }));

    const served = $('#participants', body);
    v.section = served || el('section', { class: 'card flush', 'aria-labelledby': 'people-h', id: 'participants' });
    v.seg = el('div', { class: 'seg', role: 'group', 'aria-label': 'Filter by status' });
    for (const [value, label] of [['all', 'All'], ['attended', 'Attended'], ['no-show', 'No-shows'], ['walk-in', 'Walk-ins']]) {
      const b = el('button', { type: 'button', 'data-filter': value, 'aria-pressed': String(state.filter === value), text: label });
      b.addEventListener('click', () => {
        state.filter = value;
        state.offset = 0;
        for (const other of v.seg.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other.dataset.filter === value));
        load();
      });
      v.seg.append(b);
    }
    const search = el('input', { type: 'search', placeholder: 'Search name or email', 'aria-label': 'Search participants', maxlength: 50, value: state.q });
    search.addEventListener('input', () => {
      typing = true;
      setBusy(true);
      clearTimeout(debounce);
      debounce = setTimeout(() => { typing = false; state.q = search.value; state.offset = 0; load(); }, 200);
    });
    const toolbar = el('div', { class: 'toolbar' }, v.seg, el('span', { class: 'spacer' }), search);
    v.wrap = (served && $('.table-wrap', served)) || el('div', { class: 'table-wrap' });
    v.pager = (served && $('.pager', served)) || el('div', { class: 'pager' });
    if (served) v.wrap.before(toolbar);
    else v.section.append(el('div', { class: 'card-head' }, el('h2', { id: 'people-h', text: 'Participants' })), toolbar, v.wrap, v.pager);
    // The tabs (participants, unknown devices) and the unknown devices' list come
    // from the server; the tabs switch here without a reload.
    v.tabs = $('#report-tabs', body);
    v.unknown = $('#unknown-devices', body);
    v.unknownShown = Number(($('#unknown-count', body) || {}).textContent?.replace(/\D/g, '') || 0);
    if (v.tabs && v.unknown) {
      const panels = { participants: v.section, 'unknown-devices': v.unknown };
      v.tabs.addEventListener('click', (e) => {
        const a = e.target instanceof Element ? e.target.closest('a[data-tab]') : null;
        if (!a) return;
        e.preventDefault();
        for (const other of v.tabs.querySelectorAll('a[data-tab]')) {
          if (other === a) other.setAttribute('aria-current', 'true'); else other.removeAttribute('aria-current');
          panels[other.dataset.tab].hidden = other !== a;
        }
        const url = new URL(location.href);
        if (a.dataset.tab === 'unknown-devices') url.searchParams.set('tab', 'unknown-devices'); else url.searchParams.delete('tab');
        url.hash = '';
        history.replaceState(null, '', url);
      });
    }
    // Served elements are moved into place, not rebuilt.
    body.replaceChildren(...[v.totals, v.chart, scanners, v.tabs, v.section, v.unknown].filter(Boolean));
    return v;
  }

  // The unknown devices' count in their tab follows the report; the list is the
  // server's as of the page load, and says so once more were seen.
  function renderUnknownCount(n) {
    const badge = $('#unknown-count', body);
    if (!badge || !view.unknown) return;
    badge.textContent = nf.format(n);
    let note = $('#unknown-stale', view.unknown);
    if (n === view.unknownShown) { note?.remove(); return; }
    if (!note) {
      note = el('p', { class: 'alert alert-warn', id: 'unknown-stale', role: 'status' });
      view.unknown.querySelector('.card-head').after(note);
    }
    note.textContent = `${nf.format(n)} unknown devices now; this list shows the ${nf.format(view.unknownShown)} of when the page was loaded. Reload the page to list them all.`;
  }

  function renderScanners(list) {
    view.scannerBody.replaceChildren(...list.map((s) => {
      const last = ms(s.lastSyncAt);
      return el('tr', {}, el('td', {}, el('code', { text: s.scannerId })),
        el('td', {}, el('time', { datetime: last ? new Date(last).toISOString() : undefined, text: fmtZoned(last) || 'never' })),
        el('td', { class: 'num', text: nf.format(s.recordsReceived ?? 0) }),
        // Stored rows are distinct; the receipts counted what was resent and what was refused.
        el('td', { class: 'num', text: nf.format(s.recordsStored ?? 0) }),
        el('td', { class: 'num', text: nf.format(s.recordsResent ?? 0) }),
        el('td', { class: 'num', text: nf.format(s.recordsRefused ?? 0) }));
    }));
  }

  // Arrivals over time: the server's buckets (first check-ins of attendees and
  // walk-ins), neighbours merged so there are at most 36 bars, and a line of the
  // running total (arrived so far) on its own axis at the right. The legend
  // under the chart names the bars' width and the line's total.
  function renderChart(arrivals) {
    const buckets = (arrivals && arrivals.buckets) || [];
    const width = ((arrivals && arrivals.bucketMinutes) || 15) * 60e3;
    const target = view.chartBody;
    if (buckets.length === 0) { target.replaceChildren(el('p', { class: 'muted', text: 'Nobody was seen.' })); return; }
    const per = Math.ceil(buckets.length / MAX_BARS);
    const step = width * per;
    const start = ms(buckets[0].start);
    const counts = [];
    buckets.forEach((b, i) => { counts[Math.floor(i / per)] = (counts[Math.floor(i / per)] || 0) + (b.arrivals || 0); });
    const n = counts.length;
    const max = Math.max(...counts);
    const cumulative = [];
    counts.reduce((sum, c, i) => (cumulative[i] = sum + c), 0);
    const total = cumulative[n - 1];
    const label = (t) => (step >= 86400e3 ? fmtTime(t).slice(5, 10) : fmtTime(t).slice(11, 16));
    const W = 720, H = 200, L = 36, R = 40, B = 24, T = 8;
    const bw = (W - L - R) / n;
    const minutes = step / 60e3;
    const plural = (k, word) => `${k} ${word}${k === 1 ? '' : 's'}`;
    const unit = minutes % 1440 === 0 ? plural(minutes / 1440, 'day') : minutes % 60 === 0 ? plural(minutes / 60, 'hour') : `${minutes} min`;
    const zone = zoneOf(start);
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Arrivals per ${unit} (times in ${zone}), peak ${max}; ${total} arrived in all` });
    chart.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }));
    const yOf = (frac) => H - B - frac * (H - B - T);
    for (const frac of max >= 2 ? [0.5, 1] : [1]) {
      const y = yOf(frac);
      chart.append(svg('line', { class: 'axis', x1: L, y1: y, x2: W - R, y2: y, 'stroke-dasharray': '3 4' }));
      const text = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' });
      text.textContent = String(Math.round(max * frac));
      chart.append(text);
    }
    // The right axis: the running total, 0 to everyone who arrived.
    for (const frac of total >= 2 ? [0.5, 1] : [1]) {
      const text = svg('text', { class: 'cumulative-axis', x: W - R + 6, y: yOf(frac) + 4, 'text-anchor': 'start' });
      text.textContent = String(Math.round(total * frac));
      chart.append(text);
    }
    counts.forEach((c, i) => {
      const h = max ? (c / max) * (H - B - T) : 0;
      const w = Math.max(1, Math.min(bw - 2, 28));
      const rect = svg('rect', { class: 'bar', x: L + i * bw + (bw - w) / 2, y: H - B - h, width: w, height: h, rx: 2 });
      const title = svg('title');
      title.textContent = `${label(start + i * step)}: ${nf.format(c)} arrival${c === 1 ? '' : 's'}, ${nf.format(cumulative[i])} so far`;
      rect.append(title);
      chart.append(rect);
    });
    // Each point is the total at the end of its bar's interval, from 0 at the start of the first.
    const points = [[L, yOf(0)], ...cumulative.map((c, i) => [L + (i + 1) * bw, yOf(total ? c / total : 0)])];
    chart.append(svg('polyline', { class: 'cumulative', points: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '), 'data-totals': cumulative.join(',') }));
    const labels = Math.min(n, 6);
    for (let k = 0; k < labels; k += 1) {
      const i = Math.round((k * (n - 1)) / Math.max(1, labels - 1));
      const text = svg('text', { x: L + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle' });
      text.textContent = label(start + i * step);
      chart.append(text);
    }
    const legend = el('p', { class: 'chart-legend small', id: 'chart-legend' },
      el('span', { class: 'key' }, el('span', { class: 'swatch swatch-bar', 'aria-hidden': 'true' }), el('span', { id: 'chart-unit', text: `Arrivals per ${unit}` }), ' (left axis)'),
      el('span', { class: 'key' }, el('span', { class: 'swatch swatch-line', 'aria-hidden': 'true' }), el('span', { id: 'chart-total', text: `Arrived so far, ${nf.format(total)} in all` }), ' (right axis)'));
    target.replaceChildren(chart, legend, el('p', { class: 'muted small', id: 'chart-zone', text: `Times in ${zone}.` }));
  }

  const columns = [
    ['name', 'Name'], ['email', 'Email'], ['status', 'Status'], ['firstSeen', 'First seen'], ['lastSeen', 'Last seen'], ['scanners', 'Scanners'],
  ];
  const statusBadge = { attended: 'badge-ok', 'no-show': 'badge', 'walk-in': 'badge-accent' };

  // A row door staff decided (source "manual"), as the server renders it: "manual" or "revoked".
  function manualBadge(p) {
    if (p.source !== 'manual') return [];
    const revoked = p.status === 'no-show';
    const at = ms(p.manualAt);
    return [' ', el('span', {
      class: 'badge badge-warn', 'data-source': 'manual', text: revoked ? 'revoked' : 'manual',
      title: `${revoked ? 'Revoked' : 'Checked in by hand'}${at === null ? '' : ` at ${fmtZoned(at)}`}`,
    })];
  }

  function timeCell(iso) {
    const t = ms(iso);
    return t === null ? el('td', { class: 'muted', text: '—' })
      : el('td', { class: 'nowrap' }, el('time', { datetime: new Date(t).toISOString(), text: fmtZoned(t) }));
  }

  function renderTable(d) {
    const rows = d.participants || [];
    const total = d.page ? d.page.total : rows.length;
    const offset = d.page ? d.page.offset : 0;
    const thead = el('tr');
    for (const [key, label] of columns) {
      const th = el('th', { scope: 'col', 'aria-sort': state.sort === key ? (state.dir === 'asc' ? 'ascending' : 'descending') : undefined });
      const btn = el('button', { class: 'sort', type: 'button', text: label });
      btn.addEventListener('click', () => {
        state.dir = state.sort === key && state.dir === 'asc' ? 'desc' : 'asc';
        state.sort = key;
        state.offset = 0;
        load();
      });
      th.append(btn);
      thead.append(th);
    }
    const tbody = el('tbody');
    for (const p of rows) {
      tbody.append(el('tr', {},
        el('td', { text: p.name ?? '' }), el('td', { text: p.email ?? '' }),
        el('td', {}, el('span', { class: `badge ${statusBadge[p.status] || ''}`, text: p.status ?? '' }), ...manualBadge(p)),
        timeCell(p.firstSeen), timeCell(p.lastSeen),
        el('td', { text: (p.scanners || []).join(', ') })));
    }
    const table = el('table', { id: 'participant-table', 'data-total': total, 'data-offset': offset }, el('thead', {}, thead), tbody);
    view.wrap.replaceChildren(rows.length ? table : el('div', { class: 'empty', id: 'no-match', text: 'No participants match.' }));
    const prev = el('button', { class: 'btn btn-sm', type: 'button', 'data-page': 'previous', text: '← Previous', disabled: offset === 0 });
    const next = el('button', { class: 'btn btn-sm', type: 'button', 'data-page': 'next', text: 'Next →', disabled: offset + rows.length >= total });
    prev.addEventListener('click', () => { state.offset = Math.max(0, offset - PAGE); load(); });
    next.addEventListener('click', () => { state.offset = offset + PAGE; load(); });
    const first = rows.length ? offset + 1 : 0;
    view.pager.replaceChildren(el('span', { id: 'page-info', text: `${nf.format(first)}–${nf.format(offset + rows.length)} of ${nf.format(total)}` }),
      el('span', { class: 'row' }, prev, next));
  }

  // Live uploads (attendance-sync --follow): the server renders each scanner's last upload;
  // this keeps it current from /api/events/{id}/live (one data-version query) and fetches the
  // report again when its version moved. Every refreshSeconds while a scanner is live, three times
  // as long otherwise (so a follower that starts later is noticed), never while the tab is hidden.
  const liveList = $('#live-scanners');
  let liveVersion = null;
  let liveTimer = null;
  function renderLive(d) {
    root.dataset.live = String(d.live);
    liveList.replaceChildren(...(d.scanners || []).map((s) => el('li', { 'data-scanner': s.scannerId, 'data-live': String(s.live) },
      el('code', { text: s.scannerId }), ' ', el('span', { class: `live-text${s.live ? ' live' : ''}`, text: s.text }))));
  }
  async function pollLive() {
    liveTimer = null;
    let next = 15;
    if (!document.hidden) {
      try {
        const res = await fetch(root.dataset.liveUrl, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
        if (res.status === 401) { signInAgain(); return; }
        if (res.ok) {
          const d = await res.json();
          renderLive(d);
          if (liveVersion !== null && d.version !== liveVersion) load();
          liveVersion = d.version;
          next = d.live ? d.refreshSeconds : 3 * d.refreshSeconds;
        }
      } catch { /* the next poll tries again; the report on screen stays */ }
    }
    liveTimer = setTimeout(pollLive, next * 1000);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && liveTimer !== null) { clearTimeout(liveTimer); pollLive(); }
  });

  fetchBtn.addEventListener('click', () => load({ manual: true }));
  load({ manual: true });
  if (liveList && root.dataset.liveUrl) pollLive();
})();
