// Shows compared on one chart per metric: each show a line, minutes counted from its own
// start, so a 20:00 show and a 14:00 show line up segment for segment.
(function () {
  "use strict";
  var COLOURS = ["#3b82f6", "#f97316", "#22c55e", "#a855f7"];

  function draw() {
    var holders = Array.prototype.slice.call(document.querySelectorAll(".compare-data"));
    if (!holders.length || typeof uPlot === "undefined") return;
    var shows = holders.map(function (holder) {
      return { title: holder.dataset.title, start: Number(holder.dataset.start), series: JSON.parse(holder.dataset.series) };
    });
    var section = document.querySelector(".compare-charts");
    document.querySelectorAll(".compare-charts .chart").forEach(function (el) {
      var metric = el.dataset.series;
      var byMinute = {};
      shows.forEach(function (show, i) {
        show.series.x.forEach(function (x, k) {
          var minute = Math.round((x - show.start) / 60);
          if (minute < 0) return;
          (byMinute[minute] = byMinute[minute] || [])[i] = show.series[metric][k];
        });
      });
      var xs = Object.keys(byMinute).map(Number).sort(function (a, b) { return a - b; });
      var data = [xs].concat(shows.map(function (_, i) {
        return xs.map(function (m) { var v = byMinute[m][i]; return v === undefined ? null : v; });
      }));
      el.textContent = "";
      var chart = new uPlot({
        title: el.dataset.label, width: Math.max(320, el.clientWidth || section.clientWidth), height: 220,
        scales: { x: { time: false } },
        axes: [{ label: section.dataset.minutesLabel }, {}],
        series: [{ label: section.dataset.minutesLabel }].concat(shows.map(function (show, i) {
          return { label: show.title, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: false };
        })),
      }, data, el);
      el.chart = chart;
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
