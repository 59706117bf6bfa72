// The page's controller: views, the token, search (text or a pasted DOI/PMID/id), related papers, marking
// and refining, and the hooks between the theme map and the upload form. Plain ES modules, no framework.

import { ApiError, api, describeError, getToken, paperPath, setToken } from "./api.js";
import { el } from "./dom.js";
import { ThemeMap } from "./map.js";
import { Marks, renderHit, renderHits, renderPaper } from "./papers.js";
import { initUpload } from "./upload.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["search", "map", "upload"];
const MAX_REFERENCE = 1000;
const MAP_RELATED = 5;

let searchSeq = 0; // answers to superseded requests are dropped
let mapSeq = 0;

// ------------------------------------------------------------------------------------------ messages
function announce(message) {
  $("status").textContent = message;
}

function clearAlert() {
  const alert = $("alert");
  alert.hidden = true;
  alert.textContent = "";
}

/** Show an error in the alert region; on a token problem, open the token form so the fix is one step away. */
function alertError(error) {
  const alert = $("alert");
  alert.textContent = typeof error === "string" ? error : describeError(error);
  alert.hidden = false;
  announce("");
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) $("token-panel").open = true;
}

/** A long text cut for a heading or a message. */
function short(text, length = 80) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// ----------------------------------------------------------------------------------------------- url
function setUrlParam(name, value) {
  const url = new URL(window.location.href);
  if (value) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  window.history.replaceState(null, "", url);
}

// --------------------------------------------------------------------------------------------- views
function showView(name, { updateUrl = true } = {}) {
  for (const button of document.querySelectorAll(".view-button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const view of VIEWS) $(`view-${view}`).hidden = view !== name;
  if (updateUrl) setUrlParam("view", name === "search" ? "" : name);
  if (name === "map") themeMap.show();
}

// ---------------------------------------------------------------------------------------------- token
function refreshTokenState() {
  $("token-state").textContent = getToken() ? "(set for this tab)" : "(none set)";
}

function initToken() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    setToken(token);
    $("token-input").value = "";
    refreshTokenState();
    clearAlert();
    announce(token ? "Token kept for this tab; it is sent with every request." : "No token given.");
  });
  $("token-clear").addEventListener("click", () => {
    setToken("");
    refreshTokenState();
    announce("Token forgotten.");
  });
  refreshTokenState();
}

// ------------------------------------------------------------------------------------ search options
function intOption(id) {
  const value = Number.parseInt($(id).value, 10);
  return Number.isFinite(value) ? value : undefined;
}

function searchK() {
  return Math.min(100, Math.max(1, intOption("opt-k") || 10));
}

/** The filters of the options panel in the JSON shape of /search and /recommend (undefined when none). */
function bodyFilters() {
  const filters = {};
  const low = intOption("opt-year-min");
  const high = intOption("opt-year-max");
  const journal = $("opt-journal").value.trim();
  if (low !== undefined) filters.year_min = low;
  if (high !== undefined) filters.year_max = high;
  if (journal) filters.journals = [journal];
  return Object.keys(filters).length ? filters : undefined;
}

/** The same options as the query string of GET /papers/<id>/related. */
function relatedQuery(k) {
  const params = new URLSearchParams({ k: String(k) });
  const mode = $("opt-mode").value;
  const filters = bodyFilters() || {};
  if (mode) params.set("mode", mode);
  if (filters.year_min !== undefined) params.set("year_min", String(filters.year_min));
  if (filters.year_max !== undefined) params.set("year_max", String(filters.year_max));
  for (const journal of filters.journals || []) params.append("journal", journal);
  return `?${params}`;
}

// ------------------------------------------------------------------------------------------- results
const marks = new Marks(renderMarks);

function hitOptions() {
  return { marks, onOpen: (id) => openPaper(id) };
}

function showResults(hits, heading, { focus = false } = {}) {
  $("results").hidden = false;
  $("results-heading").textContent = heading;
  renderHits($("results-list"), hits, hitOptions());
  if (focus) $("results-heading").focus();
}

/** The marked papers, each with a way to unmark it, and the refine button (needs one "more like this"). */
function renderMarks() {
  const positive = marks.ids("positive").length;
  const negative = marks.ids("negative").length;
  $("marks").hidden = !marks.items.size;
  $("marks-summary").textContent =
    `Marked: ${positive} more like this, ${negative} less like this.` +
    (positive ? "" : " Mark at least one “More like this” to refine.");
  $("refine").disabled = positive === 0;
  $("marks-list").replaceChildren(
    ...[...marks.items].map(([id, item]) =>
      el(
        "li",
        { class: `marked marked-${item.mark}` },
        el("span", { class: "mark-kind" }, item.mark === "positive" ? "more like: " : "less like: "),
        el("span", { class: "marked-title" }, item.title),
        " ",
        el(
          "button",
          {
            type: "button",
            class: "link-button",
            "aria-label": `Unmark ${item.title}`,
            onclick: () => marks.remove(id),
          },
          "Unmark",
        ),
      ),
    ),
  );
}

async function refine() {
  const positive = marks.ids("positive");
  const negative = marks.ids("negative");
  if (!positive.length) return;
  clearAlert();
  const seq = ++searchSeq;
  announce("Refining…");
  try {
    const body = { positive, negative, k: searchK(), mode: $("opt-mode").value || undefined, filters: bodyFilters() };
    const { data: hits } = await api("/recommend", { method: "POST", json: body });
    if (seq !== searchSeq) return;
    $("paper").hidden = true;
    const unlike = negative.length ? `, unlike ${negative.length}` : "";
    showResults(hits, `Refined: like ${positive.length} marked paper(s)${unlike}`, { focus: true });
    announce(`${hits.length} papers like the ones you marked (marked papers left out).`);
  } catch (error) {
    if (seq === searchSeq) alertError(error);
  }
}

