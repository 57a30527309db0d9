/* airisk portfolio dashboard: charts (d3, as SVG) from the embedded aggregates, and a sortable,
   filterable, paginated table of the cases from the embedded compact columns. No network. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("airisk-data").textContent);
  var T = JSON.parse(document.getElementById("airisk-strings").textContent);
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var VALUE = {};
  for (var k = 0; k < DIGITS.length; k++) VALUE[DIGITS.charAt(k)] = k;
  var COLOURS = {critical: "#8e1b1b", high: "#d0382b", medium: "#d98a00", low: "#2e7d32", none: "#7a8291",
                 error: "#6a1b9a", info: "#51667f"};
  var N = D.cases;

  function decode(col) {
    var w = col.w, s = col.s, n = s.length / w, out = new Int32Array(n);
    for (var i = 0, p = 0; i < n; i++) {
      var v = 0;
      for (var j = 0; j < w; j++, p++) v = v * 64 + VALUE[s.charAt(p)];
      out[i] = v;
    }
    return out;
  }
  function decodeList(text, w) {
    var out = [];
    for (var p = 0; p + w <= text.length; p += w) {
      var v = 0;
      for (var j = 0; j < w; j++) v = v * 64 + VALUE[text.charAt(p + j)];
      out.push(v);
    }
    return out;
  }
  function levelName(code) { return T.levels[code] || code; }
  function dimName(d) { return T.dim_names[d] || d; }

  /* ------------------------------------------------------------------ charts */

  function hbar(container, name, items, opts) {
    // items: [{label, value, colour, title}]; one bar (mark) per item
    opts = opts || {};
    var width = opts.width || 520, barH = 22, left = opts.left || 150, right = 50;
    var height = Math.max(1, items.length) * barH + 30;
    var svg = d3.create("svg").attr("viewBox", [0, 0, width, height]).attr("width", width).attr("height", height)
      .attr("data-chart", name).attr("role", "img").attr("aria-label", opts.label || name);
    if (!items.length) {
      svg.append("text").attr("x", 8).attr("y", 20).attr("class", "empty").text(T.none);
      container.append(function () { return svg.node(); });
      return;
    }
    var x = d3.scaleLinear().domain([0, d3.max(items, function (d) { return d.value; }) || 1]).nice()
      .range([left, width - right]);
    var y = d3.scaleBand().domain(items.map(function (d, i) { return i; })).range([0, items.length * barH])
      .padding(0.18);
    var g = svg.append("g").attr("class", "marks");
    g.selectAll("rect").data(items).join("rect").attr("class", "mark")
      .attr("x", left).attr("y", function (d, i) { return y(i); })
      .attr("width", function (d) { return Math.max(1, x(d.value) - left); }).attr("height", y.bandwidth())
      .attr("fill", function (d) { return d.colour || "#1f5fbf"; })
      .append("title").text(function (d) { return (d.title || d.label) + ": " + d.value; });
    svg.append("g").attr("class", "labels").selectAll("text").data(items).join("text")
      .attr("x", left - 6).attr("y", function (d, i) { return y(i) + y.bandwidth() / 2; })
      .attr("dy", "0.35em").attr("text-anchor", "end").text(function (d) { return d.label; });
    svg.append("g").attr("class", "values").selectAll("text").data(items).join("text")
      .attr("x", function (d) { return x(d.value) + 4; }).attr("y", function (d, i) { return y(i) + y.bandwidth() / 2; })
      .attr("dy", "0.35em").text(function (d) { return d3.format(",")(d.value); });
    svg.append("g").attr("transform", "translate(0," + (items.length * barH + 4) + ")")
      .call(d3.axisBottom(x).ticks(5, "~s"));
    container.append(function () { return svg.node(); });
  }

  function stacked(container, name, rows, keys, opts) {
    // rows: [{label, counts: {key: n}}]; one segment (mark) per non-zero count
    opts = opts || {};
    var width = opts.width || 620, barH = 24, left = opts.left || 150, right = 20;
    var height = Math.max(1, rows.length) * barH + 52;
    var svg = d3.create("svg").attr("viewBox", [0, 0, width, height]).attr("width", width).attr("height", height)
      .attr("data-chart", name).attr("role", "img").attr("aria-label", opts.label || name);
    var total = d3.max(rows, function (r) { return d3.sum(keys, function (k) { return r.counts[k] || 0; }); }) || 1;
    var x = d3.scaleLinear().domain([0, total]).range([left, width - right]);
    var y = d3.scaleBand().domain(rows.map(function (r, i) { return i; })).range([0, rows.length * barH]).padding(0.18);
    var g = svg.append("g").attr("class", "marks");
    rows.forEach(function (r, i) {
      var at = 0;
      keys.forEach(function (key) {
        var n = r.counts[key] || 0;
        if (!n) return;
        g.append("rect").attr("class", "mark").attr("data-key", key).attr("x", x(at)).attr("y", y(i))
          .attr("width", Math.max(1, x(at + n) - x(at))).attr("height", y.bandwidth()).attr("fill", COLOURS[key] || "#888")
          .append("title").text(r.label + " · " + levelName(key) + ": " + n);
        at += n;
      });
    });
    svg.append("g").attr("class", "labels").selectAll("text").data(rows).join("text")
      .attr("x", left - 6).attr("y", function (r, i) { return y(i) + y.bandwidth() / 2; })
      .attr("dy", "0.35em").attr("text-anchor", "end").text(function (r) { return r.label; });
    svg.append("g").attr("transform", "translate(0," + (rows.length * barH + 4) + ")").call(d3.axisBottom(x).ticks(5, "~s"));
    var legend = svg.append("g").attr("class", "legend").attr("transform", "translate(8," + (rows.length * barH + 34) + ")");
    keys.forEach(function (key, i) {
      var item = legend.append("g").attr("transform", "translate(" + (i * 92) + ",0)");
      item.append("rect").attr("width", 10).attr("height", 10).attr("fill", COLOURS[key] || "#888");
      item.append("text").attr("x", 14).attr("y", 9).text(levelName(key));
    });
    container.append(function () { return svg.node(); });
  }

  function histogram(container, name, dim, bins) {
    var width = 300, height = 150, left = 36, bottom = 24;
    var svg = d3.create("svg").attr("viewBox", [0, 0, width, height]).attr("width", width).attr("height", height)
      .attr("data-chart", name).attr("data-dimension", dim).attr("role", "img").attr("aria-label", dimName(dim));
    var x = d3.scaleLinear().domain([0, 100]).range([left, width - 8]);
    var y = d3.scaleLinear().domain([0, d3.max(bins) || 1]).nice().range([height - bottom, 18]);
    var step = 100 / bins.length;
    svg.append("text").attr("x", left).attr("y", 12).attr("class", "chart-title").text(dimName(dim));
    var g = svg.append("g").attr("class", "marks");
    bins.forEach(function (n, i) {
      if (!n) return;
      g.append("rect").attr("class", "mark").attr("x", x(i * step) + 1).attr("y", y(n))
        .attr("width", Math.max(1, x(step) - x(0) - 2)).attr("height", y(0) - y(n)).attr("fill", "#1f5fbf")
        .append("title").text((i * step) + "–" + (i === bins.length - 1 ? 100 : (i + 1) * step - 1) + ": " + n);
    });
    svg.append("g").attr("transform", "translate(0," + (height - bottom) + ")").call(d3.axisBottom(x).ticks(5));
    svg.append("g").attr("transform", "translate(" + left + ",0)").call(d3.axisLeft(y).ticks(4, "~s"));
    container.append(function () { return svg.node(); });
  }

  function ruleItems(pairs, bySeverity) {
    return pairs.map(function (p) {
      var info = D.rule_info[p[0]] || ["", "", ""];
      var colour = bySeverity ? (COLOURS[info[1]] || "#1f5fbf") : "#51667f";
      return {label: p[0], value: p[1], colour: colour, title: p[0] + " " + info[0]};
    });
  }

  function drawCharts() {
    var order = D.levels.slice().reverse().concat(["none", "error"]);
    var ratings = order.filter(function (r) { return D.by_rating[r] > 0; }).map(function (r) {
      return {label: levelName(r), value: D.by_rating[r], colour: COLOURS[r]};
    });
    hbar(d3.select("#chart-ratings"), "ratings", ratings, {left: 110, label: T.by_rating});
    var dimRows = D.dimensions.map(function (d) { return {label: dimName(d), counts: D.by_dimension[d]}; });
    stacked(d3.select("#chart-dimensions"), "dimensions", dimRows, D.levels.slice().reverse().concat(["none"]),
            {label: T.by_dimension});
    hbar(d3.select("#chart-drivers"), "drivers", ruleItems(D.top_drivers, true), {left: 90, label: T.top_rules});
    hbar(d3.select("#chart-waiting"), "waiting", ruleItems(D.top_waiting, false), {left: 90, label: T.top_missing});
    D.dimensions.forEach(function (d) { histogram(d3.select("#chart-scores"), "scores", d, D.scores[d]); });
    var regions = D.regions.slice(0, 20).map(function (r) { return {label: r[0], counts: r[1]}; });
    stacked(d3.select("#chart-regions"), "regions", regions, D.levels.slice().reverse().concat(["none"]),
            {label: T.by_region, left: 170});
    if (D.changes) {
      hbar(d3.select("#chart-changes"), "changes", D.changes.rating_moves.map(function (m) {
        return {label: levelName(m[0]) + " → " + levelName(m[1]), value: m[2], colour: COLOURS[m[1]] || "#888"};
      }), {left: 170, label: T.changed});
    }
    if (D.error_codes.length) {
      hbar(d3.select("#chart-errors"), "errors", D.error_codes.map(function (p) {
        return {label: p[0], value: p[1], colour: COLOURS.error};
      }), {left: 170, label: T.error_codes});
    }
  }

  /* ------------------------------------------------------------------ table */

  var C = {};
  Object.keys(D.columns).forEach(function (name) { C[name] = decode(D.columns[name]); });
  var RW = D.rule_width;
  var PAGE = 50;
  var state = {rows: null, page: 0, sortKey: "line", sortDir: 1, open: {}};

  function lineOf(i) { return D.sequential_lines ? i + 1 : C.line[i]; }
  function caseId(i) { return D.prefixes[C.idp[i]] + (C.idn[i] > 0 ? String(C.idn[i] - 1) : ""); }
  function driverText(i) { return C.drivers[i] ? D.driver_sets[C.drivers[i] - 1] : ""; }
  function drivers(i) { return decodeList(driverText(i), RW); }
  function profile(i) {
    var p = C.profile[i];
    if (!p) return null;
    var parts = D.profiles[p - 1].split(".");
    return {fired: decodeList(parts[0], RW), waiting: decodeList(parts[1], RW)};
  }
  function hasRule(text, code) {
    for (var p = 0; p + RW <= text.length; p += RW) if (text.substr(p, RW) === code) return true;
    return false;
  }
  function ruleCode(index) {
    var s = "";
    for (var j = 0; j < RW; j++) { s = DIGITS.charAt(index % 64) + s; index = Math.floor(index / 64); }
    return s;
  }

  var SORTS = {
    line: function (i) { return lineOf(i); },
    case: function (i) { return caseId(i); },
    rating: function (i) { return C.rating[i] * 10 + C.worst[i]; },
    needs: function (i) { return C.needs[i]; },
    region: function (i) { return C.region[i] ? D.region_names[C.region[i] - 1] : ""; },
    error: function (i) { return C.error[i] ? D.codes[C.error[i] - 1] : ""; }
  };
  D.dimensions.forEach(function (d) {
    SORTS["lvl_" + d] = function (i) { return C["lvl_" + d][i] * 100000 + C["score_" + d][i]; };
  });

  function filterRows() {
    var q = document.getElementById("f-search").value.trim();
    var rating = document.getElementById("f-rating").value;
    var region = document.getElementById("f-region").value;
    var dimLevel = document.getElementById("f-dim").value.split(":");
    var dimColumn = dimLevel.length === 2 ? C["lvl_" + dimLevel[0]] : null;
    var dimCode = dimColumn ? D.ratings.indexOf(dimLevel[1]) : -1;
    var needsOnly = document.getElementById("f-needs").checked;
    var errorsOnly = document.getElementById("f-errors").checked;
    var ratingCode = rating === "" ? -1 : D.ratings.indexOf(rating);
    var regionCode = region === "" ? -1 : Number(region);
    var ruleIndex = q ? D.rules.indexOf(q.toUpperCase()) : -1;
    var code = ruleIndex >= 0 ? ruleCode(ruleIndex) : null;
    var needle = q.toLowerCase();
    var rows = [];
    for (var i = 0; i < N; i++) {
      if (ratingCode >= 0 && C.rating[i] !== ratingCode) continue;
      if (regionCode >= 0 && C.region[i] !== regionCode) continue;
      if (dimColumn && (C.error[i] || dimColumn[i] !== dimCode)) continue;
      if (needsOnly && !C.needs[i]) continue;
      if (errorsOnly && !C.error[i]) continue;
      if (code !== null) {
        var p = C.profile[i] ? D.profiles[C.profile[i] - 1] : "";
        if (!hasRule(driverText(i), code) && !hasRule(p.split(".")[0], code)) continue;
      } else if (needle && caseId(i).toLowerCase().indexOf(needle) < 0) continue;
      rows.push(i);
    }
    state.rows = sortRows(rows);
    state.page = 0;
    render();
  }

  function sortRows(rows) {
    var key = SORTS[state.sortKey], dir = state.sortDir;
    var keys = new Map();
    rows.forEach(function (i) { keys.set(i, key(i)); });
    rows.sort(function (a, b) {
      var ka = keys.get(a), kb = keys.get(b);
      if (ka < kb) return -dir;
      if (ka > kb) return dir;
      return a - b;
    });
    return rows;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function badge(code) { return el("span", "badge lvl-" + code, levelName(code)); }

  function detailRow(i, span) {
    var tr = el("tr", "detail"), td = el("td");
    td.colSpan = span;
    var box = el("div", "detail-box");
    var dl = el("dl", "facts");
    D.dimensions.forEach(function (d) {
      dl.appendChild(el("dt", null, dimName(d)));
      var dd = el("dd");
      dd.appendChild(badge(D.ratings[C["lvl_" + d][i]]));
      dd.appendChild(document.createTextNode(" " + T.score + " " + (C["score_" + d][i] / 10)));
      dl.appendChild(dd);
    });
    dl.appendChild(el("dt", null, T.drivers));
    dl.appendChild(el("dd", null, drivers(i).map(function (r) { return D.rules[r]; }).join(", ") || T.none));
    box.appendChild(dl);
    var prof = profile(i);
    if (C.error[i]) {
      box.appendChild(el("p", null, T.error + ": " + D.codes[C.error[i] - 1]));
    } else if (prof) {
      box.appendChild(ruleList(T.fired + " (" + prof.fired.length + ")", prof.fired));
      box.appendChild(ruleList(T.needs_information + " (" + prof.waiting.length + ")", prof.waiting));
    } else {
      box.appendChild(el("p", "muted", T.truncated_short));
    }
    td.appendChild(box);
    tr.appendChild(td);
    return tr;
  }

  function ruleList(title, indices) {
    var wrap = el("div", "rule-list");
    wrap.appendChild(el("h4", null, title));
    var ul = el("ul");
    indices.forEach(function (r) {
      var id = D.rules[r], info = D.rule_info[id] || ["", "", ""];
      var li = el("li");
      if (info[1]) li.appendChild(badge(info[1]));
      li.appendChild(el("code", null, " " + id + " "));
      li.appendChild(document.createTextNode(info[0]));
      ul.appendChild(li);
    });
    wrap.appendChild(ul);
    return wrap;
  }

  function render() {
    var rows = state.rows, pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    var body = document.getElementById("cases-body");
    var span = document.querySelectorAll("#cases thead th").length;
    var frag = document.createDocumentFragment();
    rows.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (i) {
      var tr = el("tr", "case-row");
      tr.dataset.index = String(i);
      tr.appendChild(el("td", "num", String(lineOf(i))));
      var idCell = el("td", "case-id");
      var button = el("button", "expand", caseId(i));
      button.type = "button";
      button.setAttribute("aria-expanded", state.open[i] ? "true" : "false");
      button.addEventListener("click", function () { state.open[i] = !state.open[i]; render(); });
      idCell.appendChild(button);
      tr.appendChild(idCell);
      var rc = el("td");
      rc.appendChild(badge(D.ratings[C.rating[i]]));
      if (C.worst[i] !== C.rating[i]) {
        rc.appendChild(document.createTextNode(" → "));
        rc.appendChild(badge(D.ratings[C.worst[i]]));
      }
      tr.appendChild(rc);
      D.dimensions.forEach(function (d) {
        var cell = el("td");
        cell.appendChild(badge(D.ratings[C["lvl_" + d][i]]));
        if (D.ratings[C["lvl_" + d][i]] !== "none") cell.appendChild(el("span", "score", " " + (C["score_" + d][i] / 10)));
        tr.appendChild(cell);
      });
      tr.appendChild(el("td", "num", String(C.needs[i])));
      tr.appendChild(el("td", null, drivers(i).slice(0, 3).map(function (r) { return D.rules[r]; }).join(", ")));
      tr.appendChild(el("td", null, C.region[i] ? D.region_names[C.region[i] - 1] : ""));
      tr.appendChild(el("td", null, C.error[i] ? D.codes[C.error[i] - 1] : ""));
      frag.appendChild(tr);
      if (state.open[i]) frag.appendChild(detailRow(i, span));
    });
    body.replaceChildren(frag);
    var count = document.getElementById("match-count");
    count.dataset.count = String(rows.length);
    count.textContent = T.shown.replace("{n}", d3.format(",")(rows.length));
    document.getElementById("page-info").textContent = T.page + " " + (state.page + 1) + " " + T.of + " " + pages;
    document.getElementById("page-prev").disabled = state.page === 0;
    document.getElementById("page-next").disabled = state.page >= pages - 1;
    document.querySelectorAll("#cases thead th[data-sort]").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.sort === state.sortKey ? (state.sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }

  function setUp() {
    var select = document.getElementById("f-region");
    D.region_names.forEach(function (name, i) {
      var option = el("option", null, name);
      option.value = String(i + 1);
      select.appendChild(option);
    });
    ["f-search", "f-rating", "f-dim", "f-region", "f-needs", "f-errors"].forEach(function (id) {
      document.getElementById(id).addEventListener(id === "f-search" ? "input" : "change", filterRows);
    });
    document.querySelectorAll("#cases thead th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () {
        if (state.sortKey === th.dataset.sort) state.sortDir = -state.sortDir;
        else { state.sortKey = th.dataset.sort; state.sortDir = 1; }
        state.rows = sortRows(state.rows);
        state.page = 0;
        render();
      });
    });
    document.getElementById("page-prev").addEventListener("click", function () { state.page -= 1; render(); });
    document.getElementById("page-next").addEventListener("click", function () { state.page += 1; render(); });
  }

  drawCharts();
  setUp();
  filterRows();
  document.documentElement.dataset.ready = "true";
})();
