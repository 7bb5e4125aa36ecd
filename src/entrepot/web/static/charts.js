// The console's chart component: every element with data-chart="ID" is drawn with Apache ECharts
// (vendor/echarts-6.1.0) from the JSON in <script type="application/json" id="ID-data"> (web/charts.py's
// Chart.spec). The figure's table beside it is the text alternative, so the drawing is hidden from
// assistive technology (aria-hidden on the element) rather than described twice.
(function () {
  "use strict";
  var PALETTE = ["#1f5fa8", "#c8553d", "#2a9d8f", "#8a5a9e", "#e0a100", "#5c6b73", "#7a9e2f", "#b23a7a"];

  function seriesOf(spec) {
    var out = spec.series.map(function (s) {
      return {
        name: s.name,
        type: spec.kind,
        data: s.values,
        stack: s.stack || undefined,
        connectNulls: false,
        symbolSize: 6,
        lineStyle: s.dashed ? { type: "dashed" } : undefined,
        emphasis: { focus: "series" }
      };
    });
    if (spec.levels.length && out.length) {
      out[0].markLine = {
        symbol: "none",
        label: { formatter: "{b}", position: "insideEndTop" },
        lineStyle: { color: "#333", type: "dotted" },
        data: spec.levels.map(function (l) { return { name: l.name, yAxis: l.value }; })
      };
    }
    return out;
  }

  function optionOf(spec, narrow) {
    return {
      color: PALETTE,
      animation: false,
      aria: { enabled: false },
      tooltip: { trigger: "axis" },
      // the legend on its own line at the top right, the value axis' unit below it at the left: apart
      // at any width
      legend: { type: "scroll", top: 0, right: 8, left: narrow ? 8 : "auto" },
      grid: { left: 8, right: narrow ? 8 : 24, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", name: spec.unit, nameTextStyle: { align: "left" } },
      series: seriesOf(spec)
    };
  }

  // A scatter (web/charts.py's Scatter): x against y, each point coloured by its value on a continuous
  // scale whose legend (a visualMap: the full ECharts build) stands at the right, or below on a phone.
  function scatterOptionOf(spec, narrow) {
    var values = spec.points.map(function (p) { return p.value; });
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    return {
      animation: false,
      aria: { enabled: false },
      tooltip: {
        trigger: "item",
        formatter: function (item) {
          var p = spec.points[item.dataIndex];
          return p.label + "<br>" + spec.x_name + ": " + p.x + "<br>" + spec.y_name + ": " + p.y +
            "<br>" + spec.value_name + ": " + p.value;
        }
      },
      grid: { left: 8, right: narrow ? 16 : 120, top: 40, bottom: narrow ? 76 : 40, containLabel: true },
      xAxis: { type: "value", name: spec.x_name, nameLocation: "middle", nameGap: 26, scale: true },
      yAxis: { type: "value", name: spec.y_name, nameTextStyle: { align: "left" }, scale: true },
      visualMap: {
        type: "continuous",
        dimension: 2,
        min: low,
        max: high > low ? high : low + 1,
        text: [spec.value_name + " " + high.toFixed(spec.decimals), low.toFixed(spec.decimals)],
        calculable: false,
        orient: narrow ? "horizontal" : "vertical",
        right: narrow ? "center" : 8,
        top: narrow ? undefined : "middle",
        bottom: narrow ? 0 : undefined,
        inRange: { color: ["#2a9d8f", "#e0a100", "#c8553d"] }
      },
      series: [{
        type: "scatter",
        symbolSize: 14,
        data: spec.points.map(function (p) { return [p.x, p.y, p.value]; }),
        // on a phone a point is named by its number alone (Option 3 reads 3), and labels that would
        // overlap are left out: the table names them all
        label: {
          show: true,
          position: "top",
          formatter: function (item) {
            var label = spec.points[item.dataIndex].label;
            return narrow ? label.replace(/^\D+/, "") || label : label;
          }
        },
        labelLayout: { hideOverlap: true }
      }]
    };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart") + "-data");
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: "svg" });
    var options = spec.kind === "scatter" ? scatterOptionOf : optionOf;
    chart.setOption(options(spec, element.clientWidth < 500));
    window.addEventListener("resize", function () {
      chart.setOption(options(spec, element.clientWidth < 500));
      chart.resize();
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
