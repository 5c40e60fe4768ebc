/* Fieldwork page: the per-day chart (stacked bars, one trace per enumerator) and "select all" checkboxes.
   The data come from the chart element's data-chart attribute; no inline script (CSP script-src 'self'). */
(function () {
  "use strict";

  function drawChart() {
    var element = document.getElementById("fw-chart");
    if (!element || typeof Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(element.getAttribute("data-chart"));
    var traces = data.traces.map(function (trace) {
      return { type: "bar", name: trace.name, x: data.days, y: trace.y, hovertemplate: "%{x}: %{y}<extra>" + trace.name + "</extra>" };
    });
    var layout = {
      barmode: "stack",
      margin: { t: 10, r: 10, b: 40, l: 40 },
      legend: { orientation: "h", y: -0.2 },
      xaxis: { type: "category", automargin: true },
      yaxis: { title: { text: "submissions" }, rangemode: "tozero" }
    };
    Plotly.newPlot(element, traces, layout, { responsive: true, displaylogo: false });
  }

  function wireSelectAll() {
    document.querySelectorAll(".fw-select-all").forEach(function (box) {
      box.addEventListener("change", function () {
        var form = box.closest("form");
        form.querySelectorAll('input[name="submission"]').forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
  }

  drawChart();
  wireSelectAll();
})();
