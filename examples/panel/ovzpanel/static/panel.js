// ovz-panel's live parts: server-sent events from /events (a sample a second, each failcnt
// event as it comes) update the tables, the plots and the list of refusals in place.
"use strict";

const UNLIMITED = 2 ** 63 - 1;
const shown = (v) => (v >= UNLIMITED ? "unlimited" : String(v));
const history = document.getElementById("history");
const points = history ? JSON.parse(history.dataset.points) : [];
const ubcTable = document.getElementById("ubc");
const ctid = ubcTable ? ubcTable.dataset.ctid : null;
const WINDOW_SECONDS = 600;

function drawPlot(id, column, unit) {
  const svg = document.getElementById(id);
  if (!svg) return;
  const now = points.length ? points[points.length - 1][0] : 0;
  // The plot spans what there is, from a minute up to the window: a new VE's first seconds
  // are not squeezed into its right edge.
  const span = points.length ? Math.max(60, now - points[0][0]) : WINDOW_SECONDS;
  const values = points.map((p) => p[column]);
  const top = Math.max(column === 1 ? 100 : 1, ...values) * 1.1;
  const line = points
    .map((p) => {
      const x = 600 - ((now - p[0]) / span) * 600;
      const y = 150 - (p[column] / top) * 150;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  svg.querySelector("polyline").setAttribute("points", line);
  const label = document.getElementById(id.replace("-plot", "-now"));
  if (label && values.length) label.textContent = `now ${values[values.length - 1]} ${unit}`;
}

function updateVe(ve) {
  const state = document.getElementById("state");
  if (state) state.textContent = ve.state;
  const nproc = document.getElementById("nproc");
  if (nproc) nproc.textContent = ve.nproc;
  for (const [resource, held, maxheld, barrier, limit, failcnt] of ve.ubc) {
    let row = ubcTable.querySelector(`tr[data-resource="${resource}"]`);
    if (!row) continue;  // a resource the page did not list (it was stopped): reload shows it
    const cells = { held, maxheld, barrier, limit, failcnt };
    for (const [col, value] of Object.entries(cells)) {
      const cell = row.querySelector(`td[data-col="${col}"]`);
      if (cell) cell.textContent = shown(value);
    }
    row.classList.toggle("refused", failcnt > 0);
  }
}

function updateList(ves) {
  for (const row of document.querySelectorAll("#ves tr[data-ctid]")) {
    const ve = ves[row.dataset.ctid];
    if (!ve) continue;
    for (const field of ["state", "hostname", "nproc"]) {
      const cell = row.querySelector(`td[data-field="${field}"]`);
      if (cell) cell.textContent = ve[field] === "" ? "-" : ve[field];
    }
  }
}

function onSample(sample) {
  updateList(sample.ves);
  if (!ctid || !sample.ves[ctid]) return;
  const ve = sample.ves[ctid];
  updateVe(ve);
  points.push([sample.time, ve.cpu, ve.mem]);
  while (points.length && points[0][0] < sample.time - WINDOW_SECONDS) points.shift();
  drawPlot("cpu-plot", 1, "%");
  drawPlot("mem-plot", 2, "MiB");
}

function onRefusal(event) {
  const list = document.getElementById("events");
  if (!list || String(event.ctid) !== list.dataset.ctid) return;
  const item = document.createElement("li");
  const at = new Date(event.time * 1000).toTimeString().slice(0, 8);
  item.textContent = `${at} ${event.resource}: failcnt ${event.previous} → ${event.failcnt}`;
  item.className = "new";
  list.prepend(item);
  const cell = ubcTable.querySelector(`tr[data-resource="${event.resource}"] td[data-col="failcnt"]`);
  if (cell) cell.textContent = event.failcnt;
}

if (document.querySelector(".live")) {
  drawPlot("cpu-plot", 1, "%");
  drawPlot("mem-plot", 2, "MiB");
  const source = new EventSource("/events");
  source.onmessage = (m) => {
    const message = JSON.parse(m.data);
    if (message.type === "sample") onSample(message);
    else if (message.type === "failcnt") onRefusal(message);
  };
}
