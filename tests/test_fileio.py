"""Atomic writes (recommender.fileio): the target holds the old content or the new, never a mix, and no
temporary file is left behind, whether the write succeeds or fails."""

from __future__ import annotations

import pytest

from recommender.fileio import atomic_write_bytes, atomic_write_text, atomic_writer


def test_a_write_replaces_the_whole_file(tmp_path) -> None:
    path = tmp_path / "CURRENT"
    atomic_write_text(path, "old\n")
    atomic_write_bytes(path, b"new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["CURRENT"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("earlier export\n")
    with pytest.raises(RuntimeError), atomic_writer(path) as handle:
        handle.write("half of a new export")
        raise RuntimeError("the writer failed")
    assert path.read_text() == "earlier export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_the_writer_keeps_line_ends_as_written(tmp_path) -> None:
    path = tmp_path / "rows.csv"
    with atomic_writer(path, newline="") as handle:
        handle.write("a\r\nb\r\n")
    assert path.read_bytes() == b"a\r\nb\r\n"


def test_a_missing_folder_is_an_error_not_a_stray_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "missing" / "file.json", "{}")
    assert list(tmp_path.iterdir()) == []
