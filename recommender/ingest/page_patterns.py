"""The named line patterns of a copied page, shared by every rule of :mod:`.text_page`.

A page's lines are told apart by what they match: furniture (banners, buttons, notices), the markers that end
the abstract or the paper, "Abstract" headings and structured-abstract labels in many interface languages,
citation and date lines, DOI/PMID/keyword lines, and the words that mark an institution, a journal or a month.
They live here, apart from the rules that use them, because the line model, the abstract, the title, the
fields, the journal and the people on a page all read the same vocabulary.
"""

from __future__ import annotations

import re

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR = r"(?:1[89]|20)\d{2}"
_DATE = (
    rf"(?:{_YEAR}(?:\s+{_MONTH})?(?:\s+\d{{1,2}})?"
    rf"|(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?{_YEAR})"
)


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


# Lines that are never content: banners, buttons, app and cookie notices, badges.
FURNITURE = _rx(
    r"^(?:add|remove)\s+(?:like|dislike|to\b.*)$",
    r"^(?:skip|jump)\s+to\b",
    r"official website of the united states government",
    r"^the \.gov means",
    r"federal government websites",
    r"^dot gov$",
    r"^https?$",
    r"^u\.?s\.? flag$",
    r"the site is secure",
    r"https:// ensures",
    r"^access keys\b",
    r"ncbi homepage",
    r"^main (?:content|navigation)$",
    r"^(?:share|cite|save|email|print|download(?: pdf| article| citation)?|view pdf|pdf|full text|get access|"
    r"sign in|log ?in|register|subscribe|menu|search|home|back|next|previous|more|less|show (?:more|less)|"
    r"expand|collapse|open|close|permalink|copy(?: link)?|export|send to|display options|actions|follow|"
    r"go to|view|read more|see more|toggle|translate|listen|bookmark|alert|alerts|request permissions|"
    r"article|research article|original article|review|review article|open access|free article|"
    r"free pmc article|letter|editorial|abstract only|check for updates|metrics|details|tools)\W*$",
    r"\bcookies?\b",
    r"privacy (?:policy|choices|settings)",
    r"terms (?:of use|and conditions|of service)",
    r"all rights reserved",
    r"copyright\s*(?:©|\(c\)|\d{4})",
    r"^©",
    r"mobile app",
    r"^for the best experience",
    r"get seemless",
    r"get seamless",
    r"claim (?:free )?cme",
    r"institutional (?:access|subscription)",
    r"^we have located links",
    r"^can.t access",
    r"^mobile app image",
    r"toggle icon",
    r"^comments?\s*\(\d+\)$",
    r"^\d+\s+comments?$",
    r"this website also contains material",
    r"^by using this service",
    r"^(?:affiliations?|author information|authors? and affiliations|author details)\W*$",
    r"^impact factor",
    r"periodicalif",
    r"^\d+(?:\.\d+)?k?\s*(?:citations?|reads|views|downloads|readers)$",
    r"^(?:pubmed|pmc|google scholar|crossref|europe pmc|semantic scholar|scopus|web of science)\W*$",
    r"^get rights and content$",
    r"this is a preview of subscription content",
    r"^under a creative commons licen[cs]e",
    r"^journal home ?page for\b",
    r"^add to (?:mendeley|zotero|library)",
    r"^download(?:: | full issue| high-res)",
    r"^share this article$",
    r"^citations? (?:&|and) impact$",
    r"^free full text$",
    r"^(?:sign in|log in)\b.{0,40}account",
    r"^search life-sciences literature",
    r"^here'?s how you know$",
    r"^view (?:pdf|article|full text)\b",
    r"^(?:expand|collapse) all$",
    r"^this article has not been cited",
    r"^(?:figures?|tables?|similar articles|cited by|linkout|substances|publication types|grant support|"
    r"full text links|related resources|related information|pubmed disclaimer|supplementary (?:info|information|"
    r"materials?)|associated data|conflict of interest statement|data availability)\W*$",
)
# Lines after which the abstract cannot continue (metadata may still follow).
ABSTRACT_END = _rx(
    r"^(?:key ?words?|keywords|index terms|mesh terms|mesh)\b\s*[:：]?",
    r"^(?:palabras clave|palavras-chave|mots[- ]cl[ée]s|schlüsselwörter|schlagwörter|parole chiave|trefwoorden|"
    r"słowa kluczowe|ключові слова|ключевые слова|từ khóa|关键词|關鍵詞|キーワード|키워드)\b",
    r"^(?:core tip|strengths and limitations of this study|key points|highlights)\s*[:：]?",
    r"^(?:citation|cite this article|how to cite|editor|edited by|reviewed by|received|accepted|published|"
    r"copyright|data availability|funding|competing interests|academic editor|article information|"
    r"about this article|article metrics|themen|topics)\s*[:：]",
    r"^(?:figures?|fig\.?|table)\s+\d+\b",
    r"^(?:figures? - uploaded by|content may be subject to copyright|discover the world|citations? \(\d+\))",
    r"^(?:pubmed disclaimer|full text links|comments?\s*\(\d+\)|conflict of interest|competing interests?|"
    r"figures?|tables?|mesh terms|substances|grant support|funding|acknowledg(?:e)?ments?|"
    r"author contributions?|declarations?|ethics|abbreviations|supplementary|copyright|related resources|"
    r"graphical abstract|highlights|cited by|similar articles|publication types)\b",
    r"^(?:1\.?\s*)?introduction\W*$",
)
# Lines after which nothing belongs to the paper any more (reference lists, journal blurbs).
DOCUMENT_END = _rx(
    r"^(?:references?|list of references|bibliography|literature cited|works cited|similar articles|cited by|"
    r"related articles|recommended articles|citing articles|more like this)\s*[:：]?$",
    r"^(?:referencias|referências|références|literatur|literaturverzeichnis|bibliografia|riferimenti|"
    r"список літератури|список литературы|литература|tài liệu tham khảo|các bài báo tương tự|参考文献|"
    r"相似文献|参考資料|참고문헌)\s*(?:bibliográficas)?\s*[:：]?$",
    r"^期刊介绍",
    r"^(?:about (?:the|this) journal|journal (?:introduction|description|overview|information))\W*$",
)
# A marker after which the next block is machine-generated text about the paper, not the paper.
GENERATED = _rx(
    rf"^generated\b.{{0,40}}{_YEAR}$",
    r"^(?:ai[- ]generated|summary generated|generated summary|tl;?dr)\b",
    r"^(?:key (?:points|findings|takeaways)|plain language summary|ai summary|in brief)\W*$",
)
#: "Abstract" in the interface languages researchers meet (English first; Spanish/Portuguese, French, German,
#: Italian, Dutch, Polish, Ukrainian, Russian, Vietnamese, Chinese, Japanese, Korean).
ABSTRACT_WORDS = (
    r"abstract|summary|a b s t r a c t|resumen|resumo|résumé|zusammenfassung|kurzfassung|riassunto|sommario|"
    r"samenvatting|streszczenie|анотація|аннотация|реферат|tóm tắt|摘要|要旨|抄録|초록|original abstract"
)
#: A site's "read more" at the end of a shortened abstract (searched in the last 200 characters only).
TRAILING_MORE = re.compile(
    r"\s*(?:…|\.\.\.)?\s*(?:continue reading|read more|show more|see more|\(more\)|\[more\]|expand)\s*$", re.IGNORECASE
)
ABSTRACT_HEADING = re.compile(rf"^(?:#{{1,6}}\s*)?(?:{ABSTRACT_WORDS})\s*[:.：]?$", re.IGNORECASE)
ABSTRACT_INLINE = re.compile(r"^(?i:abstract)(?:\s*[:.\-–—]\s*|\s?(?=[A-Z]))(?P<rest>.{40,})$")
SECTION_LABEL = re.compile(
    r"^(?P<label>(?:background|introduction|objectives?|aims?(?: and scope)?|purpose|context|importance|"
    r"rationale|hypothesis|methods?|methodology|materials? and methods|design|setting|participants|patients|"
    r"interventions?|measurements|main outcome measures?|outcomes?|results?|findings|conclusions?|"
    r"interpretation|significance|implications|limitations|trial registration|registration|evidence|"
    r"study selection|data sources|data extraction|data synthesis|case presentation|case report|discussion|"
    r"summary|problem|approach|observations?|key results|what is known|what is new|"
    r"introducción|objetivos?|métodos|material y métodos|materiales y métodos|resultados|conclusiones|"
    r"introdução|conclusões|objectifs?|méthodes|résultats|hintergrund|methoden|ergebnisse|"
    r"schlussfolgerungen?|fragestellung|目的|方法|结果|結果|结论|結論|背景)"
    r"(?:\s+(?:and|&)\s+[a-z]+)?)\s*(?:[:.]\s*(?P<rest>.*)|$)",
    re.IGNORECASE,
)
#: A structured-abstract label glued to the end of the previous sentence ("...by 45%.Conclusion").
GLUED_LABEL = re.compile(
    r"(?<=[.!?])\s{0,1}(Background|Objectives?|Methods|Results|Conclusions?|Interpretation|Findings|"
    r"Free full text|Full text links|Read more|View article|Show more)(?=[A-Z:\s]|$)"
)
#: A structured-abstract label with no colon before its text ("Objectives To examine", "Design Cohort study",
#: "Main outcome measures Overall survival"), recognised only inside an abstract being collected.
BARE_LABEL = re.compile(
    r"^(?P<label>Background|Objectives?|Aims?|Purpose|Design|Setting|Participants|Interventions?|Methods|"
    r"Main outcome measures?|Primary and secondary outcome measures|Results|Conclusions?|Interpretation|"
    r"Trial registration(?: number)?)\s{1,2}(?P<rest>[A-Z0-9].{10,})$"
)
#: A structured-abstract label glued to the start of its text ("ObjectiveTo investigate", "MethodsCAFs were",
#: "3021 Background:" of a meeting abstract, Chinese labels "方法分离").
LEADING_LABEL = re.compile(
    r"^(?:\d{1,5}\s+(?=(?:Background|Purpose|Objectives?)\s*:))?"
    r"(?:(Background|Objectives?|Methods|Results|Conclusions?)(?=[A-Z][a-z])|(目的|方法|结果|結果|结论|結論)(?=[^\s:：]))"
    r"|^\d{1,5}\s+(?=(?:Background|Purpose|Objectives?)\s*:)"
)
SHORT_CITATION = re.compile(
    rf"^(?P<author>[^.;:]{{2,80}}?)\s+et\s+al\.?,?\s+(?P<journal>[^\d]{{2,120}}?)\.\s+(?P<year>{_YEAR})\b"
)
LONG_CITATION = re.compile(
    rf"^(?P<journal>[^\d;]{{0,120}}?)\.?\s*(?P<year>{_YEAR})(?:\s+{_MONTH})?(?:\s+\d{{1,2}})?;\s*\d",
    re.IGNORECASE,
)
# Possessive runs (``\d++``, ``[^\s,]++``): a run of digits or of an issue number is never split in two, which
# made each split retry the scan for the year (quadratic on a long line). "(" before the year is optional and
# the lazy scan would take it anyway, so it is not matched.
VOLUME_CITATION = re.compile(
    rf"^(?P<journal>[A-Z][^\d]{{1,120}}?)[,.]?\s++vol(?:ume)?\.?\s*+\d++.*?(?P<year>{_YEAR})", re.IGNORECASE
)
VOLUME_ISSUE = re.compile(
    rf"^vol(?:ume)?\.?\s*+\d++\s*+,\s*+(?:issue|no\.?)\s*+[^\s,]++\s*+,\s*+(?P<date>.*?{_YEAR})", re.IGNORECASE
)
JOURNAL_COMMA_DATE = re.compile(rf"^(?P<journal>[A-Z][^,\d]{{2,100}}),\s+(?P<date>{_DATE})\s*,\s*\d", re.IGNORECASE)
JOURNAL_DATE = re.compile(rf"^(?P<journal>[A-Z][^\d:;()]{{1,120}}?)[,.]?\s+(?P<date>{_DATE})\.?$", re.IGNORECASE)
DATE_WORDS = re.compile(
    r"^(?:generated|published|received|accepted|revised|epub|updated|posted|online|copyright|available|"
    r"first published|issue date|date|submitted|printed|version|last modified|created|cited)\b",
    re.IGNORECASE,
)
DATED_LINE = re.compile(
    rf"\b(?:published|epub|online|issue date|publication date|date)\b\D{{0,30}}?(?P<year>{_YEAR})", re.IGNORECASE
)
DOI_LABELLED = re.compile(r"(?:\bdoi\s*:?\s*|doi\.org/)(?P<doi>10\.\d{4,9}/\S+)", re.IGNORECASE)
DOI_ANY = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")
#: Lines whose DOI is another paper's (a correction notice, a comment, the article it replies to).
DOI_ELSEWHERE = re.compile(
    r"\b(?:correction|erratum|corrigendum|retraction|retracted|comment on|reply to|update to)\b", re.I
)
DOI_LINE = re.compile(r"^doi\b\s*:?\s*(?:https?://(?:dx\.)?doi\.org/)?10\.", re.IGNORECASE)
PMID_LINE = re.compile(r"\bPMID\s*:?\s*(?P<pmid>\d{1,9})\b")
KEYWORDS_LINE = re.compile(r"^(?:key ?words?|keywords|index terms)\s*[:：]\s*(?P<terms>.+)$", re.IGNORECASE)
KEYWORDS_HEADING = re.compile(r"^(?:key ?words?|keywords|index terms)\s*[:：]?$", re.IGNORECASE)
MESH_HEADING = re.compile(r"^mesh terms\s*[:：]?$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
BULLET = re.compile(r"^[•·▪◦*–-]\s")
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]?\s+[A-Z]")
#: Longest line the title, author, citation and keyword rules look at: longer lines are prose (or an attack),
#: and keeping the rules to bounded lines bounds their cost whatever the patterns. The abstract is not capped.
MAX_RULE_LINE_CHARS = 2000
BIBTEX_FIELD = re.compile(r"\b(?P<key>journal|author)\s*+=\s*+[{\"](?P<value>[^{}\"]{2,2000}+)[}\"]", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]{4,}")

#: Words of an institution's name: with no word of a journal's title beside them, the line is an affiliation.
_INSTITUTION_WORD = re.compile(
    r"\b(?:universit\w*|institut\w*|hospital\w*|department|departamento|center|centre|centro|college|school|"
    r"faculty|facultad|laborator\w*|clinic|klinik\w*|ministry|foundation|association|society|press|publishers?|"
    r"publications|publishing|verlag|editora|editorial)\b",
    re.IGNORECASE,
)
_STRONG_JOURNAL_WORD = re.compile(
    r"\b(?:journal|revista|revue|rivista|zeitschrift|tijdschrift|czasopismo|annals?|annales|anales|archives?|"
    r"bulletin|proceedings|acta|transactions|letters|reports|reviews?|gazette|record|журнал|вестник|вісник)\b",
    re.IGNORECASE,
)
#: Month names and their abbreviations, as whole words ("Nov" is one; "Novak" is not).
_MONTH_WORD = re.compile(
    r"^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?$",
    re.IGNORECASE,
)


def _glued_words(text: str) -> bool:
    """Run-together interface text or names ("AbstractFull TextInfo/History", "Marta GilMarta Gil1Haruto")."""
    return len(re.findall(r"[a-z][A-Z][a-z]", text)) >= 2
