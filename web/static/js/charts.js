// Per-minute charts of the show so far (uPlot). The numbers arrive in #chart-data,
// swapped in by every websocket push; the charts themselves stay and are only fed.
// Minutes are merged by time: the page brings the show's archived minutes, pushes bring
// the live ones, and a minute the push no longer carries stays on the chart.
// Times read in the show's time zone (#chart-data's data-timezone), 24-hour HH:mm.
// Marks: segment changes, alerts (in their level's colour), cues, playbooks (and, in a
// review, messages to the host), each drawn as a labelled line, named in a legend above
// the charts and in a tooltip when the pointer is on one.
(function () {
  "use strict";
  var charts = {};
  var minutes = {}; // x (Unix s) -> {online, comments, likes, gmv}
  var marks = []; // {x (Unix s), kind, level, text}, segment changes included
  var markers = []; // as #chart-data carries them (tests and the console)
  var segments = []; // [x (Unix s), title] of each segment start
  var clock = null;
  var LEVEL_COLOURS = { red: "#ef4444", yellow: "#eab308", blue: "#3b82f6" };
  // Keep in step with the swatches in feedback.css.
  var KINDS = {
    segment: { colour: "#8b98a5", dash: [4, 4], width: 1, row: 0 },
    alert: { colour: "#ef4444", dash: [], width: 2, row: 1 },
    cue: { colour: "#22c55e", dash: [2, 3], width: 1.5, row: 2 },
    playbook: { colour: "#a855f7", dash: [8, 3], width: 2, row: 3 },
    message: { colour: "#06b6d4", dash: [1, 3], width: 1.5, row: 3 },
  };
  var LEGEND = ["segment", "alert", "cue", "playbook"];
  var FALLBACK = { marks: "Chart marks", segment: "Segment change", alert: "Alert", cue: "Cue",
                   playbook: "Playbook", message: "Message to the host" };
  var NEAR_PX = 5;

  function kindName(kind) {
    var holder = document.getElementById("ui-strings");
    var key = kind === "marks" ? "marks" : "mark" + kind.charAt(0).toUpperCase() + kind.slice(1);
    return (holder && holder.dataset[key]) || FALLBACK[kind] || kind;
  }

  // 24-hour HH:mm in the show's time zone, whatever the browser's language and zone.
  function clockIn(tz) {
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    var format;
    try {
      format = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: tz || undefined }, options));
    } catch (e) {
      format = new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the browser's
    }
    return function (seconds) {
      var hour = "00", minute = "00";
      format.formatToParts(new Date(seconds * 1000)).forEach(function (part) {
        if (part.type === "hour") hour = part.value;
        if (part.type === "minute") minute = part.value;
      });
      return (hour.length < 2 ? "0" : "") + hour + ":" + (minute.length < 2 ? "0" : "") + minute;
    };
  }

  function markText(marker) {
    var english = document.documentElement.lang === "en";
    return (english && marker.name_en) || marker.name || marker.text || "";
  }

  function readData() {
    var holder = document.getElementById("chart-data");
    if (!holder) return null;
    var series = JSON.parse(holder.dataset.series);
    series.x.forEach(function (x, i) {
      var row = minutes[x] = minutes[x] || {};
      Object.keys(series).forEach(function (name) {
        if (name !== "x") row[name] = series[name][i];
      });
    });
    markers = JSON.parse(holder.dataset.markers || "[]");
    segments = JSON.parse(holder.dataset.segments || "[]");
    marks = segments.map(function (segment) { return { x: segment[0], kind: "segment", text: segment[1] }; })
      .concat(markers.map(function (marker) {
        return { x: marker.x, kind: KINDS[marker.kind] ? marker.kind : "alert", level: marker.level, text: markText(marker) };
      }));
    clock = clock || clockIn(holder.dataset.timezone);
    return { tz: holder.dataset.timezone };
  }

  function points(name) {
    var xs = Object.keys(minutes).map(Number).sort(function (a, b) { return a - b; });
    return [xs, xs.map(function (x) { return minutes[x][name]; })];
  }

  function colourOf(mark) {
    return mark.kind === "alert" ? LEVEL_COLOURS[mark.level] || KINDS.alert.colour : KINDS[mark.kind].colour;
  }

  // Each mark a vertical line over the plot, its label at the top in its kind's row. A
  // label that would run into the one before it in its row is left out: dense marks stay
  // readable, and every mark is still named in the tooltip.
  function drawMarks(u) {
    var ctx = u.ctx;
    var dpr = devicePixelRatio;
    var rowEnds = {};  // row -> where the last label drawn in it ends
    ctx.save();
    ctx.font = 10 * dpr + "px sans-serif";
    marks.slice().sort(function (a, b) { return a.x - b.x; }).forEach(function (mark) {
      var left = u.valToPos(mark.x, "x", true);
      if (left < u.bbox.left || left > u.bbox.left + u.bbox.width) return;
      var kind = KINDS[mark.kind];
      ctx.strokeStyle = ctx.fillStyle = colourOf(mark);
      ctx.lineWidth = kind.width * dpr;
      ctx.setLineDash(kind.dash.map(function (d) { return d * dpr; }));
      ctx.beginPath();
      ctx.moveTo(left, u.bbox.top);
      ctx.lineTo(left, u.bbox.top + u.bbox.height);
      ctx.stroke();
      if (mark.text) {
        var label = mark.text.length > 10 ? mark.text.slice(0, 9) + "…" : mark.text;
        var width = ctx.measureText(label).width;
        var x = left + 3 * dpr;
        if (x + width > u.bbox.left + u.bbox.width) x = left - 3 * dpr - width; // near the right edge
        if (rowEnds[kind.row] !== undefined && x < rowEnds[kind.row] + 4 * dpr) return;
        rowEnds[kind.row] = x + width;
        ctx.fillText(label, x, u.bbox.top + (10 + 11 * kind.row) * dpr);
      }
    });
    ctx.restore();
  }

  // The marks under the pointer, in a tooltip over the plot.
  function showTip(u) {
    var tip = u.root.querySelector(".chart-tip");
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "chart-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      u.over.appendChild(tip);
    }
    var left = u.cursor.left;
    var near = left == null || left < 0 ? [] : marks.filter(function (mark) {
      return Math.abs(u.valToPos(mark.x, "x") - left) <= NEAR_PX;
    });
    if (!near.length) { tip.hidden = true; return; }
    tip.textContent = near.map(function (mark) {
      return clock(mark.x) + " " + kindName(mark.kind) + (mark.text ? "：" + mark.text : "");
    }).join("\n");
    tip.hidden = false;
    var width = tip.offsetWidth;
    tip.style.left = Math.max(0, Math.min(left + 8, u.over.clientWidth - width)) + "px";
    tip.style.top = Math.max(0, (u.cursor.top || 0) - tip.offsetHeight - 8) + "px";
  }

  // The legend, once above each group of charts (a review adds messages to the host).
  function drawLegend() {
    var kinds = LEGEND.concat(marks.some(function (m) { return m.kind === "message"; }) ? ["message"] : []);
    document.querySelectorAll(".charts").forEach(function (section) {
      var legend = section.querySelector(".chart-legend");
      if (legend && legend.dataset.kinds === kinds.join(" ")) return;
      if (!legend) {
        legend = document.createElement("ul");
        legend.className = "chart-legend";
        section.insertBefore(legend, section.querySelector(".chart"));
      }
      legend.dataset.kinds = kinds.join(" ");
      legend.setAttribute("aria-label", kindName("marks"));
      legend.textContent = "";
      kinds.forEach(function (kind) {
        var item = document.createElement("li");
        item.dataset.kind = kind;
        (kind === "alert" ? ["red", "yellow", "blue"] : [""]).forEach(function (level) {
          var swatch = document.createElement("span");
          swatch.className = "mark-swatch kind-" + kind + (level ? " level-" + level : "");
          swatch.setAttribute("aria-hidden", "true");
          item.appendChild(swatch);
        });
        item.appendChild(document.createTextNode(kindName(kind)));
        legend.appendChild(item);
      });
    });
  }

  function options(el, tz) {
    return {
      width: el.clientWidth || 300,
      height: 160,
      tzDate: function (ts) {
        try { return uPlot.tzDate(new Date(ts * 1e3), tz); } catch (e) { return new Date(ts * 1e3); }
      },
      legend: { live: true },
      hooks: { draw: [drawMarks], setCursor: [showTip] },
      scales: {
        x: {
          time: true,
          // A mark of the minute in progress (after the last point) stays in view.
          range: function (u, min, max) {
            // From the data itself: for a single minute uPlot offers a range of 1000 days.
            var xs = u.data && u.data[0];
            if (xs && xs.length) { min = xs[0]; max = xs[xs.length - 1]; }
            if (min == null) return [null, null];
            var high = max;
            marks.forEach(function (mark) { if (mark.x > high && mark.x <= max + 60) high = mark.x; });
            if (high > max) high += 10; // not on the edge
            return min === high ? [min - 60, high + 60] : [min, high];
          },
        },
      },
      series: [
        { label: el.parentElement.dataset.timeLabel, value: function (u, v) { return v == null ? "--" : clock(v); } },
        { label: el.dataset.label, stroke: "#3b82f6", fill: "rgba(59,130,246,0.15)", width: 2 },
      ],
      axes: [
        {
          stroke: "#8b98a5", grid: { stroke: "#2a333d" },
          // Whole minutes, labelled HH:mm.
          incrs: [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400],
          values: function (u, splits) { return splits.map(function (s) { return s == null ? "" : clock(s); }); },
        },
        { stroke: "#8b98a5", grid: { stroke: "#2a333d" }, size: 60 },
      ],
    };
  }

  function draw() {
    var data = readData();
    if (!data || typeof uPlot === "undefined") return;
    drawLegend();
    document.querySelectorAll(".chart[data-series]").forEach(function (el) {
      var chart = charts[el.id];
      if (chart) {
        chart.setData(points(el.dataset.series));
      } else {
        chart = charts[el.id] = new uPlot(options(el, data.tz), points(el.dataset.series), el);
        el.chart = chart; // for tests and the browser console
        el.markers = function () { return markers; };
        el.segments = function () { return segments; };
        el.marks = function () { return marks; };
        el.axisLabels = function () { return (chart.axes[0]._values || []).filter(Boolean); };
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    // A push morphs #chart-data (or replaces it, a child of .charts): redraw either way.
    var section = document.querySelector(".charts");
    if (section) new MutationObserver(draw).observe(section, { childList: true });
    document.body.addEventListener("htmx:oobAfterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "chart-data") draw();
    });
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      var el = document.getElementById(id);
      charts[id].setSize({ width: el.clientWidth, height: 160 });
    });
  });
})();
