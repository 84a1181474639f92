// Per-minute charts of the show so far (uPlot). The numbers arrive in #chart-data,
// swapped in by every websocket push; the charts themselves stay and are only fed.
(function () {
  "use strict";
  var charts = {};

  function readData() {
    var holder = document.getElementById("chart-data");
    if (!holder) return null;
    return { tz: holder.dataset.timezone, series: JSON.parse(holder.dataset.series) };
  }

  function options(el, tz) {
    return {
      width: el.clientWidth || 300,
      height: 160,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      legend: { live: true },
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
      var points = [data.series.x, data.series[el.dataset.series]];
      var chart = charts[el.id];
      if (chart) {
        chart.setData(points);
      } else {
        chart = charts[el.id] = new uPlot(options(el, data.tz), points, el);
        el.chart = chart; // for tests and the browser console
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
