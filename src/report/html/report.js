
// promptdrift HTML report. Reads the JSON in #report-data (built by src/report/html.rs) and
// builds the page. Every string from the data is untrusted (model output, provider messages,
// labels): it only ever reaches the page as a text node or textContent, never as markup.
//
// Data: { kind, tool, run, complete, summary, verdict: {status, headline},
//   suites: [{name, path, description?}],
//   providers: [{label, ids, models, passed, failed, errors, latency_p50, latency_p95,
//                cost_usd, tokens_in, tokens_out}],            (the grid's columns)
//   tags: [string], rows: [{suite, id, description?, tags?, cells: [[p, f, e] | null], results: [i]}],
//   results: [CaseResult fields + column, rendered (index into prompts)], prompts: [{system?, messages}],
//   metrics: [{provider, metric, count, passed, mean}] }
(function () {
  'use strict';

  var PAGE_SIZE = 100;
  var MAX_DIFF_EDITS = 2000;
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var app = document.getElementById('app');
  var state = { status: 'all', changed: false, tag: '', provider: -1, q: '', page: 0 };
  var searchText = null; // lowercase text per row, built on the first search
  var filtered = [];
  var detailEl = null;
  var overlayEl = null;

  // ---- DOM helpers (text only) ----------------------------------------------------------

  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, String(v)); // fixed attribute names only; values are plain text
      });
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }

  function add(el, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(el, k); }); return; }
    el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '–';
    return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(2) + ' s';
  }

  function fmtCost(c) {
    if (c === null || c === undefined) return '–';
    return '$' + (c >= 0.01 ? c.toFixed(4) : c.toPrecision(3));
  }

  function fmtInt(n) { return (n === null || n === undefined) ? '–' : Number(n).toLocaleString('en-US'); }

  // ---- cells ------------------------------------------------------------------------------

  // [passed, failed, errors] -> {cls, text}
  function cellView(c) {
    if (!c) return { cls: 'none', text: 'n/a', title: 'this provider is not in the case\'s suite' };
    var total = c[0] + c[1] + c[2];
    if (total === 0) return { cls: 'none', text: '–', title: 'no result (unfinished)' };
    var word = c[2] > 0 ? 'ERROR' : c[1] > 0 ? 'FAIL' : 'PASS';
    var cls = c[2] > 0 ? 'error' : c[1] > 0 ? 'fail' : 'pass';
    var text = total === 1 ? word : word + ' ' + c[0] + '/' + total;
    var title = c[0] + ' passed, ' + c[1] + ' failed, ' + c[2] + ' errors';
    return { cls: cls, text: text, title: title };
  }

  function cellStatus(c) {
    if (!c || c[0] + c[1] + c[2] === 0) return null;
    return c[2] > 0 ? 'error' : c[1] > 0 ? 'fail' : 'pass';
  }

  function visibleColumns() {
    if (state.provider >= 0) return [state.provider];
    return D.providers.map(function (_, i) { return i; });
  }

  // ---- filtering ----------------------------------------------------------------------------

  function buildSearchText() {
    searchText = D.rows.map(function (row) {
      var parts = [row.id, row.description || '', (row.tags || []).join(' '), D.suites[row.suite].name];
      row.results.forEach(function (i) {
        var r = D.results[i];
        if (r.output) parts.push(r.output);
        if (r.error && r.error.message) parts.push(r.error.message);
      });
      return parts.join('\n').toLowerCase();
    });
  }

  function matches(row, ri, cols) {
    var cells = cols.map(function (c) { return row.cells[c]; });
    var statuses = cells.map(cellStatus).filter(function (s) { return s !== null; });
    if (state.status === 'failed' && !cells.some(function (c) { return c && c[1] > 0; })) return false;
    if (state.status === 'errors' && !cells.some(function (c) { return c && c[2] > 0; })) return false;
    if (state.status === 'passed' && (statuses.length === 0 || statuses.some(function (s) { return s !== 'pass'; }))) return false;
    if (state.changed) {
      // Changed: the providers disagree on this case (or a case repeated with mixed outcomes).
      var mixed = cells.some(function (c) { return c && (c[0] > 0) + (c[1] > 0) + (c[2] > 0) > 1; });
      var differ = statuses.some(function (s) { return s !== statuses[0]; });
      if (!mixed && !differ) return false;
    }
    if (state.tag && (row.tags || []).indexOf(state.tag) < 0) return false;
    if (state.q) {
      if (searchText === null) buildSearchText();
      if (searchText[ri].indexOf(state.q) < 0) return false;
    }
    return true;
  }

  function applyFilters() {
    var cols = visibleColumns();
    filtered = [];
    for (var i = 0; i < D.rows.length; i++) if (matches(D.rows[i], i, cols)) filtered.push(i);
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    if (state.page >= pages) state.page = pages - 1;
    renderGrid();
  }

  // ---- page -------------------------------------------------------------------------------

  var gridHost, pagerHost, shownEl;

  function render() {
    document.title = 'promptdrift report: ' + D.suites.map(function (s) { return s.name; }).join(', ');
    add(app, header());
    add(app, h('h2', { text: 'Providers' }));
    add(app, providerTable());
    if (D.metrics && D.metrics.length) {
      add(app, h('h2', { text: 'Metrics' }));
      add(app, metricsTable());
    }
    add(app, toolbar());
    gridHost = h('div', { id: 'grid-host' });
    pagerHost = h('div', { class: 'pager', id: 'pager' });
    add(app, [gridHost, pagerHost]);
    add(app, h('footer', null,
      'Generated by ' + D.tool + ' · results schema v1 · mode ' + D.run.mode +
      ' · started ' + D.run.started_at + (D.run.shard ? ' · shard ' + D.run.shard : '') +
      ' · ' + plural(D.results.length, 'result') + ' in ' + plural(D.rows.length, 'case')));
    applyFilters();
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeDetail(); });
  }

  function header() {
    var s = D.summary;
    var word = { passed: 'Pass', failed: 'Fail', errors: 'Errors', incomplete: 'Incomplete' }[D.verdict.status];
    var card = function (cls, n, label) {
      return h('div', { class: 'card ' + cls }, h('div', { class: 'n', 'data-count': cls, text: n }), h('div', { class: 'l', text: label }));
    };
    var suites = D.suites.map(function (x) { return x.name; }).join(', ');
    return h('section', { id: 'summary' },
      h('header', { class: 'top' }, h('h1', { text: 'promptdrift report' }),
        h('span', { class: 'meta', text: suites + ' · ' + D.run.mode + ' · ' + D.run.started_at })),
      h('div', { class: 'verdict ' + D.verdict.status, id: 'verdict', 'data-status': D.verdict.status },
        h('span', { class: 'word', text: word }), h('span', { text: D.verdict.headline })),
      h('div', { class: 'cards' },
        card('total', s.total, 'results'), card('passed', s.passed, 'passed'),
        card('failed', s.failed, 'failed'), card('errors', s.errors, 'errors'),
        s.unfinished > 0 ? card('unfinished', s.unfinished, 'unfinished') : null,
        card('cases', D.rows.length, 'cases'),
        card('duration', fmtMs(s.duration_ms), 'wall time')));
  }

  function providerTable() {
    var body = D.providers.map(function (p, i) {
      var answered = p.passed + p.failed + p.errors;
      var rate = answered ? p.passed / answered : 0;
      var fill = h('span');
      fill.style.width = (rate * 100).toFixed(1) + '%';
      return h('tr', { 'data-provider': i },
        h('td', null, h('strong', { text: p.label }), h('div', { class: 'pid', text: p.ids.join(', ') })),
        h('td', { class: 'mono', text: p.models.join(', ') || '–' }),
        h('td', null, h('span', { class: 'bar' }, fill), answered ? (rate * 100).toFixed(1) + '%' : '–'),
        h('td', { class: 'num' }, h('span', { class: 'counts' },
          h('span', { class: 'p', text: p.passed + ' passed' }), ' · ',
          h('span', { class: 'f', text: p.failed + ' failed' }), ' · ',
          h('span', { class: 'e', text: plural(p.errors, 'error') }))),
        h('td', { class: 'num', text: fmtMs(p.latency_p50) }),
        h('td', { class: 'num', text: fmtMs(p.latency_p95) }),
        h('td', { class: 'num', text: fmtInt(p.tokens_in) + ' / ' + fmtInt(p.tokens_out) }),
        h('td', { class: 'num', text: fmtCost(p.cost_usd) }));
    });
    return h('table', { class: 'providers' },
      h('thead', null, h('tr', null,
        ['provider', 'model', 'pass rate', 'results', 'p50 latency', 'p95 latency', 'tokens in / out', 'cost'].map(function (t, i) {
          return h('th', { class: i >= 3 ? 'num' : null, text: t });
        }))),
      h('tbody', null, body));
  }

  function metricsTable() {
    return h('table', { class: 'providers', id: 'metrics' },
      h('thead', null, h('tr', null, ['metric', 'provider', 'mean score', 'passed'].map(function (t, i) {
        return h('th', { class: i >= 2 ? 'num' : null, text: t });
      }))),
      h('tbody', null, D.metrics.map(function (m) {
        return h('tr', null, h('td', { class: 'mono', text: m.metric }), h('td', { text: m.provider }),
          h('td', { class: 'num', text: m.mean.toFixed(3) }), h('td', { class: 'num', text: m.passed + ' of ' + m.count }));
      })));
  }

  function toolbar() {
    var seg = h('div', { class: 'seg', role: 'group', 'aria-label': 'status filter' });
    [['all', 'All'], ['failed', 'Failed'], ['errors', 'Errors'], ['passed', 'Passed']].forEach(function (b) {
      add(seg, h('button', {
        type: 'button', 'data-filter': b[0], 'aria-pressed': state.status === b[0] ? 'true' : 'false', text: b[1],
        onclick: function () {
          state.status = b[0];
          state.page = 0;
          Array.prototype.forEach.call(seg.children, function (x) { x.setAttribute('aria-pressed', x === this ? 'true' : 'false'); }, this);
          applyFilters();
        }
      }));
    });
    var changed = h('input', { type: 'checkbox', id: 'f-changed', onchange: function () { state.changed = changed.checked; state.page = 0; applyFilters(); } });
    var tag = h('select', { id: 'f-tag', onchange: function () { state.tag = tag.value; state.page = 0; applyFilters(); } },
      h('option', { value: '', text: 'any tag' }),
      D.tags.map(function (t) { return h('option', { value: t, text: t }); }));
    var prov = h('select', { id: 'f-provider', onchange: function () { state.provider = Number(prov.value); state.page = 0; applyFilters(); } },
      h('option', { value: '-1', text: 'every provider' }),
      D.providers.map(function (p, i) { return h('option', { value: String(i), text: p.label }); }));
    var timer = null;
    var q = h('input', {
      type: 'search', id: 'f-search', placeholder: 'Search case ids, descriptions, outputs, errors…',
      oninput: function () {
        clearTimeout(timer);
        timer = setTimeout(function () { state.q = q.value.trim().toLowerCase(); state.page = 0; applyFilters(); }, 120);
      }
    });
    shownEl = h('span', { class: 'shown', id: 'shown' });
    return h('div', { class: 'toolbar' }, seg,
      h('label', { title: 'cases whose outcome differs between providers, or between repeats' }, changed, 'Changed'),
      h('label', null, 'Tag', tag), h('label', null, 'Provider', prov), q, shownEl);
  }

  function renderGrid() {
    var cols = visibleColumns();
    var start = state.page * PAGE_SIZE;
    var pageRows = filtered.slice(start, start + PAGE_SIZE);
    shownEl.textContent = filtered.length === D.rows.length
      ? plural(D.rows.length, 'case')
      : filtered.length + ' of ' + plural(D.rows.length, 'case');
    shownEl.setAttribute('data-shown', String(filtered.length));
    var multiSuite = D.suites.length > 1;
    var head = h('tr', null, h('th', { text: 'case' }), cols.map(function (c) {
      var p = D.providers[c];
      return h('th', { 'data-col': c }, p.label, h('span', { class: 'counts' },
        h('span', { class: 'p', text: p.passed + '✓' }), ' ', h('span', { class: 'f', text: p.failed + '✗' }), ' ',
        h('span', { class: 'e', text: p.errors + '!' })));
    }));
    var body = pageRows.map(function (ri) {
      var row = D.rows[ri];
      var tr = h('tr', {
        class: 'row', tabindex: '0', 'data-row': ri,
        onclick: function () { openDetail(ri); },
        onkeydown: function (e) { if (e.key === 'Enter') openDetail(ri); }
      },
      h('td', { class: 'case' },
        multiSuite ? h('span', { class: 'suite', text: D.suites[row.suite].name }) : null,
        h('span', { class: 'id', text: row.id }),
        row.description ? h('div', { class: 'desc', text: row.description }) : null,
        (row.tags || []).map(function (t) { return h('span', { class: 'tag', text: t }); })),
      cols.map(function (c) {
        var v = cellView(row.cells[c]);
        return h('td', { class: 'cell', 'data-status': v.cls }, h('span', { class: 'badge ' + v.cls, title: v.title, text: v.text }));
      }));
      return tr;
    });
    clear(gridHost);
    if (pageRows.length === 0) {
      add(gridHost, h('div', { class: 'empty', text: 'No case matches these filters.' }));
    } else {
      add(gridHost, h('table', { class: 'grid', id: 'grid' }, h('thead', null, head), h('tbody', null, body)));
    }
    renderPager();
  }

  function renderPager() {
    clear(pagerHost);
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    if (pages === 1) return;
    var go = function (p) { state.page = p; renderGrid(); window.scrollTo(0, gridHost.offsetTop - 20); };
    add(pagerHost, [
      h('button', { type: 'button', id: 'prev', text: '‹ Previous', disabled: state.page === 0 ? 'disabled' : null, onclick: function () { go(state.page - 1); } }),
      h('span', { id: 'page', text: 'page ' + (state.page + 1) + ' of ' + pages }),
      h('button', { type: 'button', id: 'next', text: 'Next ›', disabled: state.page >= pages - 1 ? 'disabled' : null, onclick: function () { go(state.page + 1); } })
    ]);
  }

  // ---- the case view ------------------------------------------------------------------------

  function closeDetail() {
    if (detailEl) { detailEl.remove(); overlayEl.remove(); detailEl = overlayEl = null; }
  }

  function openDetail(ri) {
    closeDetail();
    var row = D.rows[ri];
    // Variants: one per (prompt, sample); each has one result per provider column.
    var variants = [];
    var byKey = {};
    row.results.forEach(function (i) {
      var r = D.results[i];
      var key = r.prompt + '\u0000' + r.sample;
      if (!(key in byKey)) { byKey[key] = variants.length; variants.push({ prompt: r.prompt, sample: r.sample, byCol: {} }); }
      variants[byKey[key]].byCol[r.column] = r;
    });
    var cols = [];
    row.cells.forEach(function (c, i) { if (c) cols.push(i); });
    var vi = 0;
    for (var k = 0; k < variants.length; k++) {
      var bad = Object.keys(variants[k].byCol).some(function (c) { return variants[k].byCol[c].status !== 'passed'; });
      if (bad) { vi = k; break; }
    }
    var ref = state.provider >= 0 && cols.indexOf(state.provider) >= 0 ? state.provider : cols[0];

    overlayEl = h('div', { class: 'overlay', onclick: closeDetail });
    detailEl = h('section', { class: 'detail', id: 'detail', role: 'dialog', 'aria-modal': 'true', 'data-row': ri });
    var body = h('div');
    var draw = function () {
      clear(body);
      var v = variants[vi];
      add(body, variantView(v, cols, ref));
    };
    var controls = h('div', { class: 'controls' });
    if (variants.length > 1) {
      var vs = h('select', { id: 'variant', onchange: function () { vi = Number(vs.value); draw(); } },
        variants.map(function (v, i) {
          return h('option', { value: String(i), selected: i === vi ? 'selected' : null, text: v.prompt + (v.sample ? ' · sample ' + (v.sample + 1) : '') });
        }));
      add(controls, h('label', null, 'Prompt / sample ', vs));
    }
    if (cols.length > 1) {
      var rs = h('select', { id: 'reference', onchange: function () { ref = Number(rs.value); draw(); } },
        cols.map(function (c) { return h('option', { value: String(c), selected: c === ref ? 'selected' : null, text: D.providers[c].label }); }));
      add(controls, h('label', null, 'Word diff against ', rs));
    }
    add(detailEl, [
      h('div', { class: 'head' },
        h('div', { class: 'grow' },
          h('h2', { text: row.id }),
          h('div', { class: 'muted', text: 'suite ' + D.suites[row.suite].name + (row.description ? ' · ' + row.description : '') }),
          (row.tags || []).map(function (t) { return h('span', { class: 'tag', text: t }); })),
        h('button', { type: 'button', id: 'close', text: 'Close', onclick: closeDetail })),
      controls, body
    ]);
    draw();
    document.body.appendChild(overlayEl);
    document.body.appendChild(detailEl);
    detailEl.querySelector('#close').focus();
  }

  function variantView(v, cols, ref) {
    var any = null;
    cols.forEach(function (c) { if (!any && v.byCol[c]) any = v.byCol[c]; });
    var prompt = any ? D.prompts[any.rendered] : null;
    var refResult = v.byCol[ref];
    var refTokens = refResult && refResult.output !== undefined ? tokens(refResult.output || '') : null;
    return [
      prompt ? promptView(prompt) : null,
      h('div', { class: 'sides' }, cols.map(function (c) {
        return sideView(c, v.byCol[c], c === ref ? null : refTokens, D.providers[ref].label);
      }))
    ];
  }

  function promptView(p) {
    var msgs = [];
    if (p.system) msgs.push({ role: 'system', content: p.system });
    (p.messages || []).forEach(function (m) { msgs.push(m); });
    return h('details', { class: 'prompt' }, h('summary', { text: 'Prompt as sent (' + plural(msgs.length, 'message') + ')' }),
      msgs.map(function (m) {
        return h('div', { class: 'msg' }, h('div', { class: 'role', text: m.role }),
          h('pre', { text: typeof m.content === 'string' ? m.content : JSON.stringify(m.content, null, 2) }));
      }));
  }

  function sideView(col, r, refTokens, refLabel) {
    var p = D.providers[col];
    if (!r) {
      return h('div', { class: 'side none', 'data-col': col },
        h('div', { class: 'title' }, h('h3', { text: p.label }), h('span', { class: 'badge none', text: 'no result' })),
        h('div', { class: 'note', text: 'This provider has no result for this prompt and sample (the run was interrupted, filtered or sharded).' }));
    }
    var cls = r.status === 'passed' ? 'pass' : r.status === 'failed' ? 'fail' : 'error';
    var word = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'ERROR';
    var u = r.usage || {};
    var metric = function (k, val) { return [h('dt', { text: k }), h('dd', { text: val })]; };
    var out = h('pre', { class: 'output', 'data-col': col });
    var note = null;
    if (r.output === undefined || r.output === null) {
      out = null;
    } else if (refTokens === null) {
      out.textContent = r.output;
    } else {
      var ops = diffTokens(refTokens, tokens(r.output));
      if (ops === null) {
        out.textContent = r.output;
        note = 'Too different from ' + refLabel + ' for a word diff.';
      } else {
        var changed = false;
        ops.forEach(function (op) {
          if (op[0] === '=') add(out, op[1]);
          else { changed = true; add(out, h(op[0] === '+' ? 'ins' : 'del', { text: op[1] })); }
        });
        note = changed
          ? ['Word diff against ' + refLabel + ': ', h('ins', { text: 'added' }), ' ', h('del', { text: 'removed' })]
          : 'Same text as ' + refLabel + '.';
      }
    }
    return h('div', { class: 'side ' + cls, 'data-col': col, 'data-status': r.status },
      h('div', { class: 'title' }, h('h3', { text: p.label }), h('span', { class: 'badge ' + cls, text: word + (r.assertions && r.assertions.length ? ' ' + Math.round(r.score * 100) + '%' : '') })),
      h('div', { class: 'pid', text: r.provider_id + (r.model ? ' → ' + r.model : '') }),
      h('dl', { class: 'metrics' },
        metric('latency', fmtMs(r.latency_ms)),
        metric('tokens', fmtInt(u.input) + ' in · ' + fmtInt(u.output) + ' out' + (u.reasoning ? ' · ' + fmtInt(u.reasoning) + ' reasoning' : '') + (u.cached_input ? ' · ' + fmtInt(u.cached_input) + ' cached' : '')),
        metric('cost', fmtCost(r.cost_usd)),
        metric('finish', (r.finish_reason || '–') + (r.finish_raw && r.finish_raw !== r.finish_reason ? ' (' + r.finish_raw + ')' : '')),
        metric('source', (r.source || '–') + (r.attempts > 1 ? ' · ' + r.attempts + ' attempts' : ''))),
      r.error ? h('div', { class: 'errbox' }, h('strong', { text: r.error.class }),
        r.error.status ? ' HTTP ' + r.error.status : '', r.error.code ? ' ' + r.error.code : '', ': ', r.error.message) : null,
      note ? h('div', { class: 'note' }, note) : null,
      out,
      assertionList(r.assertions || []));
  }

  function assertionList(list) {
    if (list.length === 0) return null;
    return h('ul', { class: 'asserts' }, list.map(function (a) {
      var val = a.value === undefined ? '' : typeof a.value === 'string' ? a.value : JSON.stringify(a.value);
      return h('li', { class: a.pass ? 'ok' : 'bad', 'data-pass': a.pass ? 'true' : 'false' },
        h('span', { class: 'mark', text: a.pass ? '✓' : '✗' }),
        h('div', null,
          h('span', { class: 'atype', text: a.type }),
          a.metric ? h('span', { class: 'muted', text: ' [' + a.metric + ']' }) : null,
          a.weight !== undefined && a.weight !== 1 ? h('span', { class: 'muted', text: ' weight ' + a.weight }) : null,
          a.score !== undefined && a.score !== 0 && a.score !== 1 ? h('span', { class: 'muted', text: ' score ' + a.score.toFixed(3) }) : null,
          val ? h('div', { class: 'aval', text: val.length > 300 ? val.slice(0, 300) + '…' : val }) : null,
          h('div', { class: 'reason', text: a.reason })));
    }));
  }

  // ---- word diff ----------------------------------------------------------------------------

  function tokens(text) {
    return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || [];
  }

  // Myers' O(ND) diff over tokens; returns [[op, text]] runs (op '=', '-' (only in a), '+'
  // (only in b)), or null when more than MAX_DIFF_EDITS edits would be needed.
  function diffTokens(a, b) {
    var pre = 0;
    while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
    var suf = 0;
    while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
    var A = a.slice(pre, a.length - suf), B = b.slice(pre, b.length - suf);
    var N = A.length, M = B.length, max = N + M;
    var off = max + 1;
    var V = new Int32Array(2 * max + 3);
    var trace = [];
    var found = max === 0;
    for (var d = 0; !found && d <= max; d++) {
      if (d > MAX_DIFF_EDITS) return null;
      for (var k = -d; k <= d; k += 2) {
        var x = (k === -d || (k !== d && V[off + k - 1] < V[off + k + 1])) ? V[off + k + 1] : V[off + k - 1] + 1;
        var y = x - k;
        while (x < N && y < M && A[x] === B[y]) { x++; y++; }
        V[off + k] = x;
        if (x >= N && y >= M) { found = true; break; }
      }
      trace.push(V.slice(off - d, off + d + 1));
    }
    var rev = [];
    var X = N, Y = M;
    for (var dd = trace.length - 1; dd > 0; dd--) {
      var prev = trace[dd - 1]; // k in [-(dd-1), dd-1] at index k + dd - 1
      var at = function (kk) { return prev[kk + dd - 1]; };
      var kc = X - Y;
      var pk = (kc === -dd || (kc !== dd && at(kc - 1) < at(kc + 1))) ? kc + 1 : kc - 1;
      var px = at(pk), py = px - pk;
      while (X > px && Y > py) { rev.push(['=', A[X - 1]]); X--; Y--; }
      if (X === px) { rev.push(['+', B[Y - 1]]); Y--; } else { rev.push(['-', A[X - 1]]); X--; }
    }
    while (X > 0 && Y > 0) { rev.push(['=', A[X - 1]]); X--; Y--; }
    // Runs: {eq: text} or {del: text, ins: text}.
    var runs = [];
    var push = function (op, t) {
      var last = runs[runs.length - 1];
      if (op === '=') {
        if (last && last.eq !== undefined) last.eq += t; else runs.push({ eq: t });
      } else {
        if (!last || last.eq !== undefined) { last = { del: '', ins: '' }; runs.push(last); }
        if (op === '-') last.del += t; else last.ins += t;
      }
    };
    a.slice(0, pre).forEach(function (t) { push('=', t); });
    for (var i = rev.length - 1; i >= 0; i--) push(rev[i][0], rev[i][1]);
    a.slice(a.length - suf).forEach(function (t) { push('=', t); });
    return semanticCleanup(runs);
  }

  // A word-level diff of reworded text interleaves tiny equalities ("the", a space) with
  // edits, which is hard to read. Like diff-match-patch's semantic cleanup, an equality
  // shorter than the edits on both of its sides is folded into them (a shared word as long as
  // its neighbours' edits stays visible).
  function semanticCleanup(runs) {
    var changed = true;
    while (changed) {
      changed = false;
      for (var i = 1; i + 1 < runs.length; i++) {
        var p = runs[i - 1], e = runs[i], n = runs[i + 1];
        if (e.eq === undefined || p.eq !== undefined || n.eq !== undefined) continue;
        var len = e.eq.length;
        if (len < Math.max(p.del.length, p.ins.length) && len < Math.max(n.del.length, n.ins.length)) {
          p.del += e.eq + n.del;
          p.ins += e.eq + n.ins;
          runs.splice(i, 2);
          changed = true;
          i--;
        }
      }
    }
    var ops = [];
    runs.forEach(function (r) {
      if (r.eq !== undefined) { if (r.eq) ops.push(['=', r.eq]); return; }
      if (r.del) ops.push(['-', r.del]);
      if (r.ins) ops.push(['+', r.ins]);
    });
    return ops;
  }

  // Exposed for the browser test: the diff on two strings.
  window.promptdriftDiff = function (x, y) { return diffTokens(tokens(x), tokens(y)); };

  render();
})();
