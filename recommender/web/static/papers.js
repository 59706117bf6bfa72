// Showing papers and result lists, and the "more like this / less like this" marks that refine a list.
// Corpus text (titles, journals, abstracts, terms, ids) only ever reaches the page as text nodes.

import { append, clear, el, fixed } from "./dom.js";

let uniqueCounter = 0;

/** A fresh element id, for aria-describedby links between a result's buttons and its title. */
function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/** The papers the user marked, positive or negative; every mark button on the page follows this store. */
export class Marks {
  constructor(onChange) {
    this.items = new Map(); // id -> {mark: "positive" | "negative", title}
    this.onChange = onChange;
  }

  get(id) {
    const item = this.items.get(id);
    return item ? item.mark : null;
  }

  /** Set `mark` on a paper, or remove it when it already has that mark (the buttons are toggles). */
  toggle(id, mark, title) {
    if (this.get(id) === mark) this.items.delete(id);
    else this.items.set(id, { mark, title: title || id });
    this.changed();
  }

  remove(id) {
    this.items.delete(id);
    this.changed();
  }

  clear() {
    this.items.clear();
    this.changed();
  }

  ids(mark) {
    return [...this.items].filter(([, item]) => item.mark === mark).map(([id]) => id);
  }

  /** Bring every mark button on the page in line with the store, then tell the app. */
  changed() {
    for (const button of document.querySelectorAll("button[data-mark]")) {
      button.setAttribute("aria-pressed", String(this.get(button.dataset.paper) === button.dataset.mark));
    }
    if (this.onChange) this.onChange();
  }
}

/** The two toggle buttons that mark a paper; `describedBy` names the element holding its title. */
export function markButtons(marks, id, title, describedBy) {
  const button = (mark, label) =>
    el(
      "button",
      {
        type: "button",
        class: `mark mark-${mark}`,
        "aria-pressed": String(marks.get(id) === mark),
        "aria-describedby": describedBy,
        dataset: { mark, paper: id },
        onclick: () => marks.toggle(id, mark, title),
      },
      label,
    );
  return [button("positive", "More like this"), button("negative", "Less like this")];
}

const MATCH_TEXT = { strong: "Strong match", related: "Related", weak: "Weak match" };

/** The hit's sentence that carries the shared terms, the terms in <mark> (spans from the server). */
function snippet(hit) {
  const text = hit.snippet && typeof hit.snippet.text === "string" ? hit.snippet.text : "";
  if (!text) return [];
  const spans = Array.isArray(hit.snippet.highlights) ? hit.snippet.highlights : [];
  const parts = [];
  let end = 0;
  for (const [start, stop] of spans) {
    if (!(start >= end && stop > start && stop <= text.length)) continue;
    parts.push(text.slice(end, start), el("mark", {}, text.slice(start, stop)));
    end = stop;
  }
  parts.push(text.slice(end));
  return [el("blockquote", { class: "snippet" }, ...parts)];
}

/** "First, Second, Third et al.": the first three authors, as reference lists and PubMed show them. */
function authorLine(hit) {
  const authors = Array.isArray(hit.authors) ? hit.authors.filter((name) => typeof name === "string") : [];
  if (!authors.length) return null;
  const more = typeof hit.author_count === "number" && hit.author_count > authors.length ? " et al." : "";
  return el("p", { class: "authors" }, authors.join(", ") + more);
}

const LINK_TEXT = { doi: "DOI", pubmed: "PubMed", pmc: "PMC full text" };
const LINK_PREFIXES = {
  doi: "https://doi.org/",
  pubmed: "https://pubmed.ncbi.nlm.nih.gov/",
  pmc: "https://pmc.ncbi.nlm.nih.gov/",
};

/** Links out to doi.org, PubMed and PMC; only to those sites, whatever the data says (no javascript: URLs). */
export function linksOut(links) {
  const found = links && typeof links === "object" ? links : {};
  const anchors = Object.keys(LINK_TEXT)
    .filter((kind) => typeof found[kind] === "string" && found[kind].startsWith(LINK_PREFIXES[kind]))
    .map((kind) =>
      el(
        "a",
        { href: found[kind], class: `link-out link-${kind}`, target: "_blank", rel: "noopener noreferrer" },
        LINK_TEXT[kind],
      ),
    );
  return anchors.length ? el("p", { class: "links" }, ...anchors.flatMap((a, i) => (i ? [" · ", a] : [a]))) : null;
}

/** The hit's theme as a chip; clicking it filters the list to that theme (when the page offers it). */
function themeChip(hit, onTheme) {
  const theme = hit.theme;
  if (!theme || typeof theme.label !== "string" || typeof theme.id !== "number") return null;
  const label = `Theme: ${theme.label}`;
  return onTheme
    ? el(
        "button",
        { type: "button", class: "chip", title: "Only papers of this theme", onclick: () => onTheme(theme) },
        label,
      )
    : el("span", { class: "chip" }, label);
}

