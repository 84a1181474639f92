// Per-minute charts of the show so far (uPlot). The numbers arrive in #chart-data,
// swapped in by every websocket push; the charts themselves stay and are only fed.
// Minutes are merged by time: the page brings the show's archived minutes, pushes bring
// the live ones, and a minute the push no longer carries stays on the chart.
(function () {
  "use strict";
  var charts = {};
  var minutes = {}; // x (Unix s) -> {online, comments, likes, gmv}
  var markers = [];
  var segments = []; // [x (Unix s), title] of each segment start
  var LEVEL_COLOURS = { red: "#ef4444", yellow: "#eab308", blue: "#3b82f6" };

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
    return { tz: holder.dataset.timezone };
  }

  function points(name) {
    var xs = Object.keys(minutes).map(Number).sort(function (a, b) { return a - b; });
    return [xs, xs.map(function (x) { return minutes[x][name]; })];
  }

  // Segment changes as dashed grey lines with the segment's title; alerts as solid lines
  // in their level's colour, at the minute they fired.
  function drawMarkers(u) {
    var ctx = u.ctx;
    ctx.save();
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.lineWidth = devicePixelRatio;
    ctx.strokeStyle = "#8b98a5";
    ctx.fillStyle = "#8b98a5";
    ctx.font = 10 * devicePixelRatio + "px sans-serif";
    segments.forEach(function (segment) {
      var left = u.valToPos(segment[0], "x", true);
      if (left < u.bbox.left || left > u.bbox.left + u.bbox.width) return;
      ctx.beginPath();
      ctx.moveTo(left, u.bbox.top);
      ctx.lineTo(left, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(segment[1].slice(0, 12), left + 3 * devicePixelRatio, u.bbox.top + 10 * devicePixelRatio);
    });
    ctx.setLineDash([]);
    ctx.lineWidth = 2 * devicePixelRatio;
    markers.forEach(function (marker) {
      var left = u.valToPos(marker.x, "x", true);
      if (left < u.bbox.left || left > u.bbox.left + u.bbox.width) return;
      ctx.strokeStyle = LEVEL_COLOURS[marker.level] || "#8b98a5";
      ctx.beginPath();
      ctx.moveTo(left, u.bbox.top);
      ctx.lineTo(left, u.bbox.top + u.bbox.height);
      ctx.stroke();
    });
    ctx.restore();
  }

  function options(el, tz) {
    return {
      width: el.clientWidth || 300,
      height: 160,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      legend: { live: true },
      hooks: { draw: [drawMarkers] },
      series: [
        { label: el.parentElement.dataset.timeLabel },
        { label: el.dataset.label, stroke: "#3b82f6", fill: "rgba(59,130,246,0.15)", width: 2 },
      ],
      axes: [
        { stroke: "#8b98a5", grid: { stroke: "#2a333d" } },
        { stroke: "#8b98a5", grid: { stroke: "#2a333d" }, size: 60 },
      ],
    };
  }

  function draw() {
    var data = readData();
    if (!data || typeof uPlot === "undefined") return;
    document.querySelectorAll(".chart[data-series]").forEach(function (el) {
      var chart = charts[el.id];
      if (chart) {
        chart.setData(points(el.dataset.series));
      } else {
        chart = charts[el.id] = new uPlot(options(el, data.tz), points(el.dataset.series), el);
        el.chart = chart; // for tests and the browser console
        el.markers = function () { return markers; };
        el.segments = function () { return segments; };
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    // A push replaces #chart-data (a child of .charts): redraw whenever that happens.
    var section = document.querySelector(".charts");
    if (section) new MutationObserver(draw).observe(section, { childList: true });
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      var el = document.getElementById(id);
      charts[id].setSize({ width: el.clientWidth, height: 160 });
    });
  });
})();
