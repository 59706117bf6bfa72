"""PubMed XML, MEDLINE/nbib, RIS and BibTeX readers, on small files written here (broken ones included)."""

from __future__ import annotations

import gzip

from helpers import write

from recommender.ingest import Rejected, read_paths
from recommender.ingest.detect import sniff
from recommender.paper import Paper


def read(*paths):
    return list(read_paths(paths))


def papers(items) -> list[Paper]:
    return [item for _, _, item in items if isinstance(item, Paper)]


def rejections(items) -> list[tuple[str | None, str]]:
    return [(position, item.reason) for _, position, item in items if isinstance(item, Rejected)]


PUBMED_XML = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">40000001</PMID>
    <Article PubModel="Print-Electronic">
      <Journal>
        <JournalIssue CitedMedium="Internet"><Volume>21</Volume><PubDate><Year>2025</Year><Month>May</Month></PubDate></JournalIssue>
        <Title>Journal of Synthetic Tests</Title>
        <ISOAbbreviation>J Synth Tests</ISOAbbreviation>
      </Journal>
      <ArticleTitle>ABC1 keeps <i>detached</i> cells alive.</ArticleTitle>
      <ELocationID EIdType="doi" ValidYN="Y">10.5555/JST.2025.1</ELocationID>
      <Abstract>
        <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Detached cells die by anoikis.</AbstractText>
        <AbstractText Label="RESULTS" NlmCategory="RESULTS">ABC1 sustained ERK (p&lt;0.05) in 10<sup>4</sup> cells.</AbstractText>
        <CopyrightInformation>(c) 2025 Nobody.</CopyrightInformation>
      </Abstract>
      <AuthorList CompleteYN="Y">
        <Author ValidYN="Y"><LastName>Doe</LastName><ForeName>Jane Q</ForeName><Initials>JQ</Initials></Author>
        <Author ValidYN="Y"><CollectiveName>Synthetic Consortium</CollectiveName></Author>
      </AuthorList>
    </Article>
    <MeshHeadingList><MeshHeading><DescriptorName UI="D1">Anoikis</DescriptorName></MeshHeading></MeshHeadingList>
    <KeywordList Owner="NOTNLM"><Keyword MajorTopicYN="N">ERK</Keyword><Keyword>ABC1</Keyword></KeywordList>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="pubmed">40000001</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">40000002</PMID>
    <Article PubModel="Print">
      <Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue></Journal>
      <ArticleTitle>[Hypoxia in old tumours].</ArticleTitle>
      <Abstract><AbstractText>Translated abstract about hypoxia.</AbstractText></Abstract>
    </Article>
    <MedlineJournalInfo><MedlineTA>Old J</MedlineTA></MedlineJournalInfo>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="doi">10.5555/old.2</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>
<PubmedArticle>
  <MedlineCitation><PMID>40000003</PMID><Article><ArticleTitle>No abstract</ArticleTitle></Article></MedlineCitation>
</PubmedArticle>
<PubmedBookArticle>
  <BookDocument>
    <PMID Version="1">40000004</PMID>
    <Book><BookTitle>Synthetic Handbook</BookTitle><PubDate><Year>2020</Year></PubDate></Book>
    <ArticleTitle>A chapter on fibroblasts</ArticleTitle>
    <Abstract><AbstractText>Fibroblasts secrete IL-6.</AbstractText></Abstract>
  </BookDocument>
</PubmedBookArticle>
</PubmedArticleSet>
"""


def test_pubmed_xml_fields(tmp_path):
    items = read(write(tmp_path / "efetch.xml", PUBMED_XML))
    first, second, book = papers(items)
    assert first.id == "doi:10.5555/jst.2025.1" and first.pmid == "40000001"
    assert first.title == "ABC1 keeps detached cells alive."
    assert (
        first.abstract
        == "BACKGROUND: Detached cells die by anoikis. RESULTS: ABC1 sustained ERK (p<0.05) in 104 cells."
    )
    assert (first.doi, first.journal, first.year) == ("10.5555/jst.2025.1", "Journal of Synthetic Tests", 2025)
    assert first.authors == ["Jane Q Doe", "Synthetic Consortium"]
    assert first.keywords == ["ERK", "ABC1"] and first.mesh_terms == ["Anoikis"]
    assert (second.title, second.year, second.journal, second.doi) == (
        "Hypoxia in old tumours.",
        1998,
        "Old J",
        "10.5555/old.2",
    )
    assert (book.title, book.journal, book.year) == ("A chapter on fibroblasts", "Synthetic Handbook", 2020)
    assert rejections(items) == [("record 3 (PMID 40000003)", "no abstract (title: 'No abstract')")]


def test_pubmed_xml_gzipped_and_detected_by_content(tmp_path):
    path = tmp_path / "pubmed25n0001.bin"
    path.write_bytes(gzip.compress(PUBMED_XML.encode()))
    assert sniff(path) == "pubmed_xml"
    assert len(papers(read(path))) == 3


def test_truncated_pubmed_xml_keeps_what_came_before(tmp_path):
    cut = PUBMED_XML[: PUBMED_XML.index("<PubmedBookArticle>") + 40]
    items = read(write(tmp_path / "cut.xml", cut))
    assert len(papers(items)) == 2
    [(position, reason)] = [r for r in rejections(items) if "malformed" in r[1]]
    assert position is None and "truncated or malformed XML" in reason and "3 records read before it" in reason


def test_other_xml_is_refused_with_its_root(tmp_path):
    items = read(write(tmp_path / "jats.xml", '<?xml version="1.0"?><article><front/></article>'))
    assert rejections(items) == [
        (None, "unsupported XML document (root element <article>); PubMed XML and Zotero RDF are supported")
    ]
    empty_set = read(write(tmp_path / "none.xml", "<?xml version='1.0'?><PubmedArticleSet></PubmedArticleSet>"))
    assert rejections(empty_set) == [(None, "no PubmedArticle records in this XML file")]


MEDLINE = """
PMID- 40000011
OWN - NLM
TI  - TRIM32 degrades CHEK2 to promote
      anoikis resistance.
