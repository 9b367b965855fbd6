"""Text written by PostgreSQL for many cases, a chunk of cases per statement, read ahead.

    for texts in chunk_texts(queryset, CHUNK_SQL, {"sep": ";"}, 2000, "export_csv"):
        ...  # the statement's text for each case of the chunk, in the queryset's order

The statement gets the chunk's ids as %(ids)s (bigint[]) beside the given parameters and
returns (id, text) rows, one for each of those cases that still exists, in any order: it
reads the cases and their links in id order, an index's order, which a merge join follows
(PostgreSQL 17 and later walk an index for `= ANY(array)` in one pass), and Python puts
the texts back in the chunk's order. The texts come as the server sent them, UTF-8 bytes,
not decoded into str to be encoded again for the response or the file. The CSV export
(cases.readmodels.csv) and the JSON and NDJSON exports (cases.readmodels.json_export)
are written this way.
"""

import collections
import itertools
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from psycopg2.extensions import BYTES, register_type

from cases.readmodels import prepared
from disinfo_db.routers import read_alias

# The statements' first common table expression, and how they pick the chunk's rows
# (`WHERE c.id IN_CHUNK`). The ids are a subquery's value, which the planner does not look
# into: written out in each place, 5,000 ids took 80 ms to plan. Not knowing how many there
# are, it plans the same for every chunk: index scans in id order and merge joins.
CHUNK_CTE = "chunk AS MATERIALIZED (SELECT %(ids)s::bigint[] AS ids)"
IN_CHUNK = "= ANY((SELECT ids FROM chunk)::bigint[])"

# Connections that read chunks ahead at the same time: PostgreSQL does most of the work, and
# two of them keep two cores busy.
READERS = 2


def _chunk_texts(sql, params, alias, name=None):
    """The texts of one chunk of cases, in the chunk's order, as bytes, read from `alias`;
    by the prepared statement `name` if there is one."""
    with connections[alias].cursor() as cursor:
        register_type(BYTES, cursor.cursor)  # this cursor's text columns as bytes
        if name is None:
            cursor.execute(sql, params)
        else:
            prepared.execute(cursor, name, sql, params)
        texts = dict(cursor.fetchall())
    # Put in order here rather than with ORDER BY, which would sort the long texts
    # themselves and spill them to disk. A case deleted since its id was read is left out.
    return [texts[pk] for pk in params["ids"] if pk in texts]


def _close_connection(alias):
    connections[alias].close()


def chunk_texts(queryset, sql, params, chunk_size, name):
    """A list of texts per chunk of the queryset's cases, in its order; bounded memory.

    Outside a transaction, PostgreSQL writes the next chunks on READERS other connections
    while this one is sent, each running the statement as the prepared statement `name`:
    planning took 4-5 ms a chunk of 2,000 cases at a million, about a tenth of PostgreSQL's
    time. PostgreSQL plans the first five executions, then keeps the generic plan, which is
    the same (the ids are a subquery's value).
    Their connections close when the export ends. Inside a transaction (the test suite's),
    other connections could not see its rows: chunks are read in turn, on this connection.
    """
    ids = queryset.values_list("id", flat=True).iterator(chunk_size=chunk_size)
    chunks = (
        {**params, "ids": chunk}
        for chunk in iter(lambda: list(itertools.islice(ids, chunk_size)), [])
    )
    # The request's database (disinfo_db.routers), which the reader threads do not know.
    alias = read_alias()
    if connections[alias].in_atomic_block:
        for chunk_params in chunks:
            yield _chunk_texts(sql, chunk_params, alias)
        return
    # One thread, and so one connection, per reader; chunks go to them in turn.
    readers = [ThreadPoolExecutor(max_workers=1) for _ in range(READERS)]
    try:
        pending = collections.deque()
        for number, chunk_params in enumerate(chunks):
            reader = readers[number % READERS]
            pending.append(reader.submit(_chunk_texts, sql, chunk_params, alias, name))
            if len(pending) > READERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for reader in readers:
            reader.submit(_close_connection, alias)
            reader.shutdown()
