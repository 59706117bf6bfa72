// The page's controller: views, the token, search (text or a pasted DOI/PMID/id), related papers, marking
// and refining, and the hooks between the theme map and the upload form. Plain ES modules, no framework.

import { ApiError, api, collectionPath, describeError, download, getToken, paperPath, setToken } from "./api.js";
import { el } from "./dom.js";
import { ThemeMap } from "./map.js";
import { Marks, paperLinks, renderHit, renderHits, renderPaper } from "./papers.js";
import { initUpload } from "./upload.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["search", "map", "collections", "upload"];
const MAX_DEPTH = 1000; // offset + k of the deepest page the API serves
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
  if (name === "collections") loadCollections();
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
function relatedQuery(k, offset = 0, sort = "relevance") {
  const params = new URLSearchParams({ k: String(k) });
  if (offset) params.set("offset", String(offset));
  if (sort !== "relevance") params.set("sort", sort);
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
  return { marks, onOpen: (id) => openPaper(id), onSave: saveHit };
}

// The list on show: how to fetch a page of it (offset, sort) → hits, its page size and the hits so far.
let listing = null;

function sortChoice() {
  return $("results-sort").value === "year" ? "year" : "relevance";
}

/** Show a result list; `fetchPage(offset, sort)` gives its further pages ("More results") and other orders. */
function showResults(hits, heading, { focus = false, fetchPage = null, k = searchK() } = {}) {
  $("results").hidden = false;
  $("results-heading").textContent = heading;
  listing = { fetchPage, k, hits: [...hits], seq: searchSeq };
  renderHits($("results-list"), hits, hitOptions());
  updateMore(hits.length);
  if (focus) $("results-heading").focus();
}

function updateMore(received) {
  const more = $("results-more");
  more.hidden = !listing || !listing.fetchPage || received < listing.k || listing.hits.length + listing.k > MAX_DEPTH;
}

async function moreResults() {
  if (!listing || !listing.fetchPage) return;
  const seq = searchSeq;
  const before = listing.hits[listing.hits.length - 1] || null;
  announce("Loading more results…");
  try {
    const hits = await listing.fetchPage(listing.hits.length, sortChoice());
    if (seq !== searchSeq) return;
    listing.hits.push(...hits);
    renderHits($("results-list"), hits, hitOptions(), { append: true, before });
    updateMore(hits.length);
    announce(hits.length ? `${hits.length} more results (${listing.hits.length} shown).` : "No more results.");
  } catch (error) {
    alertError(error);
  }
}

async function resort() {
  if (!listing || !listing.fetchPage) return;
  const seq = ++searchSeq;
  try {
    const hits = await listing.fetchPage(0, sortChoice());
    if (seq !== searchSeq) return;
    listing.hits = [...hits];
    renderHits($("results-list"), hits, hitOptions());
    updateMore(hits.length);
    announce(sortChoice() === "year" ? "Newest first, among the most relevant." : "Most relevant first.");
  } catch (error) {
    if (seq === searchSeq) alertError(error);
  }
}

/** Download the listed papers, in list order, in the chosen reference-manager format. */
async function exportList() {
  if (!listing || !listing.hits.length) return;
  const params = new URLSearchParams({ format: $("results-format").value });
  for (const hit of listing.hits) params.append("ids", hit.id);
  await downloadExport(`/export?${params}`, `${listing.hits.length} papers`);
}

async function downloadExport(path, what) {
  clearAlert();
  try {
    const name = await download(path);
    announce(`Exported ${what} as ${name}.`);
  } catch (error) {
    alertError(error);
  }
}

// --------------------------------------------------------------------------------------- collections
function saveTarget() {
  return $("save-target").value.trim() || "reading list";
}

/** "Save to collection": adds the hit to the collection named in the list's toolbar (made if missing). */
async function saveHit(hit, button) {
  clearAlert();
  const name = saveTarget();
  try {
    const { data } = await api(collectionPath(name, "/papers"), { method: "POST", json: { ids: [hit.id] } });
    if (button) button.textContent = `Saved to ${short(data.collection, 30)}`;
    announce(`Saved “${short(hit.title || hit.id)}” to “${data.collection}” (${data.size} papers).`);
    refreshCollectionNames();
  } catch (error) {
    alertError(error);
  }
}

