"""Journal-like PDFs made for the tests (never downloaded): HTML pages in common article layouts, printed to PDF by
Debian's chromium through Playwright. The text is made up; the layouts imitate a one-column journal page, a
two-column journal page, a preprint, and a structured abstract in a box, each with its furniture (running
header, licence line, received/accepted dates, footer with the DOI and page number).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@dataclass(frozen=True)
class Article:
    title: str
    authors: tuple[str, ...]
    journal: str
    year: int
    doi: str
    abstract: tuple[tuple[str, str], ...]  # (section label or "", text)
    body: str = (
        "Tumour progression depends on interactions between cancer cells and their microenvironment. Previous "
        "work identified several candidate pathways, but their relative contributions remain unclear. Here we "
        "address this question in a series of complementary models."
    )

    @property
    def abstract_text(self) -> str:
        return " ".join(f"{label}: {text}" if label else text for label, text in self.abstract)


ARTICLES = (
    Article(
        "Detached ovarian cancer cells evade anoikis through fatty acid oxidation driven by CPT1A",
        ("Lena Marquardt", "Tomás Ibarra", "Yui Nakagawa"),
        "Journal of Synthetic Oncology",
        2023,
        "10.5555/jso.2023.0412",
        (
            (
                "",
                "Ovarian cancer cells that detach from the primary tumour must survive in ascites, where loss of "
                "matrix attachment normally triggers anoikis. We show that detached cells switch to fatty acid "
                "oxidation through the carnitine shuttle enzyme CPT1A, which sustains ATP and NADPH levels. "
                "Silencing CPT1A restored anoikis in suspension culture and reduced peritoneal metastasis in mice. "
                "Metabolic rewiring is therefore a route to anoikis resistance and a candidate therapeutic target.",
            ),
        ),
    ),
    Article(
        "Cancer-associated fibroblasts secrete interleukin-6 to activate STAT3 signalling in gastric cancer",
        ("Hyun-woo Seo", "Priya Raman", "Daniel Okafor", "Maren Holt"),
        "Synthetic Gastric Research",
        2021,
        "10.5555/sgr.2021.118",
        (
            (
                "Background",
                "Cancer-associated fibroblasts shape the gastric tumour microenvironment, but how they "
                "signal to tumour cells is incompletely understood.",
            ),
            (
                "Methods",
                "We co-cultured patient-derived fibroblasts with gastric cancer cell lines and profiled "
                "secreted cytokines, STAT3 phosphorylation and invasion.",
            ),
            (
                "Results",
                "Fibroblasts secreted interleukin-6, which activated STAT3 in tumour cells and doubled "
                "their invasion; neutralising antibodies reversed both effects.",
            ),
            (
                "Conclusions",
                "Fibroblast-derived interleukin-6 drives STAT3 signalling and invasion in gastric "
                "cancer and may be a target for stromal therapy.",
            ),
        ),
    ),
    Article(
        "Hypoxia-inducible factor 1 alpha reprograms glycolysis in glioblastoma stem-like cells",
        ("Aksel Berg", "Camille Fontaine"),
        "Neuro-Oncology Synthetic Letters",
        2019,
        "10.5555/nosl.2019.77",
        (
            (
                "",
                "Glioblastoma stem-like cells reside in hypoxic niches that protect them from therapy. Using "
                "isotope tracing, we found that hypoxia-inducible factor 1 alpha increased glycolytic flux and "
                "lactate export through MCT4 in these cells. Blocking MCT4 reduced sphere formation and delayed "
                "tumour growth in orthotopic xenografts. Hypoxic metabolic adaptation thus supports the stem-like "
                "state and offers a vulnerability for treatment.",
            ),
        ),
    ),
    Article(
        "Loss of the tumour suppressor LKB1 promotes immune evasion in lung adenocarcinoma",
        ("Rafael Duarte", "Ingrid Solheim", "Wei Zhang"),
        "Thoracic Cancer Synthetic Reports",
        2024,
        "10.5555/tcsr.2024.0031",
        (
            (
                "",
                "Mutations in STK11, which encodes LKB1, are associated with poor responses to immune checkpoint "
                "blockade in lung adenocarcinoma. In genetically engineered mouse models, LKB1 loss reduced "
                "antigen presentation and recruited suppressive neutrophils through CXCL5. Restoring antigen "
                "presentation or depleting neutrophils re-sensitised tumours to PD-1 blockade. These findings "
                "explain checkpoint resistance in LKB1-deficient tumours and suggest combination strategies.",
            ),
        ),
    ),
    Article(
        "Telomerase reverse transcriptase promoter mutations predict recurrence of bladder cancer",
        ("Sofia Rinaldi", "Kwame Mensah", "Eero Virtanen"),
        "Urologic Synthetic Oncology",
        2020,
        "10.5555/uso.2020.904",
        (
            (
                "Objective",
                "To test whether TERT promoter mutations in urine predict recurrence after resection of "
                "non-muscle-invasive bladder cancer.",
            ),
            (
                "Patients and methods",
                "Urine samples from 312 patients were genotyped before and after surgery and "
                "patients were followed for a median of 38 months.",
            ),
            (
                "Results",
                "Persistent TERT promoter mutations after surgery predicted recurrence with a hazard "
                "ratio of 3.4, independently of stage and grade.",
            ),
            ("Conclusions", "Urinary TERT promoter mutation testing may guide surveillance after surgery."),
        ),
    ),
)

STYLE = """
body { font-family: 'DejaVu Serif', 'Liberation Serif', serif; font-size: 10pt; margin: 0; }
.running { font-size: 8pt; color: #444; border-bottom: 1px solid #888; padding-bottom: 2pt; margin-bottom: 14pt; }
h1 { font-size: 20pt; line-height: 1.15; margin: 0 0 10pt 0; font-weight: bold; }
.authors { font-size: 11pt; margin-bottom: 4pt; }
.affil, .dates, .licence { font-size: 7.5pt; color: #333; margin-bottom: 3pt; }
h2 { font-size: 11pt; margin: 10pt 0 4pt 0; }
.abstract p { margin: 0 0 4pt 0; text-align: justify; }
.box { border: 1px solid #000; padding: 6pt; margin: 8pt 0; }
.columns { column-count: 2; column-gap: 16pt; text-align: justify; }
.footer { font-size: 7.5pt; margin-top: 18pt; border-top: 1px solid #888; padding-top: 2pt; }
"""


def _abstract_html(article: Article) -> str:
    return "".join(
        f"<p><b>{html.escape(label)}:</b> {html.escape(text)}</p>" if label else f"<p>{html.escape(text)}</p>"
        for label, text in article.abstract
    )


def article_html(article: Article, layout: str) -> str:
    """One of the layouts ``one-column``, ``two-column``, ``preprint``, ``boxed`` for ``article``."""
    e = html.escape
    authors = ", ".join(e(name) + f"<sup>{i % 2 + 1}</sup>" for i, name in enumerate(article.authors))
    header = f"<div class='running'>{e(article.journal)} {article.year}; 12(3): 201–214 · Research Article</div>"
    meta = (
        f"<div class='affil'><sup>1</sup>Department of Synthetic Oncology, Example University, Sampletown"
        f"<br><sup>2</sup>Institute of Imaginary Medicine, Fictional City</div>"
        f"<div class='dates'>Received: 3 March {article.year}; Accepted: 9 June {article.year}; "
        f"Published: 1 July {article.year}</div>"
        f"<div class='licence'>© The Authors {article.year}. Open Access under a made-up licence for tests.</div>"
    )
    abstract = f"<h2>Abstract</h2><div class='abstract'>{_abstract_html(article)}</div>"
    keywords = "<p><b>Keywords:</b> synthetic; test; cancer biology</p>"
    body = f"<h2>1. Introduction</h2><p>{e(article.body)} {e(article.body)}</p>"
    footer = f"<div class='footer'>https://doi.org/{e(article.doi)} · {e(article.journal)} · Page 1 of 14</div>"
    title = f"<h1>{e(article.title)}</h1><div class='authors'>{authors}</div>"
    if layout == "one-column":
        content = header + title + meta + abstract + keywords + body + footer
    elif layout == "two-column":
        content = header + title + meta + f"<div class='columns'>{abstract}{keywords}{body}{body}</div>" + footer
    elif layout == "preprint":
        content = (
            "<div class='running'>bioRxiv preprint doi: https://doi.org/" + e(article.doi) + "; this version "
            f"posted July 1, {article.year}. The copyright holder for this preprint is the author.</div>"
            + title
            + meta.replace("Received", "Submitted")
            + abstract
            + body
        )
    elif layout == "boxed":
        content = header + title + meta + f"<div class='box'>{abstract}</div>" + keywords + body + footer
    else:
        raise ValueError(layout)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>{content}</body></html>"
    )


LAYOUTS = ("one-column", "two-column", "preprint", "boxed")

SCANNED_HTML = """<!DOCTYPE html><html><body><canvas id='c' width='800' height='300'></canvas><script>
const c = document.getElementById('c').getContext('2d'); c.font = '28px serif';
c.fillText('A scanned page: these words are pixels, not text.', 20, 80);
c.fillText('Abstract: nothing here can be read without OCR.', 20, 140);
</script></body></html>"""


@contextmanager
def pdf_printer() -> Iterator:
    """A function ``print_pdf(html, path)`` backed by one headless chromium for the whole block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()

        def print_pdf(document: str, path: Path) -> Path:
            page.set_content(document, wait_until="load")
            page.pdf(
                path=str(path), format="A4", margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
            )
            return path

        try:
            yield print_pdf
        finally:
            browser.close()
