// The upload form: every chosen file and the pasted text are sent in one request to POST /papers/upload with
// the token, its one index update is followed to its end (polling GET /jobs/<id> after a 202), and each input
// gets its ingest summary from the answer's `inputs`: counts, the papers stored and the records rejected with
// their reasons, or why nothing of it was stored.

import { ApiError, api, describeError } from "./api.js";
import { count, el } from "./dom.js";

const WAIT_SECONDS = "30"; // the server waits this long for the index update before answering 202
const POLL_MS = 1000;
const PAPERS_LISTED = 200;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll a job until it succeeded or failed, reporting progress as it goes. */
async function finishJob(job, onProgress) {
  let current = job;
  while (current && (current.state === "queued" || current.state === "running")) {
    onProgress(current);
    await sleep(POLL_MS);
    ({ data: current } = await api(`/jobs/${encodeURIComponent(current.id)}`));
  }
  return current;
}

/** What happened to the index after the papers were stored. */
function jobLine(job) {
  if (!job) return "Index update: not started.";
  if (job.state === "succeeded") return "Index update: done, the new papers can be searched.";
  if (job.state === "failed")
    return `Index update failed: ${job.error && job.error.message ? job.error.message : "see the server log"}.`;
  return `Index update: ${job.state} (job ${job.id}).`;
}

function countsList(ingest) {
  const names = [
    ["read", "Read"],
    ["added", "Added"],
    ["updated", "Updated"],
    ["unchanged", "Unchanged"],
    ["merged", "Merged"],
    ["total", "Papers stored in all"],
  ];
  return el(
    "dl",
    { class: "counts" },
    ...names.flatMap(([key, name]) => [el("dt", {}, name), el("dd", {}, count(ingest[key]))]),
  );
}

function rejectedList(rejected) {
  if (!rejected || !rejected.length) return null;
  return el(
    "details",
    { class: "rejected", open: true },
    el("summary", {}, `Not used (${count(rejected.length)})`),
    el(
      "ul",
      {},
      ...rejected
        .slice(0, PAPERS_LISTED)
        .map((item) => el("li", {}, `${item.source}${item.position ? `, ${item.position}` : ""}: ${item.reason}`)),
    ),
  );
}

function papersList(papers, openPaper) {
  if (!papers || !papers.length) return null;
  const items = papers
    .slice(0, PAPERS_LISTED)
    .map((paper) =>
      el(
        "li",
        {},
        el("span", { class: "paper-id" }, paper.id),
        ` — ${paper.outcome}`,
        paper.position ? ` (${paper.position})` : "",
        " ",
        el(
          "button",
          {
            type: "button",
            class: "link-button",
            "aria-label": `Open ${paper.id}`,
            onclick: () => openPaper(paper.id),
          },
          "Open",
        ),
      ),
    );
  const more =
    papers.length > PAPERS_LISTED ? el("p", {}, `… and ${count(papers.length - PAPERS_LISTED)} more.`) : null;
  return el(
    "details",
    { class: "papers", open: papers.length <= 20 },
    el("summary", {}, `Papers (${count(papers.length)})`),
    el("ul", {}, ...items),
    more,
  );
}

/** The summary of one input: counts, the index update, the papers and the rejected records. */
function renderIngest(label, ingest, job, openPaper) {
  return el(
    "article",
    { class: "ingest ok" },
    el("h4", {}, label),
    countsList(ingest),
    el("p", { class: "job" }, jobLine(job)),
    papersList(ingest.papers, openPaper),
    rejectedList(ingest.rejected),
  );
}

function renderFailure(label, error) {
  const rejected =
    error instanceof ApiError && error.details && Array.isArray(error.details.rejected) ? error.details.rejected : null;
  return el(
    "article",
    { class: "ingest failed" },
    el("h4", {}, label),
    el("p", { class: "error" }, describeError(error)),
    rejectedList(rejected),
  );
}