async function refreshCollectionNames() {
  try {
    const { data } = await api("/collections");
    $("collection-names").replaceChildren(...data.map((info) => el("option", { value: info.name })));
    return data;
  } catch {
    return []; // the names are a convenience: a failure shows when the user opens the collections
  }
}

async function loadCollections() {
  try {
    const { data } = await api("/collections");
    $("collection-names").replaceChildren(...data.map((info) => el("option", { value: info.name })));
    $("collection-list").replaceChildren(
      ...(data.length
        ? data.map((info) =>
            el(
              "li",
              {},
              el(
                "button",
                { type: "button", class: "link-button", onclick: () => openCollection(info.name) },
                info.name,
              ),
              ` (${info.size} paper${info.size === 1 ? "" : "s"})`,
            ),
          )
        : [el("li", { class: "empty" }, "No collections yet: save papers from a result list, or create one here.")]),
    );
  } catch (error) {
    alertError(error);
  }
}

let openCollectionName = null;

/** A stored record shown as a result card (a collection lists records, not ranked hits). */
function recordCard(paper) {
  const authors = Array.isArray(paper.authors) ? paper.authors : [];
  return {
    id: paper.id,
    title: paper.title || paper.id,
    journal: paper.journal,
    year: paper.year,
    authors: authors.slice(0, 3),
    author_count: authors.length,
    links: paperLinks(paper),
  };
}

async function openCollection(name, { focus = true } = {}) {
  clearAlert();
  try {
    const { data } = await api(collectionPath(name));
    openCollectionName = data.name;
    $("collection").hidden = false;
    $("collection-title").textContent = data.name;
    const missing = data.missing.length ? ` ${data.missing.length} no longer in the index.` : "";
    $("collection-info").textContent = `${data.size} papers${data.note ? `: ${data.note}` : ""}.${missing}`;
    const options = { marks, onOpen: (id) => openPaper(id), onRemove: (hit) => removeFromCollection(data.name, hit) };
    renderHits($("collection-papers"), data.papers.map(recordCard), options);
    if (focus) $("collection-title").focus();
    announce(`Collection “${data.name}”: ${data.size} papers.`);
  } catch (error) {
    alertError(error);
  }
}

async function removeFromCollection(name, hit) {
  try {
    await api(collectionPath(name, `/papers/${encodeURIComponent(hit.id)}`), { method: "DELETE" });
    await openCollection(name, { focus: false });
    loadCollections();
  } catch (error) {
    alertError(error);
  }
}

/** Create a collection, or add the pasted ids to it (made if missing), then open it. */
async function submitCollection(event) {
  event.preventDefault();
  clearAlert();
  const name = $("collection-name").value.trim();
  const text = $("collection-ids").value.trim();
  if (!name) return;
  try {
    let added = null;
    if (text) added = (await api(collectionPath(name, "/papers"), { method: "POST", json: { text } })).data;
    else await api("/collections", { method: "POST", json: { name } });
    $("collection-ids").value = "";
    await loadCollections();
    await openCollection(name, { focus: !text }); // clears the alert: the news about the list comes after
    if (added) {
      const unknown = added.not_found.length ? ` Not in the index: ${added.not_found.slice(0, 10).join(", ")}.` : "";
      announce(`${added.changed.length} papers added to “${added.collection}”.${unknown}`);
      if (unknown) alertError(`Not in the index (add them under “Add papers” first): ${added.not_found.join(", ")}`);
    }
  } catch (error) {
    alertError(error);
  }
}

