"""The retrieval evaluation harness: trec_eval scores checked by hand, run files, both query modes."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from helpers import CORPUS, TOPIC, FakeEmbedder, fake_factory, jsonl, write

from recommender.cli import main
from recommender.errors import InvalidInputError
from recommender.evaluation import evaluate_retrieval, read_qrels, score_run, write_run


def test_scores_match_hand_computed_values():
    qrels = {"q1": {"d1": 1, "d3": 2, "d9": 1}, "q2": {"d5": 1}}
    run = {"q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7}, "q2": {}}
    # q1: gains 1, 0, 2 at ranks 1-3; ideal 2, 1, 1. q2 has no results and counts as 0.
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    average_precision = (1 / 1 + 2 / 3) / 3  # relevant at ranks 1 and 3, three relevant in all
    scores = score_run(qrels, run)
    assert scores.ndcg_at_10 == pytest.approx(dcg / idcg / 2, abs=1e-4)
    assert scores.recall_at_100 == pytest.approx((2 / 3) / 2, abs=1e-4)
    assert scores.map == pytest.approx(average_precision / 2, abs=1e-4)
    assert list(scores.to_dict()) == ["ndcg@10", "recall@100", "map"]


def test_qrels_formats(tmp_path):
    beir = write(tmp_path / "beir.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n")
    trec = write(tmp_path / "trec.txt", "q1 0 d1 1\nq2 0 d7 2\n")
    assert read_qrels(beir) == {"q1": {"d1": 1, "d2": 0}}
    assert read_qrels(trec) == {"q1": {"d1": 1}, "q2": {"d7": 2}}
    with pytest.raises(InvalidInputError):
        read_qrels(write(tmp_path / "bad.tsv", "q\td\tr\nq1\td1\tnot-a-number\n"))


def test_run_file_format(tmp_path):
    path = tmp_path / "x.run"
    write_run(path, {"q1": {"a": 0.2, "b": 0.9}}, tag="t")
    assert path.read_text().splitlines() == ["q1 Q0 b 1 0.900000 t", "q1 Q0 a 2 0.200000 t"]


@pytest.fixture()
def labelled(tmp_path):
    corpus = write(tmp_path / "corpus.jsonl", jsonl(CORPUS))
    queries = write(
        tmp_path / "queries.jsonl",
        jsonl(
            [
                {"id": "t1", "text": "anoikis resistance of detached cells"},
                {"id": "t2", "text": "hypoxia HIF-1alpha glycolysis"},
                {"id": "t3", "text": "no judgements for this one"},
            ]
        ),
    )
    qrels = write(
        tmp_path / "qrels.tsv",
        "query_id\tdoc_id\trelevance\n"
        + "".join(f"t1\t{d}\t1\n" for d in ("a1", "a2", "a3"))
        + "".join(f"t2\t{d}\t1\n" for d in ("h1", "h2", "h3")),
    )
    paper_queries = write(tmp_path / "paper_queries.jsonl", jsonl([{"id": "c1"}, {"id": "h1"}]))
    paper_qrels = write(tmp_path / "paper_qrels.tsv", "q\td\tr\nc1\tc2\t1\nc1\tc3\t1\nh1\th2\t1\nh1\th3\t1\n")
    return corpus, queries, qrels, paper_queries, paper_qrels


def test_text_mode_scores_every_mode_and_writes_runs(labelled, tmp_path):
    corpus, queries, qrels, _, _ = labelled
    result = evaluate_retrieval(corpus, queries, qrels, FakeEmbedder(), run_dir=tmp_path / "runs")
    assert (result.queries, result.corpus) == (2, len(CORPUS))
    assert set(result.modes) == {"dense", "lexical", "hybrid"}
    assert result.modes["hybrid"].recall_at_100 == 1.0
    assert result.modes["lexical"].ndcg_at_10 > 0.9
    lines = (tmp_path / "runs" / "hybrid.run").read_text().splitlines()
    assert lines[0].split()[:4] == ["t1", "Q0", lines[0].split()[2], "1"] and lines[0].endswith("recommender-hybrid")
    assert {line.split()[0] for line in lines} == {"t1", "t2"}


def test_paper_mode_excludes_the_query_paper(labelled, tmp_path):
    corpus, _, _, paper_queries, paper_qrels = labelled
    result = evaluate_retrieval(corpus, paper_queries, paper_qrels, FakeEmbedder(), paper_mode=True, run_dir=tmp_path)
    assert result.modes["hybrid"].recall_at_100 == 1.0
    for line in (tmp_path / "hybrid.run").read_text().splitlines():
        qid, _, doc, *_ = line.split()
        assert qid != doc


def test_paper_mode_needs_corpus_ids(labelled, tmp_path):
    corpus, *_ = labelled
    queries = write(tmp_path / "q.jsonl", jsonl([{"id": "c1"}, {"id": "h9"}]))
    qrels = write(tmp_path / "r.tsv", "q\td\tr\nc1\tc2\t1\nh9\th2\t1\n")
    with pytest.raises(InvalidInputError, match="not papers of the corpus"):
        evaluate_retrieval(corpus, queries, qrels, FakeEmbedder(), paper_mode=True)


def test_cli_evaluate_json(labelled, index_dir):
    corpus, queries, qrels, _, _ = labelled
    result = CliRunner().invoke(
        main,
        ["evaluate", "retrieval", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels), "--json"],
        obj={"embedder_factory": fake_factory},
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body["modes"]["dense"]) == {"ndcg@10", "recall@100", "map"}
    assert (body["queries"], body["corpus"]) == (2, len(CORPUS))
    # No index is written; only the embedding cache, so a second evaluation with the model reuses its vectors.
    assert [path.name for path in index_dir.iterdir()] == [".cache"]


def test_evaluate_clustering_scores_themes_and_the_baseline(tmp_path, index_dir):
    records = [{**record, "labels": [TOPIC[record["id"]]]} for record in CORPUS]
    records.append({"id": "two", "abstract": "hypoxia and anoikis", "labels": ["a", "h"]})
    records.append({"id": "none", "abstract": "no label here"})
    corpus = write(tmp_path / "labelled.jsonl", jsonl(records))
    result = CliRunner().invoke(
        main, ["evaluate", "clustering", "--corpus", str(corpus), "--json"], obj={"embedder_factory": fake_factory}
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["k"], body["n"], body["left_out"]) == (3, len(CORPUS), 2)
    assert set(body["model"]) == set(body["baseline"]) == {"nmi", "ari", "v_measure"}
    assert body["model"]["nmi"] == 1.0
    assert 0.0 <= body["baseline"]["nmi"] <= 1.0


def test_evaluate_clustering_help_names_every_baseline_it_prints(tmp_path, index_dir):
    """Found by a README check: the help named one baseline while the command prints two."""
    records = [{**record, "labels": [TOPIC[record["id"]]]} for record in CORPUS]
    corpus = write(tmp_path / "labelled.jsonl", jsonl(records))
    runner = CliRunner()
    printed = runner.invoke(
        main, ["evaluate", "clustering", "--corpus", str(corpus)], obj={"embedder_factory": fake_factory}
    )
    assert printed.exit_code == 0, printed.output
    baselines = [line[:22].strip() for line in printed.stdout.splitlines()[2:]]
    assert baselines == ["themes", "TF-IDF + KMeans", "TF-IDF + SVD + KMeans"]
    shown = " ".join(runner.invoke(main, ["evaluate", "clustering", "--help"]).stdout.split())
    assert "two lexical baselines" in shown
    assert "TF-IDF + KMeans" in shown and "SVD + KMeans" in shown


def test_clustering_scores_by_hand():
    from recommender.evaluation import clustering_scores

    assert clustering_scores(["a", "a", "b", "b"], [1, 1, 0, 0]).to_dict() == {"nmi": 1.0, "ari": 1.0, "v_measure": 1.0}
    assert clustering_scores(["a", "a", "b", "b"], [0, 1, 0, 1]).ari < 0


def test_cached_terms_give_the_same_scores(labelled, tmp_path):
    from recommender.terms_cache import TermsCache

    corpus, queries, qrels, _, _ = labelled
    plain = evaluate_retrieval(corpus, queries, qrels, FakeEmbedder())
    cache = TermsCache(tmp_path / "cache")
    first = evaluate_retrieval(corpus, queries, qrels, FakeEmbedder(), terms_cache=cache)
    assert cache.path.exists()
    second = evaluate_retrieval(corpus, queries, qrels, FakeEmbedder(), terms_cache=cache)
    assert plain.modes == first.modes == second.modes
