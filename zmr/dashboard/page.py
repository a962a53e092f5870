"""The dashboard's single page: plain HTML, CSS and JavaScript, no external files (a cluster
often has no internet). It polls the JSON API once a second and renders three views by URL
fragment: ``#/`` jobs, ``#/jobs/ID`` one job (with its event log's timeline),
``#/jobs/ID/logs[/TASK]`` what its attempts
printed, ``#/workers`` live and lost workers."""

PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zmr dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
 header{background:#243447;color:#fff;padding:8px 16px;display:flex;gap:20px;align-items:center}
 header a{color:#cfe3ff;text-decoration:none} header b{font-size:18px}
 main{padding:12px 16px} table{border-collapse:collapse;width:100%;background:#fff}
 th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
 th{background:#f0f2f5} .bar{width:160px;height:14px;background:#e6e6e6;border-radius:3px;
 position:relative;display:inline-block;vertical-align:middle}
 .bar>span{position:absolute;left:0;top:0;bottom:0;background:#3c8dde;border-radius:3px}
 .bar.reduce>span{background:#44a05b} .state-SUCCEEDED{color:#2c7a3f}
 .warning{background:#fff4d6;border-left:4px solid #d99a00;padding:6px}
 .state-FAILED{color:#b3261e} .state-CANCELLED,.state-KILLED{color:#777}
 .state-RUNNING{color:#1b5fae} pre{white-space:pre-wrap;background:#fff3f2;padding:6px;margin:4px 0}
 .lost{color:#a15c00} pre.log{background:#f4f6f8}
 .muted{color:#777} h2{margin:8px 0} section{margin-bottom:18px} svg text{font-size:11px}
</style></head>
<body>
<header><b>zmr</b><a href="#/">Jobs</a><a href="#/workers">Workers</a>
<span id="updated" class="muted"></span></header>
<main id="view">loading…</main>
<script>
"use strict";
const esc = s => String(s ?? "").replace(/[&<>"']/g,
  c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const pct = (done, total) => total ? Math.round(100 * done / total) : 100;
// fraction (maps): includes the input running maps have read, so the bar moves mid-task
const bar = (kind, done, total, fraction) =>
  `<span class="bar ${kind}" data-testid="${kind}-progress" data-done="${done}"
     data-total="${total}" title="${done}/${total}"><span style="width:${
       fraction == null ? pct(done, total) : Math.round(fraction * 100)}%">
   </span></span> ${done}/${total}`;
// wall-clock seconds as local "YYYY-MM-DD HH:MM:SS" (zmr history's form)
const when = t => {
  if (t == null) return "-";
  const d = new Date(t * 1000), two = n => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${
    two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};
// maps whose output was lost with their worker run again: the map bar moved back
const lostNote = n => n ? `<div class="lost" data-testid="lost-note">${n} map output${
  n > 1 ? "s" : ""} lost: re-running</div>` : "";
const secs = s => s == null ? "" : (s < 60 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min");
// slot utilisation (busy task time / slot time); "-" while unknown
const busy = j => j.utilisation == null ? "-" : Math.round(100 * j.utilisation) + "%";
const busyTitle = j => j.utilisation == null ? "" : `${secs(j.busy_s)} busy of ${
  secs(j.slot_s)} slot time` + (j.slots == null ? "" : `, ${j.slots} slots on average`);
const open = new Set();   // expanded tracebacks survive the next refresh

async function getJSON(url) {
  const r = await fetch(url, {cache: "no-store"});
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  return r.json();
}

// a multi-step job is one job; its name says which step it is at (or ended in)
function jobName(j) {
  return esc(j.name) + (j.steps ? ` <span class="muted">[step ${j.step}/${j.steps}]</span>` : "");
}

// a job that cannot move because no worker is registered says so (coordinator's text)
function warnings(jobs) {
  return jobs.filter(j => j.warning).map(j => `<p class="warning" data-testid="warning">
    <a href="#/jobs/${esc(j.job_id)}">${esc(j.job_id)}</a>: ${esc(j.warning)}</p>`).join("");
}

function jobsView(data) {
  const rows = data.jobs.slice().reverse().map(j => `<tr data-job="${esc(j.job_id)}">
    <td><a href="#/jobs/${esc(j.job_id)}">${esc(j.job_id)}</a></td><td>${jobName(j)}</td>
    <td data-testid="submitted">${when(j.submitted_s)}</td>
    <td class="state-${esc(j.state)}">${esc(j.state)}</td>
    <td>${bar("map", j.maps_done, j.maps_total, j.map_progress)}${lostNote(j.lost_maps)}</td>
    <td>${bar("reduce", j.reduces_done, j.reduces_total)}</td>
    <td>${secs(j.elapsed_s)}</td>
    <td data-testid="utilisation" title="${esc(busyTitle(j))}">${busy(j)}</td>
    <td>${j.splits ?? "-"}</td><td>${j.rebalanced ?? "-"}</td>
    <td>${esc(j.output)}</td></tr>`).join("");
  return `<h2>Jobs</h2>${warnings(data.jobs)}
    <table><tr><th>Job</th><th>Name</th><th>Submitted</th><th>State</th><th>Map</th>
    <th>Reduce</th><th>Elapsed</th><th>Slots busy</th><th>Splits</th><th>Rebalanced</th>
    <th>Output</th></tr>${rows ||
    '<tr><td colspan="11" class="muted">no jobs yet</td></tr>'}</table>`;
}

function attemptsOf(job) {
  const out = [];
  for (const t of job.tasks) for (const [n, worker, start, end, outcome, spec] of t.attempts)
    out.push({task: t, n, worker, start, end, outcome, spec});
  return out;
}

function timeline(job) {
  const attempts = attemptsOf(job);
  if (!attempts.length) return '<p class="muted">no attempts yet</p>';
  const end = job.finished_s ?? job.now;
  const t0 = job.submitted_s, t1 = Math.max(end, ...attempts.map(a => a.end ?? end));
  const workers = [...new Set(attempts.map(a => a.worker))].sort();
  const W = 900, left = 90, lane = 22, H = workers.length * lane + 24, span = (t1 - t0) || 1;
  const x = t => left + (W - left - 10) * (t - t0) / span;
  const colour = a => a.outcome === "failed" || a.outcome === "timed_out" ? "#d9534f" :
    a.outcome === "killed" || a.outcome === "lost" ? "#aaa" :
    a.task.task === "map" ? "#3c8dde" : "#44a05b";
  const rects = attempts.map(a => {
    const y = workers.indexOf(a.worker) * lane + 4, end = a.end ?? job.now;
    const label = `${a.task.task} ${a.task.index} attempt ${a.n} on ${a.worker}: ` +
      `${secs(end - a.start)} ${a.outcome}${a.spec ? " (speculative)" : ""}`;
    return `<rect x="${x(a.start)}" y="${y}" width="${Math.max(2, x(end) - x(a.start))}"
      height="${lane - 6}" fill="${colour(a)}" opacity="0.85"><title>${esc(label)}</title>
      </rect>`;
  }).join("");
  const names = workers.map((w, i) =>
    `<text x="4" y="${i * lane + 17}">${esc(w)}</text>`).join("");
  const axis = `<text x="${left}" y="${H - 6}">0 s</text>
    <text x="${W - 60}" y="${H - 6}">${secs(t1 - t0)}</text>`;
  return `<svg data-testid="timeline" width="${W}" height="${H}" role="img"
    aria-label="tasks over time per worker">${names}${rects}${axis}</svg>
    <div class="muted">blue: map, green: reduce, red: failed or timed out,
    grey: killed or lost</div>`;
}

// a map's succeeded attempt whose output is gone: all of them while the map runs again,
// the earlier ones once it succeeded again
function lostAttempts(t) {
  if (t.task !== "map") return new Set();
  const done = t.attempts.filter(a => a[4] === "succeeded").map(a => a[0]);
  return new Set(t.state === "SUCCEEDED" ? done.slice(0, -1) : done);
}

function taskState(t) {
  const lost = lostAttempts(t);
  if (t.state === "SUCCEEDED" || !lost.size) return esc(t.state);
  const a = t.attempts.filter(a => lost.has(a[0])).pop();
  return `${esc(t.state)} <span class="lost" data-testid="output-lost">output lost with
    worker ${esc(a[1])}, re-running</span>`;
}

function taskRows(job) {
  return job.tasks.map(t => {
    const lost = lostAttempts(t);
    const attempts = t.attempts.map(([n, w, s, e, o, spec]) =>
      `#${n} ${esc(w)} ${esc(o)}${spec ? " (backup)" : ""} ${secs((e ?? job.now) - s)}${
        lost.has(n) ? ' <span class="lost">(output lost with its worker)</span>' : ""}`)
      .join("<br>");
    const logs = `<a data-testid="task-logs" href="#/jobs/${esc(job.job_id)}/logs/${
      esc(t.task)}-${t.index}">logs</a>`;
    const key = `${job.job_id}/${t.task}/${t.index}`;
    const err = t.error ? `<details data-key="${esc(key)}" ${open.has(key) ? "open" : ""}>
      <summary>${esc(t.error.split("\n")[0])}</summary>
      <pre data-testid="traceback">${esc(t.traceback || t.error)}</pre></details>` : "";
    return `<tr data-task="${esc(t.task)}-${t.index}"><td>${esc(t.task)} ${t.index}</td>
      <td class="state-${esc(t.state)}">${taskState(t)}</td><td>${attempts}</td>
      <td>${logs}</td><td>${err}</td></tr>`;
  }).join("");
}

function counterRows(job) {
  const rows = [];
  for (const [group, names] of Object.entries(job.counters).sort())
    for (const [name, v] of Object.entries(names).sort())
      rows.push(`<tr><td>${esc(group)}</td><td>${esc(name)}</td>
        <td style="text-align:right">${Number(v).toLocaleString("en")}</td></tr>`);
  return rows.join("") || '<tr><td colspan="3" class="muted">none yet</td></tr>';
}

function usageView(job) {
  const shares = Object.entries(job.worker_busy_s || {}), total =
    shares.reduce((sum, [, s]) => sum + s, 0);
  const perWorker = total > 0 ? " &nbsp; busy time per worker: " + shares.map(([w, s]) =>
    `${esc(w)} ${Math.round(100 * s / total)}%`).join(", ") : "";
  return `<section data-testid="usage">slots busy <b>${busy(job)}</b>
    <span class="muted">${esc(busyTitle(job))}</span> &nbsp; splits ${job.splits ?? "-"}
    &nbsp; rebalanced ${job.rebalanced ?? "-"}${perWorker}</section>`;
}

// the job's event log (zmr history JOB --events): its last events, newest last
function eventsView(log) {
  if (!log) return '<p class="muted">no event log</p>';
  const rows = log.events.map(e => `<tr data-event="${esc(e.event)}"><td>${
    e.t_s.toFixed(3)} s</td><td>${esc(e.event)}</td><td>${esc(e.text)}</td></tr>`).join("");
  const more = log.total > log.events.length ?
    `<p class="muted">the last ${log.events.length} of ${log.total} events</p>` : "";
  return `${more}<table data-testid="events"><tr><th>Time</th><th>Event</th><th>What</th>
    </tr>${rows || '<tr><td colspan="3" class="muted">no events yet</td></tr>'}</table>`;
}

function jobView(job, events) {
  return `<h2>${esc(job.job_id)} <span class="muted">${jobName(job)}</span>
    <span data-testid="job-state" class="state-${esc(job.state)}">${esc(job.state)}</span></h2>
    <section>Map ${bar("map", job.maps_done, job.maps_total, job.map_progress)} &nbsp;
      Reduce ${bar("reduce", job.reduces_done, job.reduces_total)} &nbsp;
      submitted ${when(job.submitted_s)} &nbsp;
      elapsed ${secs(job.elapsed_s)} &nbsp; output <code>${esc(job.output)}</code> &nbsp;
      <a href="#/jobs/${esc(job.job_id)}/logs">task logs</a>
      ${lostNote((job.lost_maps || []).length)}
      ${job.error ? `<pre>${esc(job.error)}</pre>` : ""}${warnings([job])}</section>
    ${usageView(job)}
    <section><h3>Tasks over time</h3>${timeline(job)}</section>
    <section><h3>Tasks</h3><table><tr><th>Task</th><th>State</th><th>Attempts</th>
      <th>Logs</th><th>Error</th></tr>${taskRows(job)}</table></section>
    <section><h3>Counters</h3><table><tr><th>Group</th><th>Name</th><th>Value</th></tr>
      ${counterRows(job)}</table></section>
    <section><h3>Events</h3>${eventsView(events)}</section>`;
}

// what the attempts of a job (or of one task) printed, as zmr logs JOB --task shows it
function logsView(jobId, task, data) {
  const blocks = data.attempts.map(a => `<section data-testid="attempt-log"><b>${
    esc(a.job_id)} ${esc(a.task)}-${String(a.index).padStart(5, "0")} attempt ${a.attempt}
    on ${esc(a.worker)} (${esc(a.outcome)})</b><pre class="log">${esc(a.log) ||
    '<span class="muted">(printed nothing)</span>'}</pre></section>`).join("");
  return `<h2>Logs of <a href="#/jobs/${esc(jobId)}">${esc(jobId)}</a> ${esc(task)}</h2>
    <p class="muted">What user code printed or logged, per attempt, as the attempt reported
    it (the last 64 KiB). An attempt still running, or lost with its worker, has its log
    only on that worker's disk.</p>${blocks || '<p class="muted">no logs yet</p>'}`;
}

const mb = m => m == null ? "-" : (m >= 1024 ? (m / 1024).toFixed(1) + " GiB" : m + " MiB");

function workersView(data) {
  const rows = data.workers.map(w => `<tr><td>${esc(w.worker_id)}</td><td>${esc(w.host)}</td>
    <td>${w.slots}</td><td>${w.free_slots}</td><td>${w.queued}</td>
    <td data-testid="cpus">${w.cpus ?? "-"}</td><td data-testid="memory">${mb(w.memory_mb)}</td>
    <td>${secs(w.heartbeat_age_s)}</td>
    <td>${w.tasks_done}</td><td>${w.tasks_failed}</td></tr>`).join("");
  const gone = (data.departed || []).map(w => `<tr data-testid="departed"><td>${
    esc(w.worker_id)}</td><td>${esc(w.host)}</td><td>${when(w.lost_s)}</td>
    <td>${esc(w.why)}</td><td>${w.back_s == null ? "not back" : "back " + when(w.back_s)}</td>
    <td>${w.tasks_done ?? "-"}</td></tr>`).join("");
  return `<h2>Workers</h2><table><tr><th>Worker</th><th>Host</th><th>Slots</th>
    <th>Free slots</th><th>Queued</th><th>CPUs</th><th>Memory</th><th>Heartbeat age</th>
    <th>Tasks done</th><th>Tasks failed</th></tr>
    ${rows || '<tr><td colspan="10" class="muted">no live workers</td></tr>'}</table>
    <p class="muted">CPUs and memory: the worker's machine, as it reported them when it
    registered (not live usage).</p>
    <h2>Lost workers</h2><table><tr><th>Worker</th><th>Host</th><th>Lost</th><th>Why</th>
    <th>Since</th><th>Tasks done</th></tr>
    ${gone || '<tr><td colspan="6" class="muted">none lost since the coordinator ' +
      'started</td></tr>'}</table>`;
}

async function render() {
  const route = location.hash.replace(/^#/, "") || "/";
  const view = document.getElementById("view");
  try {
    let html;
    const logs = route.match(/^\/jobs\/([^/]+)\/logs(?:\/([^/]+))?$/);
    if (logs) {
      const [, jobId, task] = logs;
      html = logsView(jobId, task || "", await getJSON("/api/jobs/" +
        encodeURIComponent(jobId) + "/logs?task=" + encodeURIComponent(task || "")));
    } else if (route.startsWith("/jobs/")) {
      const url = "/api/jobs/" + encodeURIComponent(route.slice(6));
      // the event log may be missing (pruned, or a job older than it): the page still shows
      const [job, events] = await Promise.all([getJSON(url),
        getJSON(url + "/events").catch(() => null)]);
      html = jobView(job, events);
    } else if (route === "/workers") {
      html = workersView(await getJSON("/api/workers"));
    } else {
      html = jobsView(await getJSON("/api/jobs"));
    }
    view.innerHTML = html;
    document.getElementById("updated").textContent =
      "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "not updated: " + e.message;
  }
}

document.addEventListener("toggle", e => {
  const key = e.target.dataset && e.target.dataset.key;
  if (key) e.target.open ? open.add(key) : open.delete(key);
}, true);
window.addEventListener("hashchange", render);
render();
setInterval(render, 1000);
</script>
</body></html>
"""
