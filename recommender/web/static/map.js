// The theme map: every paper as a dot on a <canvas>, coloured by theme, with a hover tooltip, click to open,
// year and journal filters, and the theme list as the keyboard and screen-reader alternative to the canvas.
//
// Built for 20,000 papers: the columns of GET /themes/map become typed arrays once; a redraw is one path per
// theme; hit-testing looks only at the dots in the grid cells around the pointer. A larger corpus arrives as a
// sample of at most ~25,000 points (recommender/themes/points.py) and the counts say so.

import { ApiError, api } from "./api.js";
import { count, el, perFrame } from "./dom.js";

// Colour-blind-aware first colours (Tableau 10), then evenly spread hues for maps with many themes.
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#edc948",
  "#76b7b2",
  "#ff9da7",
  "#9c755f",
  "#8c8c3a",
];
const NO_THEME = "#a0a4a8";
const PICK_RADIUS = 7; // how near the pointer a dot must be to be picked
const CELL = 16; // hit-testing grid cell, CSS pixels (>= PICK_RADIUS, so the 3x3 cells around cover it)
const PAD = 12;
const REPRESENTATIVES_SHOWN = 3;

/** Dot radius in CSS pixels: big dots for a small corpus, small ones so 20,000 papers stay legible. */
function radiusFor(n) {
  if (n <= 500) return 5;
  return n <= 5000 ? 3.5 : 2.5;
}

const SVG = "http://www.w3.org/2000/svg";
const CHART_WIDTH = 160;
const CHART_HEIGHT = 28;

