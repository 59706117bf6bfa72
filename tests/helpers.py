"""Test helpers: a fake embedder, file writers and a small synthetic corpus (written for these tests)."""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from waitress import wasyncore

from recommender.model_profiles import ModelConfig, model_config
from recommender.service import Recommender
from recommender.settings import Settings
from recommender.tokenizer import tokenize
from recommender.web.server import ServerLimits, make_server

#: The four seeds (../shared/seeds): two papers about anoikis resistance, two about CAF signalling.
ANOIKIS = ("000_4c2d97a96b289ffa.txt", "003_9350a2168f5ade3d.txt")
CAF = ("001_9dd56cfd7f744d50.txt", "002_e9f508189b5e7039.txt")


class FakeEmbedder:
    """Hashed bag-of-words vectors: papers sharing terms are close, exactly as the tests need."""

    def __init__(self, config: ModelConfig | None = None, dimension: int = 256) -> None:
        self.config = config or model_config(None)
        self.model_id = self.config.name
        self.dimension = dimension
        self.max_seq_length = None
        self.calls = 0
        self.encoded = 0  # documents encoded so far, to check what a rebuild recomputes

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for term in tokenize(text):
            digest = hashlib.md5(term.encode()).digest()
            vector[digest[0] % self.dimension] += 1.0 if digest[1] % 2 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        return np.array([self._vector(text) for text in texts], dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_documents(texts)

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        return [False] * len(texts)


def fake_factory(config: ModelConfig, settings: Settings) -> FakeEmbedder:
    return FakeEmbedder(config)


def built_service(
    index_dir: Path, tmp_path: Path, papers: list[dict] | None = None, factory=fake_factory, **settings: object
) -> Recommender:
    """A service over ``index_dir`` with ``papers`` (default: the corpus below) ingested and built; ``settings``
    are :class:`Settings` fields (tokens, limits). The web and browser tests serve apps over it."""
    options: dict[str, object] = {"index_dir": index_dir, "show_progress": False, **settings}
    service = Recommender(Settings(**options), embedder_factory=factory)  # type: ignore[arg-type]
    service.ingest([write(tmp_path / "corpus.jsonl", jsonl(CORPUS if papers is None else papers))])
    service.build()
    return service


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


# Three small synthetic topics, written for the tests (not real abstracts).
CORPUS = [
    {"id": "a1", "title": "Anoikis resistance of detached lung cancer cells",
     "abstract": "Detached lung cancer cells resist anoikis through ERK survival signalling. Anoikis resistance "
                 "allows metastasis. Blocking ERK restores anoikis in suspension.", "year": 2020, "journal": "J Test"},
    {"id": "a2", "title": "BIM degradation drives anoikis resistance in breast cancer",
     "abstract": "Breast cancer cells degrade BIM after detachment and resist anoikis. Anoikis resistance "
                 "increases circulating tumour cells and metastasis.", "year": 2021, "journal": "J Test"},
    {"id": "a3", "title": "Metabolic escape from anoikis in ovarian cancer spheroids",
     "abstract": "Ovarian cancer spheroids escape anoikis by fatty acid oxidation. Anoikis resistance "
                 "supports peritoneal metastasis.", "year": 2022, "journal": "Oncology Test"},
    {"id": "c1", "title": "Cancer-associated fibroblasts secrete IL-6 and activate STAT3",
     "abstract": "Cancer-associated fibroblasts (CAFs) secrete IL-6, which activates STAT3 in tumour cells. "
                 "CAF-derived IL-6/STAT3 signalling drives invasion.", "year": 2019, "journal": "J Test"},
    {"id": "c2", "title": "CAF IL-6 confers chemoresistance through STAT3",
     "abstract": "Fibroblast IL-6 activates STAT3 and protects pancreatic cancer cells from chemotherapy. "
                 "Blocking IL-6 restores sensitivity in CAF co-cultures.", "year": 2020, "journal": "Oncology Test"},
    {"id": "c3", "title": "Fibroblast exosomes activate STAT3 signalling",
     "abstract": "Cancer-associated fibroblasts release exosomes that activate STAT3 and IL-6 signalling in "
                 "gastric cancer cells, promoting migration.", "year": 2023, "journal": "J Test"},
    {"id": "h1", "title": "HIF-1alpha drives glycolysis under hypoxia",
     "abstract": "Hypoxia stabilises HIF-1alpha, which induces glycolysis genes in glioblastoma. Hypoxic "
                 "tumour cells depend on glycolysis.", "year": 2018, "journal": "J Test"},
    {"id": "h2", "title": "Hypoxia and HIF-2alpha control angiogenesis",
     "abstract": "Under hypoxia, HIF-2alpha drives VEGF and angiogenesis in renal cancer. Hypoxic regions "
                 "recruit vessels.", "year": 2019, "journal": "J Test"},
    {"id": "h3", "title": "Hypoxia makes tumour cells export lactate",
     "abstract": "Under hypoxia, cancer cells export lactate after glycolysis, and HIF-1alpha induces the "
                 "exporter MCT4. Hypoxia and HIF-1alpha thus shape tumour metabolism.", "year": 2021,
     "journal": "Oncology Test"},
]  # fmt: skip
TOPIC = {record["id"]: record["id"][0] for record in CORPUS}

# One RIS record (written for the tests) for the upload tests: a format other than the corpus's JSONL.
RIS_RECORD = """TY  - JOUR
TI  - Anoikis resistance through TrkB in detached epithelial cells
AB  - Detached cells resist anoikis when TrkB signalling is active; anoikis resistance follows.
JO  - Oncogene
PY  - 2004
DO  - 10.1038/nature02766
ER  -
"""


def filler_papers(count: int = 45) -> list[dict]:
    """``count`` made-up papers on topics far from the corpus above (cardiology, ecology, crystallography...),
    each a few template sentences: they make an index large enough for calibrated strengths (50+ papers)."""
    topics = [
        ("atrial fibrillation", "anticoagulation", "stroke risk", "cardiology"),
        ("coral bleaching", "reef temperature", "symbiont loss", "marine ecology"),
        ("protein crystallography", "diffraction data", "crystal packing", "structural methods"),
        ("wheat drought tolerance", "root architecture", "grain yield", "crop science"),
        ("sleep apnoea", "nocturnal hypoxaemia", "daytime sleepiness", "respiratory medicine"),
        ("malaria transmission", "mosquito nets", "parasite prevalence", "tropical medicine"),
        ("hip fracture surgery", "postoperative delirium", "mobility recovery", "orthopaedics"),
        ("influenza vaccination", "antibody titres", "older adults", "vaccinology"),
        ("soil nitrogen cycling", "microbial communities", "fertiliser runoff", "soil science"),
    ]
    papers = []
    for i in range(count):
        subject, method, outcome, field = topics[i % len(topics)]
        papers.append(
            {
                "id": f"f{i}",
                "title": f"{subject.capitalize()} and {outcome}: cohort {i}",
                "abstract": f"We studied {subject} in cohort {i}. {method.capitalize()} was measured over {i + 2} "
                f"months. {outcome.capitalize()} changed with {method}. These findings inform {field}.",
                "year": 2000 + i % 20,
                "journal": f"{field.title()} Reports",
            }
        )
    return papers


class Live:
    """A real waitress server (as `recommender serve` builds it) on 127.0.0.1, served from a thread."""

    def __init__(self, app, limits: ServerLimits | None = None) -> None:
        self.server = make_server(app, host="127.0.0.1", port=0, threads=4, limits=limits)
        self.port = self.server.effective_port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            wasyncore.loop(timeout=0.1, use_poll=True, map=self.server._map, count=1)
        self.server.task_dispatcher.shutdown()
        wasyncore.close_all(self.server._map)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"Host": "localhost"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
