/* Leadership dashboard: charts drawn with the vendored Chart.js from the numbers the page
   passes with json_script (CSP forbids inline script). Every number is also in a table. */
(function () {
  "use strict";

  function showCustomRange() {
    var select = document.querySelector("#dashboard-filters select[name=period]");
    if (!select) return;
    var toggle = function () {
      document.querySelectorAll("#dashboard-filters .custom-range").forEach(function (el) {
        el.classList.toggle("d-none", select.value !== "custom");
      });
    };
    select.addEventListener("change", toggle);
    toggle();
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = false; // weak connections, slow phones, and print
    Chart.defaults.maintainAspectRatio = false;
    var charts = [];

    var trend = document.getElementById("chart-trend");
    if (trend) {
      charts.push(new Chart(trend, {
        type: "bar",
        data: {
          labels: data.trend.labels,
          datasets: [
            { label: data.trend.raisedLabel, data: data.trend.raised, backgroundColor: "#0d6efd" },
            { label: data.trend.resolvedLabel, data: data.trend.resolved, backgroundColor: "#198754" }
          ]
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      }));
    }

    var colours = document.getElementById("chart-colours");
    if (colours) {
      var total = data.colours.values.reduce(function (a, b) { return a + b; }, 0);
      charts.push(new Chart(colours, {
        type: "bar",
        data: {
          labels: data.colours.labels,
          datasets: [{ data: data.colours.values, backgroundColor: ["#dc3545", "#ffc107", "#0d6efd"] }]
        },
        options: {
          indexAxis: "y",
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, suggestedMax: total ? undefined : 1, ticks: { precision: 0 } } }
        }
      }));
    }

    // Canvas keeps its screen size when printing unless told to re-measure.
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showCustomRange();
    draw();
  });
})();