/** The labels of the inputs (the files in order, then the pasted text) and the one FormData carrying them all. */
function formInputs(files, text) {
  const labels = files.map((file) => file.name || "file");
  const form = new FormData();
  for (const file of files) form.append("file", file, file.name || "upload");
  if (text.trim()) {
    labels.push("Pasted text");
    form.append("text", text);
  }
  form.append("wait", WAIT_SECONDS);
  return { labels, form };
}

/** An input's error entry ({status, error: {code, message, details}}) as the ApiError the request would have had. */
function entryError(entry) {
  const error = entry.error || {};
  return new ApiError(entry.status || 0, error.code || "error", error.message || "not stored", error.details);
}

/** The label of the input at `position`: the page's own (file name, "Pasted text"), else the server's. */
function inputLabel(labels, entries, position) {
  return labels.length === entries.length ? labels[position] : entries[position].name || `Input ${position + 1}`;
}

/**
 * Wire the upload form. Every chosen file and the pasted text go in ONE request to POST /papers/upload, so
 * the index is updated once for all of them; each input still gets its own summary (from the answer's
 * `inputs`). Hooks: announce(text) and alertError(error) report to the user; clearAlert() hides an earlier
 * error; onIngested() is called when papers were stored (the theme map is then out of date); openPaper(id)
 * shows a stored paper.
 */
export function initUpload({ form, files, text, submit, result, items, heading }, hooks) {
  const { announce, alertError, clearAlert, onIngested, openPaper } = hooks;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    const { labels, form: body } = formInputs([...files.files], text.value);
    if (!labels.length) {
      alertError("Choose one or more files, or paste records or a page, first.");
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    items.replaceChildren();
    result.hidden = false;
    const totals = { added: 0, updated: 0, unchanged: 0, merged: 0, failed: 0 };
    let updateFailed = false; // papers stored, but the one index update after them failed
    const what = labels.length === 1 ? labels[0] : `${labels.length} inputs`;
    const show = (entries, job) => {
      updateFailed = Boolean(job && job.state === "failed");
      for (const [position, entry] of entries.entries()) {
        const label = inputLabel(labels, entries, position);
        if (entry.ingest) {
          items.append(renderIngest(label, entry.ingest, job, openPaper));
          for (const key of ["added", "updated", "unchanged", "merged"]) totals[key] += entry.ingest[key] || 0;
        } else {
          totals.failed += 1;
          items.append(renderFailure(label, entryError(entry)));
        }
      }
    };
    try {
      announce(`Adding ${what}…`);
      const { data } = await api("/papers/upload", { method: "POST", form: body });
      const job = await finishJob(data.job, (running) =>
        announce(`Updating the index after ${what}: ${running.progress ? running.progress.step : running.state}…`),
      );
      show(data.inputs || [{ name: labels[0], ingest: data.ingest }], job);
    } catch (error) {
      const details = error instanceof ApiError ? error.details : null;
      if (details && Array.isArray(details.inputs)) {
        // Per input: nothing stored from any of them, or stored but the index update failed (then each
        // summary's index line says why, from details.job).
        show(details.inputs, details.job || null);
      } else {
        // The request as a whole was refused (token, size, busy, network) or its one input could not be read.
        totals.failed += labels.length;
        items.append(renderFailure(labels.length === 1 ? labels[0] : labels.join(", "), error));
        if (error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 0)) {
          alertError(error);
        }
      }
    } finally {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
    if (totals.added || totals.updated || totals.merged) onIngested();
    heading.focus();
    const summary = `Added ${totals.added}, updated ${totals.updated}, unchanged ${totals.unchanged}, merged ${totals.merged}`;
    const problems = [
      totals.failed ? `${totals.failed} input(s) failed` : "",
      updateFailed ? "the index update failed" : "",
    ].filter(Boolean);
    announce(problems.length ? `${summary}; ${problems.join(", ")}: see the summary.` : `${summary}.`);
    if (!problems.length) form.reset();
  });
}
