// Organisation pages (readiness, subsidies, awareness, rectification, directory, trainings): bar charts drawn
// with the vendored Apache ECharts from data the page renders with json_script — no inline script (CSP).
//   <div class="chart" data-chart="some-id"></div> {{ chart|json_script:"some-id" }}
// The data: {categories, series: [{name, data, color, dashed}], stacked, horizontal, percent, target, line}
// (line: the series are drawn as lines, e.g. the calendar's planned-against-actual progress of a phase).
(function () {
  "use strict";

  function read(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function option(spec) {
    var valueAxis = { type: "value" };
    if (spec.percent) {
      valueAxis.max = 100;
      valueAxis.axisLabel = { formatter: "{value}%" };
    }
    var categoryAxis = {
      type: "category",
      data: spec.categories,
      axisLabel: { interval: 0, rotate: !spec.horizontal && spec.categories.length > 6 ? 40 : 0, width: 120, overflow: "truncate" }
    };
    if (spec.horizontal) {
      categoryAxis.inverse = true;
    }
    var series = spec.series.map(function (s) {
      var item = spec.line
        ? { name: s.name, type: "line", data: s.data, color: s.color, showSymbol: false, lineStyle: s.dashed ? { type: "dashed" } : undefined }
        : { name: s.name, type: "bar", data: s.data, color: s.color, barMaxWidth: 28 };
      if (spec.stacked) {
        item.stack = "total";
      }
      return item;
    });
    if (spec.target !== null && spec.target !== undefined && series.length) {
      series[0].markLine = {
        symbol: "none",
        silent: true,
        lineStyle: { color: "#b3261e", type: "dashed" },
        data: [spec.horizontal ? { xAxis: spec.target } : { yAxis: spec.target }]
      };
    }
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: spec.percent ? function (v) { return v === null || v === undefined ? "—" : v + "%"; } : undefined },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? valueAxis : categoryAxis,
      yAxis: spec.horizontal ? categoryAxis : valueAxis,
      series: series
    };
  }

  function init() {
    if (typeof echarts === "undefined") {
      return;
    }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var spec = read(element.getAttribute("data-chart"));
      if (!spec || !spec.categories.length) {
        element.setAttribute("data-rendered", "empty");
        element.classList.add("chart-empty");
        return;
      }
      if (spec.horizontal) {
        // One bar row needs about 28 px; the class picks the nearest height (no inline styles under the CSP).
        var size = Math.min(6, Math.max(1, Math.ceil(spec.categories.length / 6)));
        element.classList.add("chart-rows-" + size);
      }
      var chart = echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(option(spec));
      element.setAttribute("data-rendered", "true");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
