/* Dashboard page: fetch every widget's data as JSON, draw numbers, tables and Chart.js charts,
   refresh every refreshSeconds (only while the tab is visible) and on demand. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const text = config.text || {};
  const form = document.getElementById("dash-filters");
  const statusBox = document.getElementById("dash-status");
  const charts = {};
  const PALETTE = ["#0b5cad", "#e07b00", "#1e7d32", "#b3261e", "#6a3fb5", "#00838f", "#8d6e00", "#c2185b",
                   "#5b6470", "#2e7d9a"];
  const CHART_TYPES = { bar: "bar", line: "line", pie: "pie" };
  let pending = null;

  const numberFormat = new Intl.NumberFormat(config.language, { maximumFractionDigits: 2 });

  function formatValue(value, format) {
    if (value === null || value === undefined) return "–";
    if (format === "duration") return formatDuration(value);
    if (typeof value === "number") return numberFormat.format(value);
    return String(value);
  }

  function formatDuration(seconds) {
    const total = Math.round(Number(seconds));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function wholeNumbers(format) {
    return format === "integer" || format === "duration";
  }

  function filterQuery() {
    const params = new URLSearchParams();
    if (!form) return params;
    for (const [key, value] of new FormData(form)) {
      if (String(value).trim() !== "") params.append(key, value);
    }
    return params;
  }

  function setStatus(message, isError) {
    statusBox.textContent = message;
    statusBox.classList.toggle("error", Boolean(isError));
  }

  async function refresh() {
    if (pending) pending.abort();
    const controller = new AbortController();
    pending = controller;
    const query = filterQuery().toString();
    try {
      const response = await fetch(config.dataUrl + (query ? "?" + query : ""), {
        headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal,
      });
      const body = await response.json().catch(() => ({ error: response.statusText }));
      if (!response.ok) {
        setStatus(body.error || text.failed, true);
        return;
      }
      for (const widget of config.widgets) draw(widget, body.widgets[widget.name] || {});
      setStatus((text.updated || "Updated") + " " + new Date().toLocaleTimeString(config.language), false);
    } catch (err) {
      if (err.name !== "AbortError") setStatus(text.failed || "Could not load the dashboard", true);
    } finally {
      if (pending === controller) pending = null;
    }
  }

  function draw(widget, data) {
    const card = document.querySelector('[data-widget="' + widget.name + '"]');
    if (!card) return;
    card.setAttribute("aria-busy", "false");
    const errorBox = card.querySelector(".widget-error");
    errorBox.hidden = !data.error;
    errorBox.textContent = data.error || "";
    if (data.error) return;
    if (widget.type === "number") {
      card.querySelector("[data-value]").textContent = formatValue(data.value, data.format);
    } else if (widget.type === "table") {
      drawTable(card, data);
    } else {
      drawChart(card, widget, data);
    }
  }

  function drawTable(card, data) {
    const head = card.querySelector("thead"), body = card.querySelector("tbody");
    const headRow = document.createElement("tr");
    for (const column of data.columns || []) {
      const th = document.createElement("th");
      th.textContent = column.label;
      headRow.appendChild(th);
    }
    head.replaceChildren(headRow);
    body.replaceChildren(...(data.rows || []).map((row) => {
      const tr = document.createElement("tr");
      row.forEach((value, i) => {
        const td = document.createElement("td");
        const format = (data.columns[i] || {}).type;
        td.textContent = value === null ? "" : formatValue(value, format);
        if (typeof value === "number") td.className = "num";
        tr.appendChild(td);
      });
      return tr;
    }));
  }

  function datasets(widget, data) {
    if (data.series) {
      return data.series.map((s, i) => ({
        label: s.label, data: s.values, spanGaps: true,
        backgroundColor: s.color || PALETTE[i % PALETTE.length], borderColor: s.color || PALETTE[i % PALETTE.length],
      }));
    }
    const colors = (data.labels || []).map((_, i) => (data.colors && data.colors[i]) || PALETTE[i % PALETTE.length]);
    const single = widget.type === "line" ? PALETTE[0] : colors;
    return [{ data: data.values, backgroundColor: single, borderColor: widget.type === "pie" ? "#fff" : single,
              spanGaps: true }];
  }

  function drawChart(card, widget, data) {
    const box = card.querySelector(".widget-chart");
    if (!window.Chart) {
      box.textContent = text.noCharts || "Charts are not available (run make static).";
      return;
    }
    const chartData = { labels: data.labels || [], datasets: datasets(widget, data) };
    const existing = charts[widget.name];
    if (existing) {
      existing.data = chartData;
      existing.update();
      return;
    }
    const isPie = widget.type === "pie";
    charts[widget.name] = new window.Chart(box.querySelector("canvas"), {
      type: CHART_TYPES[widget.type] || "bar",
      data: chartData,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: isPie || Boolean(data.series) },
          tooltip: { callbacks: { label: (ctx) => (ctx.dataset.label ? ctx.dataset.label + ": " : "") +
                                                   formatValue(isPie ? ctx.parsed : ctx.parsed.y, data.format) } },
        },
        scales: isPie ? {} : { y: { beginAtZero: true, ticks: {
          precision: wholeNumbers(data.format) ? 0 : undefined, callback: (v) => formatValue(v, data.format) } } },
      },
    });
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = filterQuery().toString();
      history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
      refresh();
    });
    form.addEventListener("change", () => form.requestSubmit());
  }
  document.getElementById("dash-refresh").addEventListener("click", refresh);
  if (config.refreshSeconds) {
    window.setInterval(() => { if (!document.hidden) refresh(); }, config.refreshSeconds * 1000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  }
  refresh();
})();