// -------------------------------------------------------------------------------- search and papers
/** Text that could be an id, DOI or PMID: one token, no spaces. Anything else is searched as text. */
function looksLikeReference(text) {
  return text.length <= MAX_REFERENCE && !/\s/.test(text);
}

/** A paper's record and related papers in the search view. */
async function showPaperAndRelated(paper, seq, { focus }) {
  const { data: hits } = await api(paperPath(paper.id, "/related") + relatedQuery(searchK()));
  if (seq !== searchSeq) return;
  renderPaper($("paper"), paper, { marks, headingId: "paper-title" });
  showResults(hits, `Papers related to “${short(paper.title || paper.id)}”`);
  if (focus) $("paper-title").focus();
  announce(`${hits.length} papers related to “${short(paper.title || paper.id)}”.`);
}

/** Open a paper (by id, DOI or PMID) with its related papers; the URL (?paper=ID) becomes a link to it. */
async function openPaper(reference, { focus = true } = {}) {
  showView("search");
  clearAlert();
  const seq = ++searchSeq;
  announce("Opening the paper…");
  try {
    const { data: paper } = await api(paperPath(reference));
    if (seq !== searchSeq) return;
    setUrlParam("q", "");
    setUrlParam("paper", paper.id);
    await showPaperAndRelated(paper, seq, { focus });
  } catch (error) {
    if (seq === searchSeq) alertError(error);
  }
}

/** Search box: a pasted DOI/PMID/id opens that paper if it exists, anything else is a text search. */
async function runQuery(raw, { focus = false } = {}) {
  const text = raw.trim();
  if (!text) return;
  clearAlert();
  $("q").value = text;
  setUrlParam("paper", "");
  setUrlParam("q", text);
  const seq = ++searchSeq;
  announce(`Searching for “${short(text)}”…`);
  try {
    if (looksLikeReference(text)) {
      try {
        const { data: paper } = await api(paperPath(text));
        if (seq !== searchSeq) return;
        await showPaperAndRelated(paper, seq, { focus });
        return;
      } catch (error) {
        if (!(error instanceof ApiError && (error.status === 404 || error.status === 400))) throw error;
      }
    }
    const body = { text, k: searchK(), mode: $("opt-mode").value || undefined, filters: bodyFilters() };
    const { data: hits } = await api("/search", { method: "POST", json: body });
    if (seq !== searchSeq) return;
    $("paper").hidden = true;
    showResults(hits, `Results for “${short(text)}”`, { focus });
    announce(`${hits.length} results for “${short(text)}”.`);
  } catch (error) {
    if (seq === searchSeq) alertError(error);
  }
}

// -------------------------------------------------------------------------------------------- the map
/** A paper chosen on the map: its record and a few related papers beside the map. */
async function selectOnMap(id) {
  const seq = ++mapSeq;
  const panel = $("map-paper");
  try {
    const [{ data: paper }, { data: hits }] = await Promise.all([
      api(paperPath(id)),
      api(paperPath(id, "/related") + `?k=${MAP_RELATED}`),
    ]);
    if (seq !== mapSeq) return;
    const open = el("button", { type: "button", onclick: () => openPaper(paper.id) }, "Open in search");
    renderPaper(panel, paper, { marks, headingId: "map-paper-title", level: "h3", actions: [open] });
    panel.append(
      el("h4", {}, "Related papers"),
      el("ol", { class: "hits compact" }, ...hits.map((hit) => renderHit(hit, hitOptions()))),
    );
    announce(`Selected “${short(paper.title || paper.id)}”.`);
  } catch (error) {
    if (seq === mapSeq) alertError(error);
  }
}

const themeMap = new ThemeMap(
  {
    canvas: $("map-canvas"),
    tooltip: $("map-tooltip"),
    busy: $("map-busy"),
    region: $("map-region"),
    count: $("map-count"),
    themeList: $("theme-list"),
    yearMin: $("map-year-min"),
    yearMax: $("map-year-max"),
    journal: $("map-journal"),
    journalList: $("map-journals"),
    reset: $("map-reset"),
    k: $("map-k"),
    method: $("map-method"),
    seeds: $("map-seeds"),
  },
  { onSelect: selectOnMap, announce, onError: alertError },
);

// --------------------------------------------------------------------------------------------- start
function init() {
  initToken();
  for (const button of document.querySelectorAll(".view-button")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    runQuery($("q").value, { focus: true });
  });
  $("refine").addEventListener("click", refine);
  $("clear-marks").addEventListener("click", () => marks.clear());
  $("map-options").addEventListener("submit", (event) => {
    event.preventDefault();
    clearAlert();
    themeMap.load();
  });
  initUpload(
    {
      form: $("upload-form"),
      files: $("upload-files"),
      text: $("upload-text"),
      submit: $("upload-submit"),
      result: $("upload-result"),
      items: $("upload-items"),
      heading: $("upload-result-heading"),
    },
    { announce, alertError, clearAlert, onIngested: () => (themeMap.stale = true), openPaper },
  );
  renderMarks();
  const params = new URLSearchParams(window.location.search);
  const view = params.get("view");
  showView(VIEWS.includes(view) ? view : "search", { updateUrl: false });
  const query = params.get("q");
  const paper = params.get("paper");
  if (query) runQuery(query);
  else if (paper) openPaper(paper, { focus: false });
  document.body.dataset.ready = "true"; // the page is wired (tests wait for it)
}

init();
