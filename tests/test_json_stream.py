"""JSON documents over the 20 MB whole-document cap, streamed item by item (CSL-JSON exports of 20,000 papers).

The streamer is checked with small limits on in-memory text (every path: arrays, ``{"papers": [...]}``,
broken syntax, items cut by the read buffer, limits), and end to end on a real file over the cap.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from recommender.ingest import Rejected, json_stream, read_paths
from recommender.ingest.json_stream import JsonItemTooLarge, JsonStreamError, stream_items
from recommender.paper import Paper

KEYS = ("papers", "records", "items")


def stream(text: str, item_limit: int = 10_000, total_limit: int = 1_000_000) -> list[object]:
    return list(stream_items(io.StringIO(text), KEYS, item_limit, total_limit))


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads of a few characters, so every item and token straddles the buffer's end somewhere."""
    monkeypatch.setattr(json_stream, "_CHUNK_CHARS", 3)


@pytest.mark.parametrize("chunks", ["default", "tiny"])
def test_items_decode_as_json_loads_decodes_them(request: pytest.FixtureRequest, chunks: str) -> None:
    if chunks == "tiny":
        request.getfixturevalue("tiny_chunks")
    values = [
        {"title": "T", "abstract": "A", "issued": {"date-parts": [[2021, 5]]}},
        {"n": -12.5e3, "big": 12345678901234567890, "flags": [True, False, None], "u": "é\u2028\ud800"},
        {"nested": {"a": [{"b": [1, 2, {"c": "d"}]}]}},
        "a string",
        1234567,
        [],
        {},
    ]
    text = json.dumps(values, indent=2)
    assert stream(text) == json.loads(text)
    assert stream(json.dumps(values, separators=(",", ":"))) == values
    assert stream('[{"year": NaN}, {"year": -Infinity}]')[1] == {"year": float("-inf")}


@pytest.mark.parametrize("chunks", ["default", "tiny"])
def test_a_list_under_a_key_is_streamed_and_other_values_skipped(request: pytest.FixtureRequest, chunks: str) -> None:
    if chunks == "tiny":
        request.getfixturevalue("tiny_chunks")
    text = '{"meta": {"count": 2, "x": [1, 2]}, "papers": [{"a": 1}, {"a": 2}], "records": [{"b": 3}], "z": 1}'
    assert stream(text) == [{"a": 1}, {"a": 2}]  # the first list under a known key
    assert stream(" \n [ ] \n") == [] and stream('{"papers": []}') == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1},\n{"a": 2} {"a": 3}]', "not valid JSON (Expecting ',' delimiter at line 2)"),
        ('[{"a": 1},\n\n{"a": }]', "not valid JSON (Expecting value at line 3)"),
        ('[{"a": 1}, ]', "not valid JSON (Expecting value at line 1)"),
        ('[{"a": "unterminated', "not valid JSON (Unterminated string starting at line 1)"),
        ('[{"a": 1}', "not valid JSON (Expecting ',' delimiter at line 1)"),
        ('[{"a": 1}] x', "not valid JSON (Extra data at line 1)"),
        ('"just a string"', "not valid JSON (expected a list of records: '[' or '{' at line 1)"),
        ('{"papers" [1]}', "not valid JSON (Expecting ':' delimiter at line 1)"),
        ("{papers: [1]}", "not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        ("[" + "[" * 100_000 + "]" * 100_000 + "]", "unreadable JSON (nested too deeply)"),
        ('[{"n": ' + "9" * 5000 + "}]", "unreadable JSON (Exceeds the limit"),
    ],
)
def test_bad_syntax_stops_the_stream_with_its_line(text: str, message: str) -> None:
    with pytest.raises(JsonStreamError) as raised:
        stream(text)
    assert str(raised.value).startswith(message), raised.value