async function recommendFromCollection() {
  const name = openCollectionName;
  if (!name) return;
  clearAlert();
  const seq = ++searchSeq;
  const k = searchK();
  const fetchPage = async (offset, sort) =>
    (await api("/recommend", { method: "POST", json: { collection: name, k, offset, sort } })).data;
  try {
    const hits = await fetchPage(0, sortChoice());
    if (seq !== searchSeq) return;
    showView("search");
    $("paper").hidden = true;
    showResults(hits, `Recommended from the collection “${short(name)}”`, { focus: true, fetchPage, k });
    announce(`${hits.length} papers like the collection “${name}” (its papers left out).`);
  } catch (error) {
    if (seq === searchSeq) alertError(error);
  }
}

async function deleteCollection() {
  const name = openCollectionName;
  if (!name || !window.confirm(`Delete the collection “${name}”? Its papers stay in the index.`)) return;
  try {
    await api(collectionPath(name), { method: "DELETE" });
    openCollectionName = null;
    $("collection").hidden = true;
    announce(`Deleted the collection “${name}”.`);
    loadCollections();
  } catch (error) {
    alertError(error);
  }
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
    const fetchPage = async (offset, sort) =>
      (await api("/recommend", { method: "POST", json: { ...body, offset, sort } })).data;
    const hits = await fetchPage(0, sortChoice());
    if (seq !== searchSeq) return;
    $("paper").hidden = true;
    const unlike = negative.length ? `, unlike ${negative.length}` : "";
    showResults(hits, `Refined: like ${positive.length} marked paper(s)${unlike}`, { focus: true, fetchPage });
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

/** Whether the search box no longer holds `text`: the user is typing the next query, and moving the focus
 * to this answer's heading would take their keystrokes (an Enter would go to the heading, not the form). */
function typedSince(text) {
  return text !== undefined && $("q").value.trim() !== text;
}

/** A paper's record and related papers in the search view (`asked`: the search box's text that opened it). */
async function showPaperAndRelated(paper, seq, { focus, asked }) {
  const k = searchK();
  const fetchPage = async (offset, sort) => (await api(paperPath(paper.id, "/related") + relatedQuery(k, offset, sort))).data;
  const hits = await fetchPage(0, sortChoice());
  if (seq !== searchSeq) return;
  renderPaper($("paper"), paper, { marks, headingId: "paper-title" });
  showResults(hits, `Papers related to “${short(paper.title || paper.id)}”`, { fetchPage, k });
  if (focus && !typedSince(asked)) $("paper-title").focus();
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
        await showPaperAndRelated(paper, seq, { focus, asked: text });
        return;
      } catch (error) {
        if (!(error instanceof ApiError && (error.status === 404 || error.status === 400))) throw error;
      }
    }
    const body = { text, k: searchK(), mode: $("opt-mode").value || undefined, filters: bodyFilters() };
    const fetchPage = async (offset, sort) =>
      (await api("/search", { method: "POST", json: { ...body, offset, sort } })).data;
    const hits = await fetchPage(0, sortChoice());
    if (seq !== searchSeq) return;
    $("paper").hidden = true;
    showResults(hits, `Results for “${short(text)}”`, { focus: focus && !typedSince(text), fetchPage });
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
  {
    onSelect: selectOnMap,
    announce,
    onError: alertError,
    onExport: (theme, query) => {
      const params = new URLSearchParams(query);
      params.set("theme", String(theme.id));
      params.set("format", $("results-format").value);
      downloadExport(`/export?${params}`, `the theme “${theme.label}”`);
    },
  },
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
  $("results-more").addEventListener("click", moreResults);
  $("results-sort").addEventListener("change", resort);
  $("results-export").addEventListener("click", exportList);
  $("collection-form").addEventListener("submit", submitCollection);
  $("collection-recommend").addEventListener("click", recommendFromCollection);
  $("collection-export").addEventListener("click", () => {
    if (!openCollectionName) return;
    const params = new URLSearchParams({ format: $("collection-format").value, collection: openCollectionName });
    downloadExport(`/export?${params}`, `the collection “${openCollectionName}”`);
  });
  $("collection-delete").addEventListener("click", deleteCollection);
  refreshCollectionNames();
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
