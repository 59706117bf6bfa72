"""Journal and author reading of copied pages: author lines and citation lines in many forms (made-up names and
journals), the evidence rules on small pages, and bounded cost on hostile lines."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recommender.ingest.text_page import (
    abbreviates,
    citation_journal,
    journal_head,
    journal_name,
    parse_person_list,
    parse_text_page,
)

ROOT = Path(__file__).resolve().parents[1]
ABSTRACT = (
    "Background: Detached tumour cells die unless survival signals persist after they leave the matrix. "
    "Methods: We grew cells in suspension and measured survival over three days in many conditions. "
    "Results: Loss of the kinase restored cell death in suspension and reduced metastasis in mice."
)


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("Ann Smith, Bo Chen and Carlos Ruiz", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann Smith1,2*, Bo Chen2,† & Carlos Ruiz3", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann Smith,1 Bo Chen,1,2 Carlos Ruiz,3 and Dana Wu1,*", ["Ann Smith", "Bo Chen", "Carlos Ruiz", "Dana Wu"]),
        ("Ann Smith 1 , Bo Chen 2 , Carlos Ruiz 1 2", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann Smith1 ; Bo Chen2 ; Carlos Ruiz1, 3", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Smith A, Chen B, Ruiz CM", ["Smith A", "Chen B", "Ruiz CM"]),
        ("Smith A, Chen B, Ruiz CM, et al.", ["Smith A", "Chen B", "Ruiz CM"]),
        ("Smith, Ann; Chen, Bo; Ruiz, Carlos", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Smith, A., Chen, B. & Ruiz, C.M.", ["A. Smith", "B. Chen", "C.M. Ruiz"]),
        ("Barreto, Luiza M.", ["Luiza M. Barreto"]),
        ("Ann Smitha,b, Bo Chenb, Carlos Ruiza, c", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann SmithAnn Smith1Bo ChenBo Chen2Carlos RuizCarlos Ruiz1*", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann Smith, MD, PhD1; Bo Chen, MD2; Carlos Ruiz, PhD3; et al", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        (
            "Ann Smith ORCID: orcid.org/0000-0002-1825-0097 1,2, Bo Chen ORCID Icon & Carlos Ruiz",
            ["Ann Smith", "Bo Chen", "Carlos Ruiz"],
        ),
        ("Ann Smith [1 ], Bo Chen [2 ]", ["Ann Smith", "Bo Chen"]),
        ("Authors: Ann Smith, Bo Chen", ["Ann Smith", "Bo Chen"]),
        ("By Ann Smith and Bo Chen", ["Ann Smith", "Bo Chen"]),
        ("Ludwig van Beethoven, Anne de Vries et al.", ["Ludwig van Beethoven", "Anne de Vries"]),
        ("Jing-Wen Luo, Tae-Hoon Kim, Sung-min Park _", ["Jing-Wen Luo", "Tae-Hoon Kim", "Sung-min Park"]),
        ("Lucía Ferrández-Olmo, Yamilé Castellanos Ortega", ["Lucía Ferrández-Olmo", "Yamilé Castellanos Ortega"]),
        ("Анна Сергеевна Иванова, Пётр Олегович Смирнов", ["Анна Сергеевна Иванова", "Пётр Олегович Смирнов"]),
        ("王小明, 李华, 张伟", ["王小明", "李华", "张伟"]),
        ("Ann Smith et al.", ["Ann Smith"]),
        ("Ann Smith, M.D., Bo Chen, Ph.D., and Carlos Ruiz, M.D.", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
        ("Ann Smith 1, Bo Chen 2, Carlos Ruiz 1,✉", ["Ann Smith", "Bo Chen", "Carlos Ruiz"]),
    ],
)
def test_author_lines_in_many_forms(line, names):
    assert parse_person_list(line) == names


@pytest.mark.parametrize(
    "line",
    [
        "Editors: Ann Smith, Bo Chen",
        "Academic Editor: Ann Smith",
        "Authors info & affiliations",
        "Authors and Affiliations",
        "Department of Oncology, Example University, Springfield, USA",
        "Esophageal Cancer Research and Treatment",
        "Abstract and Figures",
        "Volume 11, Issue 1",
        "Received04 Feb 2019, Revised19 Apr 2019",
        "Front. Oncol., 26 November 2020",
        "Loading PDF...",
        "Results, methods and more",
        "samuel okonkwo, wei-lin zhou",
        "Thieme E-Books & E-Journals",
        "Cancer-associated fibroblasts enhance metastatic potential of lung cancer cells",
    ],
)
def test_lines_that_are_not_author_lists(line):
    assert parse_person_list(line) is None


def test_words_the_page_writes_in_lower_case_are_not_names():
    assert parse_person_list("Rosa Bright, Ivo Silent") == ["Rosa Bright", "Ivo Silent"]
    assert parse_person_list("Bright Harbour, Silent Meadow", frozenset({"bright", "harbour", "meadow"})) is None


@pytest.mark.parametrize(
    ("line", "journal"),
    [
        ("Clin Test Oncol. 2023 Mar;12(3):45-56.", "Clin Test Oncol"),
        ("J Made Up Med. 2021;12(3):45–67", "J Made Up Med"),
        ("Int. J. Invented Sci. 2023, 24(3), 1187; https://doi.org/10.5555/x", "Int. J. Invented Sci"),
        ("Fict Rep 2020, 5, 123", "Fict Rep"),
        ("Journal of Imaginary Biology volume 26, pages 811–824 (2024)", "Journal of Imaginary Biology"),
        ("Rev Ficticia Oncol vol.38 no.2 Ciudad abr.-jun. 2022", "Rev Ficticia Oncol"),
        ("Front. Invented Oncol. 12:947120. doi: 10.5555/x", "Front. Invented Oncol"),
        ("Made Up ONE 16(6): e0252718.", "Made Up ONE"),
        ("Int. J. Pretend Cancer, 124: 1995–2001.", "Int. J. Pretend Cancer"),
        ("Journal of Pretend Studies 9(2):114-127", "Journal of Pretend Studies"),
        ("Journal of Pretend Studies 9 (2021)", "Journal of Pretend Studies"),
        ("World J Pretend Oncol. Aug 15, 2023; 15(8): 1402-1415", "World J Pretend Oncol"),
        ("In Vitro Fictions March 2022, 36 (2) 611-620; DOI: 10.5555/x", "In Vitro Fictions"),
        ("Fictional Oncology Letters, 2018, 5 (02) :101-112", "Fictional Oncology Letters"),
        ("Front. Invented Oncol., 26 November 2020", "Front. Invented Oncol"),
        ("Invented Oncotarget 2017 September 30", "Invented Oncotarget"),
        ("IMCJ [Internet]. 2023;6(01):12-19.", "IMCJ"),
        ("Published: 14 May 2024", None),
        ("Received 14 September 2020", None),
        ("Volume 11, Issue 1", None),
        ("Copyright © 2022 Smith, Chen", None),
        ("Epub 2021 Aug 30.", None),
        ("August 2021", None),
        ("Pages: 4471-4479", None),
    ],
)
def test_citation_lines_name_their_journal(line, journal):
    found = citation_journal(line)
    assert (found.rstrip(".") if found else None) == journal


@pytest.mark.parametrize(
    ("value", "journal"),
    [
        ("Oncogenic Pretend Reports, March 2023", "Oncogenic Pretend Reports"),
        ("2023, Annals of Made-up Pathology, № 7, p. 4410-4421", "Annals of Made-up Pathology"),
        ("Pretend Cancer Research, 2020, № 18, с. 3890-3904", "Pretend Cancer Research"),
        ("JOURNAL OF MADE UP SIGNALING | 2021年 / 12卷 / 04期", "JOURNAL OF MADE UP SIGNALING"),
        ("Cancer Pretend Research · 2025 · doi:10.5555/x", "Cancer Pretend Research"),
        ("Tumor Pretend Letters' Volume 14 on November 17, 2023", "Tumor Pretend Letters"),
    ],
)
def test_labelled_values_are_cut_at_the_date_or_volume(value, journal):
    assert journal_head(value)[0] == journal


@pytest.mark.parametrize(
    "text",
    ["All Journals", "Journal Information", "Citation tools", "Research Article | Open Access", "August",
     "Overview of attention for article published in", "Example University Hospital", "Revision received",
     "https://example.org/journal", "Volume 10", "Search"],
)  # fmt: skip
def test_menu_entries_dates_and_institutions_are_not_journals(text):
    assert journal_name(text) is None


@pytest.mark.parametrize(
    ("short", "full", "expected"),
    [
        ("Nat Cell Biol", "Nature Cell Biology", True),
        ("Front. Oncol", "Frontiers in Oncology", True),
        ("Int. J. Cancer", "International Journal of Cancer", True),
        ("Rev Cubana Sint Oncol", "Revista Cubana Sintética de Oncología", True),
        ("JAMA Oncol", "JAMA Oncology", True),
        ("Cancers", "Cancer Research", False),
        ("Cell Rep", "Cell Reports Medicine", False),
        ("Nature Cell Biology", "Nature Cell Biology", False),
    ],
)
def test_abbreviations_of_journal_names(short, full, expected):
    assert abbreviates(short, full) is expected


def page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "journal", "first_author"),
    [
        pytest.param(
            page("Skip to main content", "Journal of Pretend Oncology", "Explore this journal >", "Research Article",
                 "Lactate licenses anoikis resistance in detached carcinoma cells",
                 "Ann Smith, Bo Chen, Carlos Ruiz", "Volume 12, Issue 3, pages 45–56, 1 May 2021",
                 "How to Cite", "Smith, A., Chen, B. and Ruiz, C. (2021), Lactate licenses anoikis resistance in "
                 "detached carcinoma cells. J. Pretend Oncol., 12: 45–56.", "Abstract", ABSTRACT),
            "Journal of Pretend Oncology", "Ann Smith", id="masthead spells out the citation's abbreviation",
        ),
        pytest.param(
            page("Home / Journals / Acta Imaginaria / Volume 4", "Original Article",
                 "Lactate licenses anoikis resistance in detached carcinoma cells",
                 "Authors:", "  • Ann Smith1,", "  • Bo Chen2 &", "  • Carlos Ruiz1", "Abstract", ABSTRACT),
            "Acta Imaginaria", "Ann Smith", id="breadcrumb and labelled one-name-per-line list",
        ),
        pytest.param(
            page("Lactate licenses anoikis resistance in detached carcinoma cells", "Publication type",
                 "Journal Article", "Journal", "2022, Revista Imaginaria de Oncología, № 3, p. 10-19", "Authors",
                 "Ann Smith, Bo Chen", "Abstract", ABSTRACT),
            "Revista Imaginaria de Oncología", "Ann Smith", id="aggregator labels on their own lines",
        ),
        pytest.param(
            page("Lactate licenses anoikis resistance in detached carcinoma cells", "Видання: Уявна онкологія, 2021",
                 "Автори: Ann Smith, Bo Chen", "Анотація", ABSTRACT),
            "Уявна онкологія", "Ann Smith", id="Ukrainian labels",
        ),
        pytest.param(
            page("Lactate licenses anoikis resistance in detached carcinoma cells", "Smith A, Chen B, Ruiz C",
                 "Abstract", ABSTRACT, "Correspondence to: Dr Ann Smith, Example University"),
            None, "Ann Smith", id="no journal evidence; a 'Last F' author spelt out by the correspondence line",
        ),
        pytest.param(
            page("Lactate licenses anoikis resistance in detached carcinoma cells", "Academic Editor: Dora Editor",
                 "Reviewed by:", "Eve Reviewer", "Abstract", ABSTRACT),
            None, None, id="editors and reviewers are not authors",
        ),
        pytest.param(
            page("Lactate licenses anoikis resistance in detached carcinoma cells", "Abstract", ABSTRACT,
                 "Similar articles", "Other paper about cells.", "Nobody C, Someone D. Fict Rev. 2018;3(2):11-19."),
            None, None, id="a similar article's citation gives neither",
        ),
        pytest.param(
            page("bioRxiv preprint first posted online Mar. 4, 2018; doi: 10.1101/000001.",
                 "Lactate licenses anoikis resistance in detached carcinoma cells",
                 "Ann Smith1, Bo Chen2*", "Abstract", ABSTRACT),
            "bioRxiv", "Ann Smith", id="preprint server",
        ),
    ],
)  # fmt: skip
def test_pages_give_journal_and_first_author_by_evidence(text, journal, first_author):
    fields = parse_text_page(text)
    assert fields.journal == journal
    assert (fields.authors[0] if fields.authors else None) == first_author


def _run_child(code: str, timeout: float) -> dict:
    script = f"import json, sys, time\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(code)
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"took more than {timeout} s")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_hostile_author_and_citation_lines_cost_linear_time():
    """A full window of long hostile lines: time at 4x the line length grows < 8x (quadratic would be 16x)."""
    result = _run_child(
        """
        from recommender.ingest import text_page as tp
        from recommender.ingest.page_lines import _kind

        PIECES = ["Ann Smith1,2*, ", "Ann Smitha, b, ", "Ann SmithAnn Smith1", "Journal of Things. 2021;12(3):45. ",
                  "Journal of Things / 2021 / ", "Journal: ", "a. B c ", "author={", "ORCID ", "Volume 1 ",
                  "Smith A et al. J Things. 2021 ", "1, ", " " * 7 + "x"]

        def cost(piece, size):
            line = (piece * (size // len(piece) + 1))[:size]
            lines = [line if i % 2 else "Ann Smith, Bo Chen" for i in range(200)]
            page = tp.PageLines(lines, [_kind(text) for text in lines], len(lines))
            started = time.perf_counter()
            tp.find_journal(page, line[:200], [], None)
            tp.find_authors(page, line[:200], [])
            return time.perf_counter() - started

        ratios = {}
        for piece in PIECES:
            low, high = cost(piece, 450), cost(piece, 1800)
            ratios[piece] = [low, high, high / max(low, 1e-3)]
        print(json.dumps(ratios))
        """,
        timeout=120,
    )
    slow = {piece: value for piece, value in result.items() if value[2] >= 8 and value[1] > 0.05}
    assert not slow, slow