AB  - Metastasis needs anoikis resistance. TRIM32 degrades CHEK2
      and raises IL-6.
FAU - Wang, Liming
AU  - Wang L
FAU - Liu, Mei
DP  - 2025 Aug 19
TA  - Synth Oncol
JT  - Synthetic Oncology
LID - 10.5555/so.11 [doi]
MH  - *Anoikis
MH  - Humans
OT  - TRIM32

PMID- 40000012
TI  - A record without abstract
"""


def test_medline_nbib(tmp_path):
    items = read(write(tmp_path / "export.nbib", MEDLINE))
    [paper] = papers(items)
    assert paper.id == "doi:10.5555/so.11" and paper.pmid == "40000011"
    assert paper.title == "TRIM32 degrades CHEK2 to promote anoikis resistance."
    assert paper.abstract == "Metastasis needs anoikis resistance. TRIM32 degrades CHEK2 and raises IL-6."
    assert paper.authors == ["Liming Wang", "Mei Liu"]
    assert (paper.journal, paper.year, paper.keywords, paper.mesh_terms) == (
        "Synthetic Oncology",
        2025,
        ["TRIM32"],
        ["Anoikis", "Humans"],
    )
    assert rejections(items) == [("record 2", "no abstract (title: 'A record without abstract')")]


RIS = """TY  - JOUR
TI  - Fibroblasts secrete IL-6
AU  - Salam, S M Abdus
AU  - Jahan, Eshrat
PY  - 2025///
JO  - Synthetic Hematology
DO  - https://doi.org/10.5555/SH.5
AB  - Cancer-associated fibroblasts secrete IL-6 and activate STAT3.
KW  - CAF
KW  - IL-6
ER  -

TY  - JOUR
T1  - Record with no abstract
ER  -

TY  - JOUR
T1  - Abstract in N2
N2  - Notes used as the abstract by some managers.
Y1  - 2019/03/01/
T2  - Second Journal
ER  -
"""


def test_ris(tmp_path):
    items = read(write(tmp_path / "refs.ris", RIS))
    first, third = papers(items)
    assert first.id == "doi:10.5555/sh.5"
    assert first.authors == ["S M Abdus Salam", "Eshrat Jahan"]
    assert (first.year, first.journal, first.keywords) == (2025, "Synthetic Hematology", ["CAF", "IL-6"])
    assert (third.abstract, third.year, third.journal) == (
        "Notes used as the abstract by some managers.",
        2019,
        "Second Journal",
    )
    assert rejections(items) == [("record 2", "no abstract (title: 'Record with no abstract')")]


BIBTEX = r"""% exported by a reference manager
@article{wang2025,
  title = {{SERPINE1} Facilitates Metastasis},
  author = {Wang, Bofang and M{\"u}ller, Jens},
  journal = {Small},
  year = {2025},
  doi = {10.5555/smll.7},
  abstract = {SERPINE1 raises anoikis resistance by 50\% in gastric cancer cells.},
  keywords = {SERPINE1, anoikis}
}

@article{broken,
  title = {Missing closing brace,
  year = 2020

@misc{notitle, abstract = {Only an abstract, no title.}}
"""


def test_bibtex_with_a_broken_entry(tmp_path):
    items = read(write(tmp_path / "library.bib", BIBTEX))
    found = papers(items)
    paper = found[0]
    assert paper.id == "doi:10.5555/smll.7"
    assert paper.title == "SERPINE1 Facilitates Metastasis"
    assert paper.authors == ["Bofang Wang", "Jens Müller"]
    assert paper.abstract == "SERPINE1 raises anoikis resistance by 50% in gastric cancer cells."
    assert paper.keywords == ["SERPINE1", "anoikis"]
    reasons = rejections(items)
    assert any(position == "line 12" and reason.startswith("unreadable BibTeX entry") for position, reason in reasons)


def test_formats_are_recognised_by_content_not_extension(tmp_path):
    assert sniff(write(tmp_path / "a.txt", RIS)) == "ris"
    assert sniff(write(tmp_path / "b.txt", MEDLINE)) == "medline"
    assert sniff(write(tmp_path / "c.txt", BIBTEX)) == "bibtex"
    assert sniff(write(tmp_path / "d.txt", PUBMED_XML)) == "pubmed_xml"


def test_csv_column_mapping_and_missing_mapped_column(tmp_path):
    path = write(tmp_path / "sheet.csv", "Heading,Summary,Notes\nMy title,My abstract text,x\n")
    [paper] = papers(list(read_paths([path], {"title": "Heading", "abstract": "Summary"})))
    assert (paper.title, paper.abstract) == ("My title", "My abstract text")
    items = list(read_paths([path], {"abstract": "Abstract Text"}))
    assert rejections(items) == [
        (None, "column 'Abstract Text' (for abstract) not in the header (columns: Heading, Summary, Notes)")
    ]


def test_utf16_and_mixed_encodings(tmp_path):
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("title,abstract\nÉtude,Résumé complet\n".encode("utf-16"))
    mixed = write(
        tmp_path / "mixed.jsonl",
        '{"abstract": "caf\u00e9 utf-8"}\n'.encode() + '{"abstract": "caf\xe9 cp1252"}\n'.encode("cp1252"),
    )
    assert [p.abstract for p in papers(read(utf16, mixed))] == ["Résumé complet", "café utf-8", "café cp1252"]
