/* fitdoc report charts: dependency-free SVG line charts with zoom, hover values,
   smoothing drawn over the raw points, and epoch markers. Reads the JSON in
   #fitdoc-data and fills every [data-charts] element. */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e',
                 '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  var SEVERITY_COLOR = { info: '#7f7f7f', warning: '#e07b00', error: '#c62828' };
  var BEST_COLOR = '#2e7d32';
  var DATA = JSON.parse(document.getElementById('fitdoc-data').textContent);
  var T = DATA.t;
  var charts = [];

  function svg(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(name, cls, parent, text) {
    var e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? vars[k] : m; });
  }
  function num(v) {
    if (v === null || v === undefined) return T.none;
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return String(+v.toPrecision(4));
  }
  function ticks(lo, hi, n) {
    var span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; })
      .find(function (s) { return span / s <= n; }) || 10 * mag;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }
  function ema(ys, w) {
    var out = [], last = null;
    ys.forEach(function (y) {
      if (y === null) { out.push(null); return; }
      last = last === null ? y : w * last + (1 - w) * y;
      out.push(last);
    });
    return out;
  }

  /* One chart: spec = {title, lines: [{label, color, dash, x, y}], marks: [{x, label, color, kind, dash}]}. */
  function Chart(host, spec) {
    this.spec = spec;
    this.hidden = {};
    this.smooth = 0;
    this.logY = false;
    var xs = [];
    spec.lines.forEach(function (l) { xs = xs.concat(l.x); });
    this.full = [Math.min.apply(null, xs), Math.max.apply(null, xs)];
    if (this.full[0] === this.full[1]) this.full = [this.full[0] - 1, this.full[1] + 1];
    this.view = this.full.slice();
    this.allX = Array.from(new Set(xs)).sort(function (a, b) { return a - b; });

    var box = html('div', 'chart', host);
    var head = html('div', 'chart-head', box);
    html('span', 'chart-title', head, spec.title);
    var ctl = html('span', 'chart-controls', head);
    var lab = html('label', '', ctl, T.smoothing + ' ');
    var range = html('input', '', lab);
    range.type = 'range'; range.min = 0; range.max = 0.95; range.step = 0.05; range.value = 0;
    var logLab = html('label', '', ctl);
    var logBox = html('input', '', logLab);
    logBox.type = 'checkbox';
    logLab.appendChild(document.createTextNode(' ' + T.log_scale));
    this.svg = svg('svg', { class: 'plot', height: 260 }, box);
    this.legend = html('div', 'legend', box);
    this.tip = html('div', 'tooltip', box);
    this.box = box;

    var self = this;
    range.addEventListener('input', function () { self.smooth = +range.value; self.draw(); });
    logBox.addEventListener('change', function () { self.logY = logBox.checked; self.draw(); });
    var keys = [];  // one legend entry per key: several seeds of a variant share one
    spec.lines.forEach(function (l) {
      l.key = l.key || l.label;
      if (keys.indexOf(l.key) >= 0) return;
      keys.push(l.key);
      var item = html('span', 'legend-item', self.legend);
      var sw = html('span', 'swatch' + (l.dash ? ' dashed' : ''), item);
      sw.style.borderColor = l.color;
      item.appendChild(document.createTextNode(l.key));
      item.addEventListener('click', function () {
        self.hidden[l.key] = !self.hidden[l.key];
        item.classList.toggle('off', !!self.hidden[l.key]);
        self.draw();
      });
    });
    this.bind();
    this.draw();
  }

  Chart.prototype.visibleLines = function () {
    var self = this;
    return this.spec.lines.filter(function (l) { return !self.hidden[l.key]; });
  };

  Chart.prototype.yRange = function () {
    var lo = Infinity, hi = -Infinity, v0 = this.view[0], v1 = this.view[1], logY = this.logY;
    this.visibleLines().forEach(function (l) {
      l.x.forEach(function (x, j) {
        var y = l.y[j];
        if (y === null || x < v0 || x > v1 || (logY && y <= 0)) return;
        lo = Math.min(lo, y); hi = Math.max(hi, y);
      });
    });
    if (!isFinite(lo)) return null;
    if (logY) { lo = Math.log10(lo); hi = Math.log10(hi); }
    var pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 1;
    return [lo - pad, hi + pad];
  };

  Chart.prototype.draw = function () {
    var s = this.svg, self = this;
    while (s.firstChild) s.removeChild(s.firstChild);
    var W = Math.max(320, this.box.clientWidth || 720), H = 260;
    var m = { l: 58, r: 14, t: 16, b: 30 };
    s.setAttribute('width', W);
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    var yr = this.yRange() || [0, 1];
    var v0 = this.view[0], v1 = this.view[1], logY = this.logY;
    var sx = function (x) { return m.l + (x - v0) / (v1 - v0) * pw; };
    var ty = function (y) { return logY ? Math.log10(y) : y; };
    var sy = function (y) { return m.t + ph - (ty(y) - yr[0]) / (yr[1] - yr[0]) * ph; };
    this.geom = { m: m, pw: pw, ph: ph, sx: sx, W: W };

    var grid = svg('g', { class: 'grid' }, s);
    ticks(yr[0], yr[1], 5).forEach(function (t) {
      var y = m.t + ph - (t - yr[0]) / (yr[1] - yr[0]) * ph;
      svg('line', { x1: m.l, x2: m.l + pw, y1: y, y2: y }, grid);
      svg('text', { x: m.l - 6, y: y + 4, 'text-anchor': 'end' }, grid).textContent = num(logY ? Math.pow(10, t) : t);
    });
    ticks(v0, v1, Math.max(2, Math.floor(pw / 70))).forEach(function (t) {
      if (Math.abs(t - Math.round(t)) > 1e-9 && v1 - v0 > 4) return;
      var x = sx(t);
      svg('line', { x1: x, x2: x, y1: m.t, y2: m.t + ph }, grid);
      svg('text', { x: x, y: H - 10, 'text-anchor': 'middle' }, grid).textContent = num(t);
    });
    svg('text', { x: m.l + pw, y: H - 1, 'text-anchor': 'end', class: 'axis-label' }, grid).textContent = T.epoch;

    var clipId = 'clip' + Math.random().toString(36).slice(2);
    var clip = svg('clipPath', { id: clipId }, svg('defs', {}, s));
    svg('rect', { x: m.l, y: m.t - 14, width: pw, height: ph + 14 }, clip);
    var plot = svg('g', { 'clip-path': 'url(#' + clipId + ')' }, s);

    this.spec.marks.forEach(function (mk, i) {
      if (mk.x < v0 || mk.x > v1) return;
      var x = sx(mk.x), g = svg('g', { class: 'mark mark-' + mk.kind }, plot);
      svg('title', {}, g).textContent = mk.title || mk.label;
      if (mk.kind === 'event') {
        svg('path', { d: 'M' + x + ',' + (m.t + ph) + 'l-4,-7h8z', fill: mk.color }, g);
        var right = x > m.l + pw - 90;  // near the right edge the label goes left of its marker
        svg('text', { x: right ? x - 5 : x + 5, y: m.t + ph - 3, fill: mk.color,
                      'text-anchor': right ? 'end' : 'start' }, g).textContent = mk.label;
        return;
      }
      svg('line', { x1: x, x2: x, y1: m.t, y2: m.t + ph, stroke: mk.color,
                    'stroke-dasharray': mk.dash ? '5,4' : '', 'stroke-width': 1.5 }, g);
      svg('text', { x: x + 3, y: m.t + 10 + (i % 3) * 12, fill: mk.color }, g).textContent = mk.label;
    });

    this.spec.lines.forEach(function (l) {
      if (self.hidden[l.key]) return;
      var ys = logY ? l.y.map(function (y) { return y !== null && y > 0 ? y : null; }) : l.y;
      var smoothing = self.smooth > 0;
      self.path(plot, l.x, ys, sx, sy, { stroke: l.color, class: 'fd-line raw',
        'stroke-width': l.thin || smoothing ? 1 : 1.6, 'stroke-opacity': l.thin ? 0.45 : smoothing ? 0.4 : 1,
        'stroke-dasharray': l.dash ? '6,4' : '' });
      var inView = l.x.filter(function (x) { return x >= v0 && x <= v1; }).length;
      if (inView <= 400 && !l.thin) {
        var dots = svg('g', { fill: l.color, 'fill-opacity': smoothing ? 0.45 : 0.9, class: 'fd-points' }, plot);
        l.x.forEach(function (x, j) {
          if (ys[j] === null || x < v0 || x > v1) return;
          svg('circle', { cx: sx(x), cy: sy(ys[j]), r: 2.4 }, dots);
        });
      }
      if (smoothing) {
        self.path(plot, l.x, ema(ys, self.smooth), sx, sy, { stroke: l.color, class: 'fd-line smooth',
          'stroke-width': 2.4, 'stroke-dasharray': l.dash ? '6,4' : '' });
      }
    });
    this.cross = svg('line', { class: 'crosshair', y1: m.t, y2: m.t + ph, x1: -10, x2: -10 }, s);
    this.sel = svg('rect', { class: 'selection', y: m.t, height: ph, x: 0, width: 0 }, s);
    this.hit = svg('rect', { class: 'hit', x: m.l, y: m.t, width: pw, height: ph }, s);
  };

  Chart.prototype.path = function (parent, xs, ys, sx, sy, attrs) {
    var d = '', pen = false;
    xs.forEach(function (x, j) {
      if (ys[j] === null) { pen = false; return; }
      d += (pen ? 'L' : 'M') + sx(x).toFixed(1) + ',' + sy(ys[j]).toFixed(1);
      pen = true;
    });
    attrs.d = d;
    attrs.fill = 'none';
    return svg('path', attrs, parent);
  };

  Chart.prototype.xAt = function (evt) {
    var r = this.svg.getBoundingClientRect(), g = this.geom;
    var px = Math.min(Math.max(evt.clientX - r.left, g.m.l), g.m.l + g.pw);
    return { px: px, x: this.view[0] + (px - g.m.l) / g.pw * (this.view[1] - this.view[0]) };
  };

  Chart.prototype.zoomTo = function (a, b) {
    var lo = Math.max(this.full[0], Math.min(a, b)), hi = Math.min(this.full[1], Math.max(a, b));
    if (hi - lo < 1) { var c = (lo + hi) / 2; lo = Math.max(this.full[0], c - 0.5); hi = Math.min(this.full[1], lo + 1); }
    this.view = [lo, hi];
    this.draw();
  };

  Chart.prototype.bind = function () {
    var self = this, drag = null;
    this.svg.addEventListener('wheel', function (evt) {
      evt.preventDefault();
      var at = self.xAt(evt).x, f = Math.exp(evt.deltaY * 0.0015);
      self.zoomTo(at - (at - self.view[0]) * f, at + (self.view[1] - at) * f);
    }, { passive: false });
    this.svg.addEventListener('mousedown', function (evt) { drag = self.xAt(evt); evt.preventDefault(); });
    window.addEventListener('mouseup', function (evt) {
      if (!drag) return;
      var end = self.xAt(evt), start = drag;
      drag = null;
      self.sel.setAttribute('width', 0);
      if (Math.abs(end.px - start.px) > 5) self.zoomTo(start.x, end.x);
    });
    this.svg.addEventListener('dblclick', function () { self.view = self.full.slice(); self.draw(); });
    this.svg.addEventListener('mouseleave', function () { self.tip.style.display = 'none'; self.cross.setAttribute('x1', -10); self.cross.setAttribute('x2', -10); });
    this.svg.addEventListener('mousemove', function (evt) {
      var at = self.xAt(evt);
      if (drag) {
        self.sel.setAttribute('x', Math.min(drag.px, at.px));
        self.sel.setAttribute('width', Math.abs(at.px - drag.px));
      }
      self.hover(at.x, evt);
    });
  };

  Chart.prototype.hover = function (x, evt) {
    var near = null;
    this.allX.forEach(function (e) { if (near === null || Math.abs(e - x) < Math.abs(near - x)) near = e; });
    if (near === null) return;
    var px = this.geom.sx(near), self = this;
    this.cross.setAttribute('x1', px);
    this.cross.setAttribute('x2', px);
    var tip = this.tip;
    tip.textContent = '';
    html('div', 'tip-head', tip, T.epoch + ' ' + near);
    this.spec.lines.forEach(function (l) {
      if (self.hidden[l.key]) return;
      var j = l.x.indexOf(near);
      if (j < 0) return;
      var row = html('div', '', tip);
      var sw = html('span', 'swatch' + (l.dash ? ' dashed' : ''), row);
      sw.style.borderColor = l.color;
      var text = l.label + ': ' + num(l.y[j]);
      if (self.smooth > 0) text += ' (' + T.smoothed + ' ' + num(ema(l.y, self.smooth)[j]) + ')';
      row.appendChild(document.createTextNode(text));
    });
    this.spec.marks.forEach(function (mk) {
      if (mk.x === near) html('div', 'tip-mark', tip, mk.title || mk.label);
    });
    var r = this.box.getBoundingClientRect();
    tip.style.display = 'block';
    var left = evt.clientX - r.left + 14;
    if (left + tip.offsetWidth > r.width) left = evt.clientX - r.left - tip.offsetWidth - 14;
    tip.style.left = left + 'px';
    tip.style.top = (evt.clientY - r.top + 10) + 'px';
  };

  function runMarks(run, color) {
    var marks = [];
    if (run.best_epoch !== null) {
      marks.push({ x: run.best_epoch, kind: 'best', color: color || BEST_COLOR,
                   label: fill(T.best_marker, { epoch: run.best_epoch }),
                   title: run.label + ': ' + fill(T.best_marker, { epoch: run.best_epoch }) + ' (' + run.best_epoch_metric + ')',
                   dash: !!color });
    }
    if (color) return marks;
    run.findings.forEach(function (f) {
      if (f.epoch === null) return;
      marks.push({ x: f.epoch, kind: 'finding', color: SEVERITY_COLOR[f.severity] || '#555', dash: true,
                   label: f.code, title: f.code + ' ' + f.title + ': ' + f.evidence });
    });
    run.events.forEach(function (e) {
      var key = 'event_' + e.type;
      if (e.epoch === null || !(key in T)) return;
      var text = fill(T[key], { value: num(e.value), epoch: e.value === null ? e.epoch : e.value });
      marks.push({ x: e.epoch, kind: 'event', color: '#555', label: text, title: text });
    });
    return marks;
  }

  function xy(run, name) {
    var x = [], y = [];
    run.epochs.forEach(function (e, j) {
      var v = run.series[name][j];
      if (v === undefined) return;
      x.push(e); y.push(v);
    });
    return { x: x, y: y };
  }

  function runCharts(host, run) {
    run.groups.forEach(function (g) {
      var lines = g[1].map(function (name, i) {
        var p = xy(run, name);
        return { label: name, color: PALETTE[i % PALETTE.length], dash: name.indexOf('val_') === 0, x: p.x, y: p.y };
      });
      charts.push(new Chart(host, { title: T['panel_' + g[0]] || g[0], lines: lines, marks: runMarks(run) }));
    });
  }

  function overlayCharts(host) {
    DATA.overlay.forEach(function (g) {
      var lines = [], marks = [];
      // runs of one group (a sweep variant's seeds) share a colour and a legend entry, drawn thin
      var groups = [];
      DATA.runs.forEach(function (run) { if (groups.indexOf(run.group) < 0) groups.push(run.group); });
      var shared = groups.length < DATA.runs.length;
      DATA.runs.forEach(function (run) {
        var color = PALETTE[groups.indexOf(run.group) % PALETTE.length];
        g[1].forEach(function (name) {
          if (!(name in run.series)) return;
          var p = xy(run, name);
          lines.push({ label: run.label + ' · ' + name, key: run.group + ' · ' + name, color: color,
                       dash: name.indexOf('val_') === 0, thin: shared, x: p.x, y: p.y });
        });
        if (g[0] !== 'lr' && !shared) marks = marks.concat(runMarks(run, color));
      });
      if (lines.length) charts.push(new Chart(host, { title: T['panel_' + g[0]] || g[0], lines: lines, marks: marks }));
    });
  }

  document.querySelectorAll('[data-charts]').forEach(function (host) {
    var which = host.getAttribute('data-charts');
    if (which === 'overlay') overlayCharts(host);
    else runCharts(host, DATA.runs[+which]);
  });
  var pending = null;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { c.draw(); }); }, 150);
  });
  document.body.setAttribute('data-rendered', String(charts.length));
})();