/** "why related": the calibrated strength, the fused score and its parts, the shared key terms, the sentence. */
function explanation(hit) {
  const terms = Array.isArray(hit.shared_terms) ? hit.shared_terms : [];
  let why = ["Why related: close in meaning (no shared key terms)"];
  if (terms.length)
    why = ["Why related: shares ", ...terms.flatMap((term, i) => [i ? ", " : "", el("span", { class: "term" }, term)])];
  else if (!(hit.score > 0)) why = ["Why related: nothing shared with the query (weakest match)"];
  const strength = MATCH_TEXT[hit.match]
    ? [el("span", { class: `match match-${hit.match}` }, MATCH_TEXT[hit.match]), " "]
    : [];
  const probability = typeof hit.strength === "number" ? `probability ${fixed(hit.strength)}, ` : "";
  return [
    el(
      "p",
      { class: "hit-score" },
      ...strength,
      el("span", { class: "score" }, `score ${fixed(hit.score)}`),
      " ",
      el("span", { class: "parts" }, `(${probability}meaning ${fixed(hit.dense)}, words ${fixed(hit.lexical)})`),
    ),
    el("p", { class: "why" }, ...why),
    ...snippet(hit),
  ];
}

/** Journal · year, skipping what is missing. */
function venue(journal, year) {
  const parts = [];
  if (journal) parts.push(el("span", { class: "journal" }, journal));
  if (year) parts.push(el("span", { class: "year" }, String(year)));
  return parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
}

/** One result: title, journal, year, score and why it is related, with "Related papers" and the marks. */
export function renderHit(hit, { marks, onOpen, onSave, onTheme, onRemove }) {
  const titleId = uniqueId("hit-title");
  const actions = [
    el(
      "button",
      { type: "button", class: "open", "aria-describedby": titleId, onclick: () => onOpen(hit.id) },
      "Related papers",
    ),
    ...markButtons(marks, hit.id, hit.title, titleId),
  ];
  if (onSave)
    actions.push(
      el(
        "button",
        { type: "button", class: "save", "aria-describedby": titleId, onclick: (event) => onSave(hit, event.target) },
        "Save to collection",
      ),
    );
  if (onRemove)
    actions.push(
      el(
        "button",
        { type: "button", class: "remove", "aria-describedby": titleId, onclick: () => onRemove(hit) },
        "Remove from collection",
      ),
    );
  return el(
    "li",
    { class: hit.match === "weak" ? "hit weak" : "hit", dataset: { id: hit.id } },
    el("h3", { class: "hit-title", id: titleId }, hit.title || hit.id),
    authorLine(hit),
    el("p", { class: "hit-meta" }, ...venue(hit.journal, hit.year), " ", themeChip(hit, onTheme)),
    ...(hit.score === undefined ? snippet(hit) : explanation(hit)),
    linksOut(hit.links),
    el("div", { class: "hit-actions" }, ...actions),
  );
}

/**
 * A list of hits into `list` (an <ol>), or a line saying there are none. With `append`, the hits continue
 * the list (the next page): `before` is the hit shown just above them, for the weak-match divider.
 */
export function renderHits(list, hits, options, { append: more = false, before = null } = {}) {
  if (!hits.length && !more) {
    list.replaceChildren(el("li", { class: "empty" }, "No papers found. Try other words or fewer filters."));
    return;
  }
  const items = [];
  hits.forEach((hit, i) => {
    const previous = i ? hits[i - 1] : before;
    if (hit.match === "weak" && (!previous || previous.match !== "weak"))
      items.push(
        el("li", { class: "weak-divider", role: "separator" }, "Weak matches: little evidence that these are related"),
      );
    items.push(renderHit(hit, options));
  });
  if (more) list.append(...items);
  else list.replaceChildren(...items);
}

/** A stored record's links out (a record has identifiers, not the hit's ready-made links). */
export function paperLinks(paper) {
  const links = {};
  if (typeof paper.doi === "string" && paper.doi) links.doi = LINK_PREFIXES.doi + encodeURI(paper.doi).replace(/[#?]/g, encodeURIComponent);
  if (typeof paper.pmid === "string" && /^[0-9]+$/.test(paper.pmid)) links.pubmed = `${LINK_PREFIXES.pubmed}${paper.pmid}/`;
  if (typeof paper.pmcid === "string" && /^PMC[0-9]+$/.test(paper.pmcid))
    links.pmc = `${LINK_PREFIXES.pmc}articles/${paper.pmcid}/`;
  return links;
}

/** The abstract as paragraphs (structured abstracts keep their line breaks). */
function abstractParagraphs(text) {
  return String(text || "")
    .split(/\n+/)
    .filter((line) => line.trim())
    .map((line) => el("p", {}, line));
}

/** A paper's record: title, authors, venue, identifiers, abstract, and the marks for the paper itself. */
export function renderPaper(container, paper, { marks, headingId, level = "h2", actions = [] }) {
  const ids = [
    ["Id", paper.id],
    ["DOI", paper.doi],
    ["PMID", paper.pmid],
  ].filter(([, value]) => value);
  const authors = Array.isArray(paper.authors) ? paper.authors : [];
  append(clear(container), [
    el(level, { id: headingId, class: "paper-title", tabindex: "-1" }, paper.title || paper.id),
    authors.length
      ? el("p", { class: "authors" }, authors.slice(0, 12).join(", ") + (authors.length > 12 ? ", …" : ""))
      : null,
    el("p", { class: "hit-meta" }, ...venue(paper.journal, paper.year)),
    el("dl", { class: "ids" }, ...ids.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))])),
    linksOut(paperLinks(paper)),
    paper.abstract ? el("div", { class: "abstract" }, ...abstractParagraphs(paper.abstract)) : null,
    el("div", { class: "hit-actions" }, ...markButtons(marks, paper.id, paper.title, headingId), ...actions),
  ]);
  container.hidden = false;
}
