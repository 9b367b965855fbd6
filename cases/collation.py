"""How taxonomy names sort: the way people sort them, not by character code.

"coronavirus" comes before "Zelimkhan" and "Canada" before "CEE": case and accents count
only to break ties, and numbers sort by value ("G7" before "G20"). One function decides,
for the ORM (human_order) and for hand-written SQL (human_order_sql):

- With ICU in PostgreSQL, migration 0017 creates the collation `human_name` (ICU root
  locale with numeric ordering) and names sort by it.
- A server built without ICU (the embedded PostgreSQL of development) has no such
  collation: names then sort by lower(unaccent(name)), which gets case and accents right.

Ties are broken by the name itself and then by the id, so every list has one order.
Set HUMAN_SORT_ICU = False in the settings to use the fallback on any server.
"""

from django.conf import settings
from django.db.models import F, Func
from django.db.models.functions import Collate, Lower

from disinfo_db.routers import read_connection

COLLATION = "human_name"

# Whether each database (by name) has the collation: asked once per process.
_has_collation = {}


def uses_icu():
    """True when names sort by the ICU collation on the current database."""
    if not getattr(settings, "HUMAN_SORT_ICU", True):
        return False
    name = read_connection().settings_dict["NAME"]
    if name not in _has_collation:
        with read_connection().cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = %s)", [COLLATION]
            )
            _has_collation[name] = cursor.fetchone()[0]
    return _has_collation[name]


def forget():
    """Ask the database again (after a migration created or dropped the collation)."""
    _has_collation.clear()


class Unaccent(Func):
    function = "unaccent"


def human_order(field="name", pk="pk"):
    """order_by() arguments sorting by `field` as people do, then by `pk`."""
    first = Collate(F(field), COLLATION) if uses_icu() else Lower(Unaccent(F(field)))
    return [first.asc(), F(field).asc(), F(pk).asc()]


def human_order_sql(column="name", pk="id"):
    """The ORDER BY list of human_order() for hand-written SQL (trusted column names)."""
    if uses_icu():
        return f'{column} COLLATE "{COLLATION}", {column}, {pk}'
    return f"lower(unaccent({column})), {column}, {pk}"