/** An SVG element with attributes (the page builds its charts itself: no library, nothing fetched). */
function svgElement(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

/**
 * A theme's papers per year as small bars, with its trend ("growing share of the corpus") as text; null when
 * the theme has no dated papers. Each bar's title says the year, the papers and their share of that year.
 */
export function yearChart(theme, colour) {
  const timeline = theme.timeline || {};
  const counts = Object.entries(timeline.counts || {}).map(([year, n]) => [Number(year), n]);
  if (!counts.length) return null;
  const first = counts[0][0];
  const last = counts[counts.length - 1][0];
  const span = Math.min(last - first + 1, 80);
  const start = last - span + 1;
  const top = Math.max(...counts.map(([, n]) => n));
  const width = CHART_WIDTH / span;
  const byYear = new Map(counts);
  const bars = [];
  for (let year = start; year <= last; year += 1) {
    const n = byYear.get(year) || 0;
    if (!n) continue;
    const height = (CHART_HEIGHT * n) / top;
    const share = 100 * ((timeline.share || {})[String(year)] || 0);
    bars.push(
      svgElement(
        "rect",
        {
          x: ((year - start) * width).toFixed(1),
          y: (CHART_HEIGHT - height).toFixed(1),
          width: Math.max(width - 1, 0.5).toFixed(1),
          height: height.toFixed(1),
          fill: colour,
        },
        svgElement("title", {}, `${year}: ${n} papers (${share.toFixed(0)}% of that year's papers)`),
      ),
    );
  }
  const trend = timeline.trend ? `, ${timeline.trend} share of the corpus` : "";
  const label = `Papers per year, ${start} to ${last}${trend}`;
  const chart = svgElement(
    "svg",
    { class: "year-chart", width: CHART_WIDTH, height: CHART_HEIGHT, viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`, role: "img", "aria-label": label },
    ...bars,
  );
  return el(
    "div",
    { class: "theme-years" },
    chart,
    el("span", { class: `theme-trend trend-${timeline.trend || "none"}` }, `${start}–${last}${trend}`),
  );
}

/** The colour of a theme id (-1: no theme). */
export function themeColour(themeId) {
  if (themeId < 0) return NO_THEME;
  if (themeId < PALETTE.length) return PALETTE[themeId];
  return `hsl(${((themeId * 137.508) % 360).toFixed(1)} 55% 45%)`;
}

/** The named themes typed one per line (blank lines dropped), at most 20 as the API allows. */
function seedNames(textarea) {
  if (!textarea) return [];
  return textarea.value
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, 20);
}

/** An integer from a number input, or null when empty or not a number. */
function intValue(input) {
  const value = Number.parseInt(input.value, 10);
  return Number.isFinite(value) ? value : null;
}

export class ThemeMap {
  /**
   * @param elements the page's map elements (canvas, tooltip, busy, region, count, themeList, yearMin, yearMax,
   *   journal, journalList, reset, k, method, seeds)
   * @param hooks onSelect(id) opens a paper; announce(text) and onError(error) report to the user.
   */
  constructor(elements, { onSelect, announce, onError, onExport }) {
    this.e = elements;
    this.onSelect = onSelect;
    this.onExport = onExport;
    this.query = "";
    this.announce = announce;
    this.onError = onError;
    this.data = null;
    this.stale = true;
    this.loading = false;
    this.selectedTheme = null;
    this.selectedPoint = -1;
    this.hovered = -1;
    this.redraw = perFrame(() => this.draw());
    this.onPointer = perFrame((x, y) => this.hover(x, y));
    this.bindEvents();
  }

  bindEvents() {
    const { canvas, yearMin, yearMax, journal, reset } = this.e;
    canvas.addEventListener("pointermove", (event) => this.onPointer(event.offsetX, event.offsetY));
    canvas.addEventListener("pointerleave", () => this.hideTooltip());
    canvas.addEventListener("click", (event) => this.click(event.offsetX, event.offsetY));
    for (const input of [yearMin, yearMax, journal]) input.addEventListener("input", () => this.refilter());
    reset.addEventListener("click", () => this.resetFilters());
    new ResizeObserver(() => this.redraw()).observe(canvas);
  }

  /** Called when the map view is shown: fit/fetch the map the first time (or after papers were added). */
  show() {
    if (this.stale && !this.loading) this.load();
    else this.redraw();
  }

  /** GET /themes/map with the chosen k and method; a first fit on a big corpus takes seconds: show it. */
  async load() {
    const params = new URLSearchParams();
    const k = intValue(this.e.k);
    if (k !== null) params.set("k", String(k));
    if (this.e.method.value && this.e.method.value !== "spectral") params.set("method", this.e.method.value);
    for (const name of seedNames(this.e.seeds)) params.append("seed_themes", name);
    this.setBusy(true);
    this.announce("Fitting the theme map…");
    try {
      const query = params.toString();
      const data = await this.fetchMap(query ? `/themes/map?${query}` : "/themes/map");
      this.query = query; // the export of a theme asks for the same map
      this.setData(data);
      this.stale = false;
      this.announce(`Theme map: ${count(this.total)} papers in ${data.themes.length} themes.`);
    } catch (error) {
      this.onError(error);
    } finally {
      this.setBusy(false);
    }
  }

  /**
   * The map answer. While another map is being fitted the server answers 409 "busy" at once (it keeps its
   * threads for other requests): wait and ask again, for up to two minutes.
   */
  async fetchMap(path) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return (await api(path)).data;
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== "busy" || attempt >= 24) throw error;
        this.announce("Another theme map is being fitted; trying again in a few seconds…");
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }
  }

  setBusy(busy) {
    const { region, busy: note } = this.e;
    this.loading = busy;
    region.setAttribute("aria-busy", String(busy));
    note.hidden = !busy;
    clearInterval(this.busyTimer);
    if (busy) {
      const started = Date.now();
      note.textContent = "Fitting the theme map… The first map of a large corpus takes a while.";
      this.busyTimer = setInterval(() => {
        const seconds = Math.round((Date.now() - started) / 1000);
        note.textContent = `Fitting the theme map… ${seconds} s (the first map of a large corpus takes a while).`;
      }, 1000);
    }
  }

  /** The answer's columns as typed arrays, dots grouped by theme for drawing, and the filters' ranges. */
  setData(data) {
    const n = data.id.length;
    this.data = data;
    this.n = n;
    // A large corpus comes as a sample of its points (every theme in proportion): counts say so.
    this.total = data.total ?? n;
    this.sampled = Boolean(data.sampled);
    this.x = Float64Array.from(data.x);
    this.y = Float64Array.from(data.y);
    this.theme = Int32Array.from(data.theme);
    this.year = Int32Array.from(data.year, (year) => year || 0);
    this.journal = Int32Array.from(data.journal);
    this.px = new Float32Array(n);
    this.py = new Float32Array(n);
    this.visible = new Uint8Array(n);
    this.index = new Map(data.id.map((id, i) => [id, i]));
    this.themes = new Map(data.themes.map((theme) => [theme.id, theme]));
    this.bounds = this.computeBounds();
    this.groups = this.groupByTheme();
    this.selectedTheme = null;
    this.selectedPoint = -1;
    this.setFilterRanges();
    this.renderThemeList();
    this.refilter();
  }

  /**
   * The drawn extent. From 200 papers on, the 0.5th to 99.5th percentiles (plus a margin): a few far-out papers
   * would otherwise squeeze the whole corpus into a corner; those few are drawn at the edge.
   */
  computeBounds() {
    const range = (values) => {
      const sorted = Float64Array.from(values).sort();
      const cut = this.n >= 200 ? Math.floor(this.n * 0.005) : 0;
      const low = sorted[cut];
      const high = sorted[this.n - 1 - cut];
      const margin = cut ? (high - low) * 0.05 : 0;
      return [low - margin, high - low + 2 * margin || 1];
    };
    if (!this.n) return { minX: 0, minY: 0, spanX: 1, spanY: 1 };
    const [minX, spanX] = range(this.x);
    const [minY, spanY] = range(this.y);
    return { minX, minY, spanX, spanY };
  }

  /** Dot indices per theme id (no-theme first, so themed dots are drawn on top). */
  groupByTheme() {
    const groups = new Map();
    for (let i = 0; i < this.n; i++) {
      const theme = this.theme[i];
      if (!groups.has(theme)) groups.set(theme, []);
      groups.get(theme).push(i);
    }
    return [...groups]
      .sort(([a], [b]) => a - b)
      .map(([theme, members]) => ({ theme, members: Int32Array.from(members) }));
  }

  setFilterRanges() {
    const { yearMin, yearMax, journal, journalList } = this.e;
    let low = Infinity;
    let high = -Infinity;
    for (const year of this.year) {
      if (!year) continue;
      low = Math.min(low, year);
      high = Math.max(high, year);
    }
    for (const input of [yearMin, yearMax]) {
      input.value = "";
      if (Number.isFinite(low)) {
        input.min = String(low);
        input.max = String(high);
      }
    }
    yearMin.placeholder = Number.isFinite(low) ? String(low) : "";
    yearMax.placeholder = Number.isFinite(high) ? String(high) : "";
    journal.value = "";
    journalList.replaceChildren(...this.data.journals.slice(0, 5000).map((name) => el("option", { value: name })));
  }

  resetFilters() {
    this.e.yearMin.value = "";
    this.e.yearMax.value = "";
    this.e.journal.value = "";
    this.selectTheme(null);
  }

  /** Which dots pass the year range, the journal text and the chosen theme. */
  refilter() {
    if (!this.data) return;
    const low = intValue(this.e.yearMin);
    const high = intValue(this.e.yearMax);
    const text = this.e.journal.value.trim().toLowerCase();
    const journalOk = text
      ? Uint8Array.from(this.data.journals, (name) => (name.toLowerCase().includes(text) ? 1 : 0))
      : null;
    let shown = 0;
    for (let i = 0; i < this.n; i++) {
      const year = this.year[i];
      const ok =
        (low === null || (year && year >= low)) &&
        (high === null || (year && year <= high)) &&
        (journalOk === null || (this.journal[i] >= 0 && journalOk[this.journal[i]] === 1)) &&
        (this.selectedTheme === null || this.theme[i] === this.selectedTheme);
      this.visible[i] = ok ? 1 : 0;
      shown += ok ? 1 : 0;
    }
    this.shown = shown;
    const theme = this.selectedTheme === null ? null : this.themes.get(this.selectedTheme);
    const of = this.sampled
      ? `${count(this.n)} points, a sample of the ${count(this.total)} papers (every theme in proportion)`
      : `${count(this.n)} papers`;
    this.e.count.textContent = `Showing ${count(shown)} of ${of}` + (theme ? ` in the theme “${theme.label}”.` : ".");
    this.redraw();
  }

  /** Draw every visible dot: one path per theme; then the grid for hit-testing. */
  draw() {
    const { canvas } = this.e;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!this.data || !width || !height) return; // hidden view: drawn when shown
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    this.project(width, height);
    const radius = radiusFor(this.n);
    for (const { theme, members } of this.groups) {
      context.fillStyle = themeColour(theme);
      context.beginPath();
      for (const i of members) {
        if (!this.visible[i]) continue;
        context.moveTo(this.px[i] + radius, this.py[i]);
        context.arc(this.px[i], this.py[i], radius, 0, 2 * Math.PI);
      }
      context.fill();
    }
    this.drawSelection(context, radius);
    this.buildGrid(width, height);
    canvas.dataset.drawn = String(this.shown);
  }

  /** Data coordinates to CSS pixels (y up), with a margin so edge dots are whole; outliers at the edge. */
  project(width, height) {
    const { minX, minY, spanX, spanY } = this.bounds;
    const w = Math.max(1, width - 2 * PAD);
    const h = Math.max(1, height - 2 * PAD);
    const clamp = (value) => Math.min(1, Math.max(0, value));
    for (let i = 0; i < this.n; i++) {
      this.px[i] = PAD + clamp((this.x[i] - minX) / spanX) * w;
      this.py[i] = PAD + (1 - clamp((this.y[i] - minY) / spanY)) * h;
    }
  }

  drawSelection(context, radius) {
    for (const [i, colour] of [
      [this.hovered, "#555"],
      [this.selectedPoint, "#111"],
    ]) {
      if (i < 0 || !this.visible[i]) continue;
      context.beginPath();
      context.arc(this.px[i], this.py[i], radius + 3, 0, 2 * Math.PI);
      context.lineWidth = 2;
      context.strokeStyle = colour;
      context.stroke();
    }
  }

  /** Visible dots bucketed by grid cell (a counting sort into one flat array). */
  buildGrid(width, height) {
    const columns = Math.ceil(width / CELL) + 1;
    const rows = Math.ceil(height / CELL) + 1;
    const cellOf = new Int32Array(this.n).fill(-1);
    const starts = new Int32Array(columns * rows + 1);
    for (let i = 0; i < this.n; i++) {
      if (!this.visible[i]) continue;
      const cell = Math.floor(this.py[i] / CELL) * columns + Math.floor(this.px[i] / CELL);
      cellOf[i] = cell;
      starts[cell + 1] += 1;
    }
    for (let c = 1; c < starts.length; c++) starts[c] += starts[c - 1];
    const fill = starts.slice();
    const members = new Int32Array(starts[starts.length - 1]);
    for (let i = 0; i < this.n; i++) if (cellOf[i] >= 0) members[fill[cellOf[i]]++] = i;
    this.grid = { columns, rows, starts, members };
  }

  /** The visible dot nearest (x, y) within PICK_RADIUS, or -1. */
  pick(x, y) {
    if (!this.grid) return -1;
    const { columns, rows, starts, members } = this.grid;
    const column = Math.floor(x / CELL);
    const row = Math.floor(y / CELL);
    let best = -1;
    let bestDistance = PICK_RADIUS * PICK_RADIUS;
    for (let r = Math.max(0, row - 1); r <= Math.min(rows - 1, row + 1); r++) {
      for (let c = Math.max(0, column - 1); c <= Math.min(columns - 1, column + 1); c++) {
        const cell = r * columns + c;
        for (let m = starts[cell]; m < starts[cell + 1]; m++) {
          const i = members[m];
          const distance = (this.px[i] - x) ** 2 + (this.py[i] - y) ** 2;
          if (distance <= bestDistance) {
            bestDistance = distance;
            best = i;
          }
        }
      }
    }
    return best;
  }

  hover(x, y) {
    const i = this.pick(x, y);
    if (i !== this.hovered) {
      this.hovered = i;
      this.redraw();
    }
    this.e.canvas.style.cursor = i >= 0 ? "pointer" : "default";
    if (i < 0) {
      this.e.tooltip.hidden = true;
      return;
    }
    this.showTooltip(i, x, y);
  }

  /** The dot's title, theme, journal and year, as text, beside the pointer and inside the map. */
  showTooltip(i, x, y) {
    const { tooltip, canvas } = this.e;
    const theme = this.themes.get(this.theme[i]);
    const journal = this.journal[i] >= 0 ? this.data.journals[this.journal[i]] : "";
    tooltip.replaceChildren(
      el("strong", { class: "tooltip-title" }, this.data.title[i] || this.data.id[i]),
      el("span", { class: "tooltip-theme" }, theme ? `Theme: ${theme.label}` : "No theme"),
      el("span", { class: "tooltip-venue" }, [journal, this.year[i] || ""].filter(Boolean).join(" · ")),
    );
    tooltip.hidden = false;
    const left = Math.min(x + 14, canvas.clientWidth - tooltip.offsetWidth - 4);
    const top = y + 14 + tooltip.offsetHeight > canvas.clientHeight ? y - tooltip.offsetHeight - 10 : y + 14;
    tooltip.style.left = `${Math.max(4, left)}px`;
    tooltip.style.top = `${Math.max(4, top)}px`;
  }

  hideTooltip() {
    this.e.tooltip.hidden = true;
    if (this.hovered >= 0) {
      this.hovered = -1;
      this.redraw();
    }
  }

  click(x, y) {
    const i = this.pick(x, y);
    if (i >= 0) this.selectPaper(this.data.id[i]);
  }

  /** Mark the paper's dot and open it (from a click on the map or a representative in the theme list). */
  selectPaper(id) {
    this.selectedPoint = this.index.has(id) ? this.index.get(id) : -1;
    this.redraw();
    this.onSelect(id);
  }

  /** Show only one theme (null: all), reflected in the theme buttons' pressed state. */
  selectTheme(themeId) {
    this.selectedTheme = themeId;
    for (const button of this.e.themeList.querySelectorAll("button.theme-button")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.theme) === themeId));
    }
    this.refilter();
    const theme = themeId === null ? null : this.themes.get(themeId);
    this.announce(theme ? `Showing the theme “${theme.label}”: ${count(this.shown)} papers.` : "Showing all themes.");
  }

  /** The theme list: a toggle per theme (colour, label, size, terms) and its most representative papers. */
  renderThemeList() {
    const items = this.data.themes.map((theme) => {
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = themeColour(theme.id);
      const representatives = (theme.representatives || [])
        .slice(0, REPRESENTATIVES_SHOWN)
        .filter((id) => this.index.has(id));
      return el(
        "li",
        { class: "theme" },
        el(
          "button",
          {
            type: "button",
            class: "theme-button",
            "aria-pressed": "false",
            dataset: { theme: String(theme.id) },
            onclick: () => this.selectTheme(this.selectedTheme === theme.id ? null : theme.id),
          },
          swatch,
          el("span", { class: "theme-label" }, theme.label),
          " ",
          el("span", { class: "theme-size" }, `${count(theme.size)} papers`),
        ),
        theme.seed ? el("p", { class: "theme-named" }, theme.size ? "Named theme (yours)" : "Named theme: no paper fits it") : null,
        theme.terms && theme.terms.length
          ? el("p", { class: "theme-terms" }, theme.terms.slice(0, 6).join(", "))
          : null,
        yearChart(theme, themeColour(theme.id)),
        this.onExport && theme.size
          ? el(
              "button",
              {
                type: "button",
                class: "theme-export",
                "aria-label": `Export the papers of ${theme.label}`,
                onclick: () => this.onExport(theme, this.query),
              },
              "Export theme",
            )
          : null,
        el(
          "ul",
          { class: "representatives", "aria-label": `Representative papers of ${theme.label}` },
          ...representatives.map((id) =>
            el(
              "li",
              {},
              el(
                "button",
                { type: "button", class: "link-button", onclick: () => this.selectPaper(id) },
                this.data.title[this.index.get(id)] || id,
              ),
            ),
          ),
        ),
      );
    });
    const unthemed = this.data.unthemed ?? this.theme.reduce((total, theme) => total + (theme < 0 ? 1 : 0), 0);
    if (unthemed) items.push(el("li", { class: "theme no-theme" }, `${count(unthemed)} papers fit no theme (grey).`));
    this.e.themeList.replaceChildren(...items);
  }
}