def test_items_before_the_fault_are_yielded_first() -> None:
    items = stream_items(io.StringIO('[{"a": 1}, {"a": 2}, {"a": }]'), KEYS, 10_000, 1_000_000)
    assert next(items) == {"a": 1} and next(items) == {"a": 2}
    with pytest.raises(JsonStreamError):
        next(items)


def test_limits() -> None:
    with pytest.raises(JsonItemTooLarge, match=r"JSON record \(item 2\) larger than 0 MB"):
        stream('[{"a": 1}, {"a": "' + "x" * 2000 + '"}]', item_limit=1000)
    with pytest.raises(JsonItemTooLarge, match=r"JSON record \(item 1\) larger than 0 MB"):
        stream("[" + " " * 5000 + "]", item_limit=1000)  # blanks count towards an item
    with pytest.raises(JsonItemTooLarge, match="JSON document larger than 0 MB"):
        stream("[" + '{"a": 1},' * 100 + '{"a": 1}]', total_limit=300)
    with pytest.raises(JsonItemTooLarge, match=r"JSON document larger than 0 MB that is not a list of records"):
        stream('{"title": "one huge record", "abstract": "A"}')
    with pytest.raises(JsonItemTooLarge, match=r"not a list of records \(papers, records, items\); use JSON Lines"):
        stream('{"title": "T", "abstract": "' + "x" * 2000 + '", "papers": []}', item_limit=1000)


def test_a_large_item_is_decoded_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """An item of 8 MB read 3 characters at a time at first: the buffer doubles, so it is decoded ~20 times,
    not millions."""
    import time

    monkeypatch.setattr(json_stream, "_CHUNK_CHARS", 3)
    text = '[{"abstract": "' + "word " * 1_600_000 + '"}]'
    started = time.perf_counter()
    (item,) = stream(text, item_limit=20_000_000, total_limit=50_000_000)
    assert len(item["abstract"]) == 8_000_000  # type: ignore[index]
    assert time.perf_counter() - started < 5


# --------------------------------------------------------------------------------------------- files
def big_json(path: Path, records: list[dict], wrap: str | None = None) -> Path:
    """A JSON document over the 20 MB cap: ``records`` then filler records with 9 KB abstracts."""
    filler = [{"title": f"Filler {n}", "abstract": f"Filler {n}. " + "Cells and tissues. " * 500} for n in range(2400)]
    body = ",\n".join(json.dumps(record, ensure_ascii=False) for record in [*records, *filler])
    text = f"[\n{body}\n]\n" if wrap is None else f'{{"meta": {{"n": 1}}, "{wrap}": [\n{body}\n]}}\n'
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size > 20 * 1024 * 1024
    return path


def test_a_papers_object_over_the_cap_is_streamed(tmp_path: Path) -> None:
    path = big_json(tmp_path / "papers.json", [{"title": "First", "abstract": "A first abstract."}], wrap="papers")
    items = [item for _, _, item in read_paths([path])]
    assert len(items) == 2401 and all(isinstance(item, Paper) for item in items)
    assert items[0].title == "First" and items[0].source.endswith(":item 1")  # type: ignore[union-attr]


def test_a_bad_record_in_a_stream_is_rejected_alone_and_a_broken_tail_ends_it(tmp_path: Path) -> None:
    deep: dict = {"abstract": "x"}
    for _ in range(70):
        deep = {"journal": deep}
    path = big_json(tmp_path / "mixed.json", [{"abstract": "Good."}, deep, ["not", "an", "object"]])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("garbage")
    items = [item for _, _, item in read_paths([path])]
    assert isinstance(items[0], Paper)
    assert isinstance(items[1], Rejected) and items[1].reason == "record nested more than 64 levels deep"
    assert isinstance(items[2], Rejected) and items[2].reason == "expected a JSON object, got list"
    assert isinstance(items[-1], Rejected) and items[-1].reason.startswith("not valid JSON (Extra data at line")
    assert items[-1].reason.endswith("; 2,403 records read before it")
