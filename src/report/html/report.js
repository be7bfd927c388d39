
// promptdrift HTML report. Reads the JSON in #report-data (built by src/report/html.rs) and
// builds the page. Every string from the data is untrusted (model output, provider messages,
// labels): it only ever reaches the page as a text node or textContent, never as markup.
//
// Two views: a results file (kind "results", below) or a comparison (kind "comparison", see
// renderComparison).
//
// Data: { kind, tool, run, complete, summary, verdict: {status, headline},
//   suites: [{name, path, description?}],
//   providers: [{label, ids, models, passed, failed, errors, latency_p50, latency_p95,
//                cost_usd, tokens_in, tokens_out}],            (the grid's columns)
//   tags: [string], rows: [{suite, id, description?, tags?, cells: [[p, f, e] | null], results: [i]}],
//   results: [CaseResult fields + column, rendered (index into prompts)], prompts: [{system?, messages}],
//   metrics: [{provider, metric, count, passed, mean}], cache_note? }
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
      D.cache_note ? h('p', { class: 'evidence', id: 'cache-note', text: D.cache_note + ': what the models said then, not now.' }) : null,
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

  // ---- the comparison view (compare, diff) ----------------------------------------------------
  //
  // Data: { kind: "comparison", tool, settings, exit_code,
  //   comparisons: [{ baseline: {provider, provider_id, models, source?, results, cached, …},
  //     candidate: {…}, verdict: {kind, explanation, samples_needed?}, interval: [lo, hi] | null,
  //     gates: [{name, status, detail}], stats, exit_code, cache_notes: [string],
  //     cases: [{suite, case_id, prompt, candidate_prompt?, description?, tags?, class, reasons,
  //              baseline?: side, candidate?: side, assertions?, similarity?, json?, deltas,
  //              p_value?, q_value?}] }] }   (docs/drift.md; cases most severe class first)

  var CLASSES = ['regressed', 'errored', 'changed', 'improved', 'missing', 'new', 'equivalent', 'unchanged'];
  var CLASS_HELP = {
    regressed: 'outcomes got worse', errored: 'no answer on a side', changed: 'same outcomes, different answer',
    improved: 'outcomes got better', missing: 'only in the baseline', new: 'only in the candidate',
    equivalent: 'same outcomes, reworded', unchanged: 'same answers, same outcomes'
  };
  var cmp = { at: 0, cls: 'all', tag: '', q: '', page: 0 };
  var cmpFiltered = [];
  var cmpSearch = null;
  var cmpHost, cmpPager, cmpShown;

  function signed(x, digits) {
    if (x === null || x === undefined) return '–';
    var s = Math.abs(x).toFixed(digits === undefined ? 1 : digits);
    return (x < 0 ? '−' : '+') + s;
  }

  function pct(x) { return (x === null || x === undefined) ? '–' : (x * 100).toFixed(1) + '%'; }

  function caseName(k, several) {
    return k.suite + '/' + k.case_id + (several[k.suite + '\u0000' + k.case_id] ? ' [' + k.prompt + ']' : '');
  }

  function severalPrompts(cases) {
    var seen = {}, several = {};
    cases.forEach(function (k) {
      var key = k.suite + '\u0000' + k.case_id;
      if (seen[key]) several[key] = true;
      seen[key] = true;
    });
    return several;
  }

  function renderComparison() {
    clear(app);
    cmpSearch = null;
    var C = D.comparisons[cmp.at];
    var several = severalPrompts(C.cases);
    document.title = 'promptdrift comparison: ' + C.baseline.provider + ' → ' + C.candidate.provider;
    var status = C.exit_code === 0 ? 'passed' : C.exit_code === 1 ? 'failed' : 'errors';
    var p = C.stats.pass_rate;
    var evidence = p.cases === 0 ? 'No case was answered on both sides.'
      : 'Pass rate ' + pct(p.baseline) + ' → ' + pct(p.candidate) + ': ' + signed(p.diff_points) + ' points' +
        (C.interval ? ', 95% interval ' + signed(C.interval[0]) + ' … ' + signed(C.interval[1]) : '') +
        ', over ' + plural(p.cases, 'paired case') + '; largest tolerated drop ' + D.settings.max_pass_rate_drop + ' points.';
    var pick = null;
    if (D.comparisons.length > 1) {
      pick = h('select', { id: 'f-comparison', onchange: function () { cmp.at = Number(pick.value); cmp.cls = 'all'; cmp.page = 0; renderComparison(); } },
        D.comparisons.map(function (c, i) {
          return h('option', { value: String(i), selected: i === cmp.at ? 'selected' : null, text: c.baseline.provider + ' → ' + c.candidate.provider });
        }));
    }
    var counts = C.stats.classes;
    var card = function (cls, n, label) {
      return h('div', { class: 'card c-' + cls + (n === 0 ? ' zero' : ''), title: CLASS_HELP[cls] || null }, h('div', { class: 'n', 'data-count': cls, text: n }), h('div', { class: 'l', text: label }));
    };
    add(app, h('section', { id: 'summary' },
      h('header', { class: 'top' }, h('h1', { text: 'promptdrift comparison' }),
        h('span', { class: 'meta', text: C.baseline.provider + ' → ' + C.candidate.provider }),
        pick ? h('label', { class: 'meta' }, 'comparison ', pick) : null),
      h('div', { class: 'verdict ' + status, id: 'verdict', 'data-status': status, 'data-verdict': C.verdict.kind },
        h('span', { class: 'word', text: C.verdict.kind }),
        h('span', { text: C.verdict.explanation })),
      h('p', { class: 'evidence', id: 'evidence', text: evidence }),
      (C.cache_notes || []).length ? h('p', { class: 'evidence', id: 'cache-note', text: C.cache_notes.join('; ') + ': what the models said then, not now.' }) : null,
      h('div', { class: 'cards' },
        card('cases', C.cases.length, 'cases'),
        CLASSES.map(function (c) { return card(c, counts[c], c); }))));
    add(app, h('h2', { text: 'Gates (exit ' + C.exit_code + ')' }));
    add(app, h('div', { class: 'tscroll' }, gatesTable(C)));
    add(app, h('h2', { text: 'Providers' }));
    add(app, h('div', { class: 'tscroll' }, sidesTable(C)));
    add(app, cmpToolbar(C));
    cmpHost = h('div', { id: 'grid-host' });
    cmpPager = h('div', { class: 'pager', id: 'pager' });
    add(app, [cmpHost, cmpPager]);
    add(app, h('footer', null, 'Generated by ' + D.tool + ' · comparison schema v1 · ' +
      plural(C.cases.length, 'case') + ' · bootstrap B = ' + p.bootstrap + ', seed ' + p.seed +
      (C.baseline.source ? ' · baseline from ' + C.baseline.source : '') +
      (C.candidate.source ? ' · candidate from ' + C.candidate.source : '')));
    cmpApply();
  }

  function gatesTable(C) {
    return h('table', { class: 'providers', id: 'gates' },
      h('thead', null, h('tr', null, ['gate', 'result', 'measured'].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, C.gates.map(function (g) {
        var cls = { pass: 'pass', fail: 'fail', unverified: 'error', skipped: 'none' }[g.status] || 'none';
        return h('tr', { 'data-gate': g.name, 'data-status': g.status },
          h('td', { class: 'mono', text: g.name }),
          h('td', null, h('span', { class: 'badge ' + cls, text: g.status })),
          h('td', { class: 'wrap', text: g.detail }));
      })));
  }

  function sidesTable(C) {
    var s = C.stats;
    var row = function (role, side, p50, p95, cost, tin, tout) {
      return h('tr', { 'data-side': role },
        h('td', null, h('span', { class: 'muted', text: role + ' ' }), h('strong', { text: side.provider }), h('div', { class: 'pid', text: side.provider_id + (side.source ? ' · ' + side.source : '') })),
        h('td', { class: 'mono', text: (side.models || []).join(', ') || '–' }),
        h('td', { class: 'num', text: fmtInt(side.results) }),
        h('td', { class: 'num', text: fmtMs(p50 === null || p50 === undefined ? null : Math.round(p50)) }),
        h('td', { class: 'num', text: fmtMs(p95 === null || p95 === undefined ? null : Math.round(p95)) }),
        h('td', { class: 'num', text: fmtInt(tin) + ' / ' + fmtInt(tout) }),
        h('td', { class: 'num', text: fmtCost(cost) }));
    };
    return h('table', { class: 'providers', id: 'sides' },
      h('thead', null, h('tr', null, ['provider', 'model', 'results', 'p50 latency', 'p95 latency', 'tokens in / out', 'cost'].map(function (t, i) {
        return h('th', { class: i >= 2 ? 'num' : null, text: t });
      }))),
      h('tbody', null,
        row('baseline', C.baseline, s.latency.baseline_p50, s.latency.baseline_p95, s.cost.baseline_usd, s.tokens.baseline_input, s.tokens.baseline_output),
        row('candidate', C.candidate, s.latency.candidate_p50, s.latency.candidate_p95, s.cost.candidate_usd, s.tokens.candidate_input, s.tokens.candidate_output)));
  }

  function cmpToolbar(C) {
    var counts = C.stats.classes;
    var seg = h('div', { class: 'seg', role: 'group', 'aria-label': 'class filter' });
    [['all', 'All (' + C.cases.length + ')']].concat(CLASSES.filter(function (c) { return counts[c] > 0; }).map(function (c) {
      return [c, c + ' (' + counts[c] + ')'];
    })).forEach(function (b) {
      add(seg, h('button', {
        type: 'button', 'data-class': b[0], title: CLASS_HELP[b[0]] || null,
        'aria-pressed': cmp.cls === b[0] ? 'true' : 'false', text: b[1],
        onclick: function () {
          cmp.cls = b[0];
          cmp.page = 0;
          Array.prototype.forEach.call(seg.children, function (x) { x.setAttribute('aria-pressed', x === this ? 'true' : 'false'); }, this);
          cmpApply();
        }
      }));
    });
    var tags = {};
    C.cases.forEach(function (k) { (k.tags || []).forEach(function (t) { tags[t] = true; }); });
    var tag = h('select', { id: 'f-tag', onchange: function () { cmp.tag = tag.value; cmp.page = 0; cmpApply(); } },
      h('option', { value: '', text: 'any tag' }),
      Object.keys(tags).sort().map(function (t) { return h('option', { value: t, text: t }); }));
    var timer = null;
    var q = h('input', {
      type: 'search', id: 'f-search', placeholder: 'Search case ids, descriptions, reasons, answers…',
      oninput: function () {
        clearTimeout(timer);
        timer = setTimeout(function () { cmp.q = q.value.trim().toLowerCase(); cmp.page = 0; cmpApply(); }, 120);
      }
    });
    cmpShown = h('span', { class: 'shown', id: 'shown' });
    return h('div', { class: 'toolbar' }, seg, h('label', null, 'Tag', tag), q, cmpShown);
  }

  function cmpApply() {
    var C = D.comparisons[cmp.at];
    if (cmp.q && cmpSearch === null) {
      cmpSearch = C.cases.map(function (k) {
        var parts = [k.suite, k.case_id, k.prompt, k.description || '', (k.tags || []).join(' '), k.reasons.join('\n')];
        if (k.baseline && k.baseline.output) parts.push(k.baseline.output);
        if (k.candidate && k.candidate.output) parts.push(k.candidate.output);
        return parts.join('\n').toLowerCase();
      });
    }
    cmpFiltered = [];
    for (var i = 0; i < C.cases.length; i++) {
      var k = C.cases[i];
      if (cmp.cls !== 'all' && k.class !== cmp.cls) continue;
      if (cmp.tag && (k.tags || []).indexOf(cmp.tag) < 0) continue;
      if (cmp.q && cmpSearch[i].indexOf(cmp.q) < 0) continue;
      cmpFiltered.push(i);
    }
    var pages = Math.max(1, Math.ceil(cmpFiltered.length / PAGE_SIZE));
    if (cmp.page >= pages) cmp.page = pages - 1;
    cmpGrid();
  }

  function rateText(side) {
    if (!side) return '–';
    if (!side.answered) return 'no answer';
    return side.passed + '/' + side.answered + (side.answered > 1 ? ' (' + pct(side.pass_rate) + ')' : side.passed ? ' pass' : ' fail');
  }

  function cmpGrid() {
    var C = D.comparisons[cmp.at];
    var several = severalPrompts(C.cases);
    var start = cmp.page * PAGE_SIZE;
    var rows = cmpFiltered.slice(start, start + PAGE_SIZE);
    cmpShown.textContent = cmpFiltered.length === C.cases.length
      ? plural(C.cases.length, 'case') : cmpFiltered.length + ' of ' + plural(C.cases.length, 'case');
    cmpShown.setAttribute('data-shown', String(cmpFiltered.length));
    clear(cmpHost);
    if (rows.length === 0) {
      add(cmpHost, h('div', { class: 'empty', text: 'No case matches these filters.' }));
    } else {
      var head = h('tr', null, h('th', { text: 'case' }), h('th', { text: 'class' }),
        h('th', { 'data-col': 0 }, 'baseline', h('span', { class: 'counts', text: C.baseline.provider })),
        h('th', { 'data-col': 1 }, 'candidate', h('span', { class: 'counts', text: C.candidate.provider })),
        h('th', { class: 'num', text: 'similarity' }), h('th', { class: 'num', text: 'Δ latency' }), h('th', { text: 'reason' }));
      var body = rows.map(function (i) {
        var k = C.cases[i];
        var d = k.deltas || {};
        return h('tr', {
          class: 'row', tabindex: '0', 'data-row': i, 'data-class': k.class,
          onclick: function () { cmpDetail(i); },
          onkeydown: function (e) { if (e.key === 'Enter') cmpDetail(i); }
        },
        h('td', { class: 'case' },
          h('span', { class: 'id', text: caseName(k, several) }),
          k.description ? h('div', { class: 'desc', text: k.description }) : null,
          (k.tags || []).map(function (t) { return h('span', { class: 'tag', text: t }); })),
        h('td', null, h('span', { class: 'badge c-' + k.class, text: k.class })),
        h('td', { class: 'cell', text: rateText(k.baseline) }),
        h('td', { class: 'cell', text: rateText(k.candidate) }),
        h('td', { class: 'num', text: k.similarity ? k.similarity.score.toFixed(2) : '–' }),
        h('td', { class: 'num', text: d.latency_ms === null || d.latency_ms === undefined ? '–' : signed(d.latency_ms, 0) + ' ms' }),
        h('td', { class: 'reason wrap', text: k.reasons[0] || '' }));
      });
      add(cmpHost, h('table', { class: 'grid', id: 'grid' }, h('thead', null, head), h('tbody', null, body)));
    }
    clear(cmpPager);
    var pages = Math.max(1, Math.ceil(cmpFiltered.length / PAGE_SIZE));
    if (pages > 1) {
      var go = function (p) { cmp.page = p; cmpGrid(); window.scrollTo(0, cmpHost.offsetTop - 20); };
      add(cmpPager, [
        h('button', { type: 'button', id: 'prev', text: '‹ Previous', disabled: cmp.page === 0 ? 'disabled' : null, onclick: function () { go(cmp.page - 1); } }),
        h('span', { id: 'page', text: 'page ' + (cmp.page + 1) + ' of ' + pages }),
        h('button', { type: 'button', id: 'next', text: 'Next ›', disabled: cmp.page >= pages - 1 ? 'disabled' : null, onclick: function () { go(cmp.page + 1); } })
      ]);
    }
  }

  function cmpDetail(i) {
    closeDetail();
    var C = D.comparisons[cmp.at];
    var k = C.cases[i];
    var b = k.baseline, c = k.candidate;
    var ops = null, tooDifferent = false;
    if (b && c && typeof b.output === 'string' && typeof c.output === 'string') {
      ops = diffTokens(tokens(b.output), tokens(c.output));
      tooDifferent = ops === null;
    }
    var pane = function (role, label, side, keep) {
      var cls = !side ? 'none' : !side.answered ? 'error' : side.passed === side.answered ? 'pass' : 'fail';
      var out = null;
      if (side && typeof side.output === 'string') {
        out = h('pre', { class: 'output', 'data-side': role });
        if (ops === null) out.textContent = side.output;
        else ops.forEach(function (op) {
          if (op[0] === '=') add(out, op[1]);
          else if (op[0] === keep) add(out, h(keep === '+' ? 'ins' : 'del', { text: op[1] }));
        });
      }
      var d = k.deltas || {};
      return h('div', { class: 'side ' + cls, 'data-side': role },
        h('div', { class: 'title' }, h('h3', { text: role + ': ' + label }), h('span', { class: 'badge ' + cls, text: rateText(side) })),
        side ? h('dl', { class: 'metrics' },
          [h('dt', { text: 'model' }), h('dd', { text: side.model || '–' })],
          [h('dt', { text: 'latency' }), h('dd', { text: side.latency_ms === undefined ? '–' : fmtMs(Math.round(side.latency_ms)) + (role === 'candidate' && d.latency_ms !== null && d.latency_ms !== undefined ? ' (' + signed(d.latency_ms, 0) + ' ms)' : '') })],
          [h('dt', { text: 'cost' }), h('dd', { text: fmtCost(side.cost_usd) })],
          [h('dt', { text: 'tokens' }), h('dd', { text: fmtInt(side.input_tokens) + ' in · ' + fmtInt(side.output_tokens) + ' out' })],
          [h('dt', { text: 'finish' }), h('dd', { text: side.finish_reason || '–' })]) : h('div', { class: 'note', text: 'No result on this side.' }),
        side && side.errors && side.errors.length ? h('div', { class: 'errbox', text: side.errors.join('\n') }) : null,
        out);
    };
    var note = ops === null
      ? (tooDifferent ? 'Too different for a word diff.' : null)
      : ['Word diff, baseline → candidate: ', h('del', { text: 'removed' }), ' ', h('ins', { text: 'added' })];
    overlayEl = h('div', { class: 'overlay', onclick: closeDetail });
    detailEl = h('section', { class: 'detail', id: 'detail', role: 'dialog', 'aria-modal': 'true', 'data-row': i, 'data-class': k.class },
      h('div', { class: 'head' },
        h('div', { class: 'grow' },
          h('h2', { text: k.case_id }),
          h('div', { class: 'muted', text: 'suite ' + k.suite + ' · prompt ' + k.prompt + (k.candidate_prompt ? ' / ' + k.candidate_prompt : '') + (k.description ? ' · ' + k.description : '') }),
          (k.tags || []).map(function (t) { return h('span', { class: 'tag', text: t }); })),
        h('button', { type: 'button', id: 'close', text: 'Close', onclick: closeDetail })),
      h('div', { class: 'controls' }, h('span', { class: 'badge c-' + k.class, text: k.class }),
        k.similarity ? h('span', { class: 'muted', text: 'similarity ' + k.similarity.score.toFixed(2) + ' (edit ' + k.similarity.edit_ratio.toFixed(2) + ', token set ' + k.similarity.token_jaccard.toFixed(2) + ')' }) : null,
        k.p_value !== undefined ? h('span', { class: 'muted', text: 'Fisher p = ' + k.p_value.toPrecision(3) + (k.q_value !== undefined ? ', q = ' + k.q_value.toPrecision(3) : '') }) : null),
      h('ul', { class: 'reasons', id: 'reasons' }, k.reasons.map(function (r) { return h('li', { text: r }); })),
      note ? h('div', { class: 'note' }, note) : null,
      h('div', { class: 'sides' }, pane('baseline', C.baseline.provider, b, '-'), pane('candidate', C.candidate.provider, c, '+')),
      assertionDeltas(k.assertions || []),
      jsonChanges(k.json));
    document.body.appendChild(overlayEl);
    document.body.appendChild(detailEl);
    detailEl.querySelector('#close').focus();
  }

  function assertionDeltas(list) {
    if (list.length === 0) return null;
    var rate = function (r) { return r ? r.passed + '/' + r.total : '–'; };
    return h('table', { class: 'providers', id: 'assertion-deltas' },
      h('thead', null, h('tr', null, ['assertion', 'baseline', 'candidate', 'change'].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, list.map(function (a) {
        var val = a.value === undefined ? '' : typeof a.value === 'string' ? a.value : JSON.stringify(a.value);
        return h('tr', { 'data-change': a.change },
          h('td', null, h('span', { class: 'atype', text: a.type }), val ? h('div', { class: 'aval', text: val.length > 200 ? val.slice(0, 200) + '…' : val }) : null),
          h('td', { text: rate(a.baseline) }), h('td', { text: rate(a.candidate) }),
          h('td', { text: a.change.replace('_', ' ') }));
      })));
  }

  function jsonChanges(j) {
    if (!j || !j.changes || j.changes.length === 0) return null;
    return h('details', { class: 'prompt', id: 'json-changes' }, h('summary', { text: 'JSON structure: ' + plural(j.total, 'change') }),
      h('ul', { class: 'reasons' }, j.changes.map(function (x) {
        return h('li', { class: 'mono', text: x.path + ': ' + x.kind.replace('_', ' ') +
          (x.baseline !== undefined || x.candidate !== undefined ? ' (' + (x.baseline === undefined ? '–' : x.baseline) + ' → ' + (x.candidate === undefined ? '–' : x.candidate) + ')' : '') });
      })));
  }

  // Exposed for the browser test: the diff on two strings.
  window.promptdriftDiff = function (x, y) { return diffTokens(tokens(x), tokens(y)); };

  if (D.kind === 'comparison') {
    renderComparison();
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeDetail(); });
  } else {
    render();
  }
})();
