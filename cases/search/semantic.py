"""The optional semantic tier of claim matching: multilingual static embeddings.

Set DISINFO_EMBEDDING_MODEL to a local directory holding a model2vec model (config.json,
model.safetensors, tokenizer.json; a multilingual one such as potion-multilingual-128M
lets a Russian or German claim find the English case). Nothing is downloaded: without the
setting, or with a directory that holds no model, the tier is off and matching is lexical
(the match page says which tier answered).

The index is in this process, like the facet index: a matrix of the published cases'
unit vectors. It is built once, in batches, with one progress line per batch in the log
(`manage.py build_match_index` builds it ahead and shows the same lines), and then kept
current from the change log: before a query, the cases whose `seq` in cases_casechange
passed the index's are embedded again (or dropped, when no longer published). The server
this was written for has no pgvector; a server with it could keep the vectors in a column
instead and let an HNSW index answer.

A query's vector is compared with every case's (a matrix product: about 60 ms per
million cases of 256 dimensions on one core); the best FUSED_DEPTH then go through the
request's filters in SQL, and the ranking is fused with the lexical one (reciprocal rank
fusion), so a case both tiers find comes first.
"""

import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from disinfo_db.routers import read_connection

log = logging.getLogger(__name__)

BATCH = 2000
FUSED_DEPTH = 50  # how deep each tier's ranking goes into the fusion
RRF_K = 60  # reciprocal rank fusion's constant
MIN_COSINE = 0.2  # below this a case is not a semantic match

_lock = threading.RLock()
_model = {"path": None, "model": None}
_index = {"path": None, "ids": None, "vectors": None, "seq": None}


def model_path():
    path = getattr(settings, "DISINFO_EMBEDDING_MODEL", "") or ""
    return Path(path) if path else None


def enabled():
    return load_model() is not None


def load_model():
    """The configured model2vec model, loaded once; None when none is configured or the
    directory holds no model (logged)."""
    path = model_path()
    with _lock:
        if _model["path"] == path:
            return _model["model"]
        model = None
        if path is not None:
            if (path / "config.json").exists():
                from model2vec import StaticModel

                model = StaticModel.from_pretrained(path)
            else:
                log.warning("DISINFO_EMBEDDING_MODEL=%s holds no model: matching is lexical", path)
        _model.update(path=path, model=model)
        _index.update(path=None, ids=None, vectors=None, seq=None)
        return model


def reset():
    with _lock:
        _model.update(path=None, model=None)
        _index.update(path=None, ids=None, vectors=None, seq=None)


def embed(texts):
    vectors = np.asarray(load_model().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return vectors / norms


PUBLISHED_BATCH_SQL = """
SELECT id, title, summary FROM cases_case
WHERE status = 'published' AND id > %s ORDER BY id LIMIT %s
"""
LAST_SEQ_SQL = "SELECT coalesce(max(seq), 0) FROM cases_casechange"
CHANGED_SQL = """
SELECT x.case_id, c.status, c.title, c.summary
FROM cases_casechange x LEFT JOIN cases_case c ON c.id = x.case_id
WHERE x.seq > %s ORDER BY x.seq
"""


def _texts(rows):
    from cases.search.match import case_text

    return [case_text(title, summary) for _, title, summary in rows]


def build(progress=None):
    """Embed every published case, BATCH at a time, reporting progress after each batch
    (`progress(done, total)`, else a log line). Returns how many cases were embedded."""
    with read_connection().cursor() as cursor:
        cursor.execute(LAST_SEQ_SQL)
        (seq,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_case WHERE status = 'published'")
        (total,) = cursor.fetchone()
        ids, parts, last = [], [], 0
        while True:
            cursor.execute(PUBLISHED_BATCH_SQL, [last, BATCH])
            rows = cursor.fetchall()
            if not rows:
                break
            ids.extend(row[0] for row in rows)
            parts.append(embed(_texts(rows)))
            last = rows[-1][0]
            if progress:
                progress(len(ids), total)
            else:
                log.info("semantic index: %s/%s cases embedded", f"{len(ids):,}", f"{total:,}")
    dimensions = load_model().dim if hasattr(load_model(), "dim") else embed(["x"]).shape[1]
    vectors = np.vstack(parts) if parts else np.zeros((0, dimensions), dtype=np.float32)
    with _lock:
        _index.update(path=model_path(), ids=np.asarray(ids, dtype=np.int64), vectors=vectors)
        _index["seq"] = seq
    return len(ids)


def catch_up():
    """Embed again the cases changed since the index was built or last caught up."""
    with read_connection().cursor() as cursor:
        cursor.execute(CHANGED_SQL, [_index["seq"]])
        rows = cursor.fetchall()
        cursor.execute(LAST_SEQ_SQL)
        (seq,) = cursor.fetchone()
    if not rows:
        _index["seq"] = max(seq, _index["seq"])
        return 0
    changed = {row[0] for row in rows}
    published = {row[0]: row for row in rows if row[1] == "published"}
    with _lock:
        keep = ~np.isin(_index["ids"], list(changed))
        ids, vectors = _index["ids"][keep], _index["vectors"][keep]
        if published:
            new = list(published.values())
            new_ids = np.asarray([row[0] for row in new], dtype=np.int64)
            new_vectors = embed(_texts([(r[0], r[2], r[3]) for r in new]))
            ids = np.concatenate([ids, new_ids])
            vectors = np.vstack([vectors, new_vectors])
        _index.update(ids=ids, vectors=vectors, seq=seq)
    return len(changed)


def ensure_index():
    with _lock:
        if _index["path"] != model_path() or _index["ids"] is None:
            build()
        else:
            catch_up()
        return _index["ids"], _index["vectors"]


def semantic_matches(text, cases, limit, exclude_ids=()):
    """The cases of `cases` (with the request's filters) nearest `text` in meaning."""
    from cases.search.match import Match

    ids, vectors = ensure_index()
    if not len(ids):
        return []
    query = embed([text])[0]
    cosines = vectors @ query
    depth = min(len(ids), limit * 4 + len(exclude_ids))
    best = np.argpartition(-cosines, depth - 1)[:depth]
    best = best[np.argsort(-cosines[best])]
    wanted = {
        int(ids[i]): float(cosines[i])
        for i in best
        if cosines[i] >= MIN_COSINE and int(ids[i]) not in exclude_ids
    }
    if not wanted:
        return []
    rows = cases.order_by().filter(id__in=list(wanted)).values_list("id", "title", "slug", "date")
    found = [
        Match(pk, title, slug, date, wanted[pk], [], [], tier="semantic")
        for pk, title, slug, date in rows
    ]
    found.sort(key=lambda m: (-m.score, -m.id))
    return found[:limit]


def fuse(lexical, semantic, limit):
    """Reciprocal rank fusion of the two rankings; a match keeps the lexical tier's why."""
    scores, by_id = {}, {}
    for ranking in (lexical, semantic):
        for rank, match in enumerate(ranking[:FUSED_DEPTH]):
            scores[match.id] = scores.get(match.id, 0.0) + 1.0 / (RRF_K + rank + 1)
            by_id.setdefault(match.id, match)
    best = 2.0 / (RRF_K + 1)
    fused = []
    for pk in sorted(scores, key=lambda pk: (-scores[pk], -pk))[:limit]:
        match = by_id[pk]
        match.score = scores[pk] / best
        match.tier = "semantic+lexical"
        fused.append(match)
    return fused
