// The upload form: each chosen file (and the pasted text) is sent on its own to POST /papers/upload with the
// token, the index update is followed to its end (polling GET /jobs/<id> after a 202), and each input gets
// its ingest summary: counts, the papers stored and the records rejected with their reasons.

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

/** The inputs of the form, each a label and a function making its FormData. */
function formInputs(files, text) {
  const inputs = files.map((file) => ({
    label: file.name || "file",
    form: () => {
      const form = new FormData();
      form.append("file", file, file.name || "upload");
      form.append("wait", WAIT_SECONDS);
      return form;
    },
  }));
  if (text.trim()) {
    inputs.push({
      label: "Pasted text",
      form: () => {
        const form = new FormData();
        form.append("text", text);
        form.append("wait", WAIT_SECONDS);
        return form;
      },
    });
  }
  return inputs;
}

/**
 * Wire the upload form. Hooks: announce(text) and alertError(error) report to the user; clearAlert() hides
 * an earlier error; onIngested() is called when papers were stored (the theme map is then out of date);
 * openPaper(id) shows a stored paper.
 */
export function initUpload({ form, files, text, submit, result, items, heading }, hooks) {
  const { announce, alertError, clearAlert, onIngested, openPaper } = hooks;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    const inputs = formInputs([...files.files], text.value);
    if (!inputs.length) {
      alertError("Choose one or more files, or paste records or a page, first.");
      return;
    }
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    items.replaceChildren();
    result.hidden = false;
    const totals = { added: 0, updated: 0, unchanged: 0, merged: 0, failed: 0 };
    try {
      for (const [position, input] of inputs.entries()) {
        announce(`Adding ${input.label} (${position + 1} of ${inputs.length})…`);
        try {
          const { data } = await api("/papers/upload", { method: "POST", form: input.form() });
          const job = await finishJob(data.job, (running) =>
            announce(
              `Updating the index after ${input.label}: ${running.progress ? running.progress.step : running.state}…`,
            ),
          );
          items.append(renderIngest(input.label, data.ingest, job, openPaper));
          for (const key of ["added", "updated", "unchanged", "merged"]) totals[key] += data.ingest[key] || 0;
        } catch (error) {
          totals.failed += 1;
          items.append(renderFailure(input.label, error));
          if (error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 0)) {
            alertError(error); // every other input would fail the same way
            break;
          }
        }
      }
    } finally {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
    if (totals.added || totals.updated || totals.merged) onIngested();
    heading.focus();
    const summary = `Added ${totals.added}, updated ${totals.updated}, unchanged ${totals.unchanged}, merged ${totals.merged}`;
    announce(totals.failed ? `${summary}; ${totals.failed} input(s) failed: see the summary.` : `${summary}.`);
    if (!totals.failed) form.reset();
  });
}
