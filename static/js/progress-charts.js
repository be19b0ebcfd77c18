// Progress dashboards: the daily-progress and forms-by-state charts (Apache ECharts, vendored).
// The data come from json_script elements rendered by the page, so no inline script is needed (CSP).
(function () {
  "use strict";

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var STATE_COLOURS = {
    hh_listed: "#c9ced6",
    hh_draft: "#f0c36d",
    hh_signed: "#7aa7e0",
    hh_returned: "#e06c5a",
    hh_approved: "#4f8fd6",
    hh_accepted: "#2e8b57",
    hh_locked: "#1d5e3a"
  };

  function dailyChart(element, daily, labels, households) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 56, right: 16, top: 36, bottom: 40 },
      xAxis: { type: "category", data: daily.days.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", max: function (value) { return Math.max(value.max, households); } },
      series: [
        { name: labels.started, type: "line", showSymbol: false, data: daily.started, color: "#4f8fd6" },
        { name: labels.signed, type: "line", showSymbol: false, data: daily.signed, color: "#2e8b57" },
        {
          name: labels.households, type: "line", showSymbol: false, color: "#b3261e",
          lineStyle: { type: "dashed" },
          data: daily.days.map(function () { return households; })
        }
      ].concat(daily.planned ? [{
        // The registration phase's planned line (the district's calendar): what "on schedule" means each day.
        name: labels.planned, type: "line", showSymbol: false, data: daily.planned, color: "#8a5a00",
        lineStyle: { type: "dotted", width: 2 }
      }] : [])
    });
    return chart;
  }

  function stateChart(element, states, labels) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    var series = Object.keys(states.series).map(function (key) {
      return {
        name: labels.states[key], type: "bar", stack: "states", data: states.series[key],
        color: STATE_COLOURS[key], barMaxWidth: 28
      };
    });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: 56, right: 16, top: 36, bottom: 64 },
      xAxis: { type: "category", data: states.categories, axisLabel: { interval: 0, rotate: states.categories.length > 6 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: series
    });
    return chart;
  }

  // The population pyramid: men drawn to the left (negative values), women to the right; labels unsigned.
  function pyramidChart(element, pyramid, labels) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    var unsigned = function (value) { return Math.abs(value); };
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: unsigned
      },
      legend: { top: 0 },
      grid: { left: 56, right: 24, top: 36, bottom: 32 },
      xAxis: { type: "value", axisLabel: { formatter: unsigned } },
      yAxis: { type: "category", data: pyramid.groups, axisTick: { show: false } },
      series: [
        { name: labels.male, type: "bar", stack: "sex", data: pyramid.male, color: "#4f8fd6", barCategoryGap: "10%" },
        { name: labels.female, type: "bar", stack: "sex", data: pyramid.female, color: "#d65f8f" }
      ]
    });
    return chart;
  }

  function init() {
    if (typeof echarts === "undefined") { return; }
    var labels = data("progress-labels");
    var charts = [];
    var daily = data("progress-daily");
    var dailyElement = document.getElementById("chart-daily");
    if (daily && dailyElement) {
      var households = Number(document.getElementById("progress-households").getAttribute("data-value"));
      charts.push(dailyChart(dailyElement, daily, labels, households));
      dailyElement.setAttribute("data-rendered", "true");
    }
    var states = data("progress-states");
    var statesElement = document.getElementById("chart-states");
    if (states && statesElement) {
      charts.push(stateChart(statesElement, states, labels));
      statesElement.setAttribute("data-rendered", "true");
    }
    var pyramid = data("progress-pyramid");
    var pyramidElement = document.getElementById("chart-pyramid");
    if (pyramid && pyramidElement) {
      charts.push(pyramidChart(pyramidElement, pyramid, labels));
      pyramidElement.setAttribute("data-rendered", "true");
    }
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
