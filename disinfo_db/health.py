"""/healthz, for load balancers and monitoring: is the database reachable, and how far
behind the committed change log is this process's facet index?

200 with JSON when the database answers; 503 with JSON (and Retry-After) when it does
not. Never cached. A lagging index does not make the process unhealthy: the next request
that needs it brings it up to date (cases.facets.index.current_index).
"""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cases import facets
from disinfo_db.middleware import database_unreachable

# The committed data version, and the commits logged after `index_version` (none when the
# index is not built: NULL matches nothing): how many, and how long ago the oldest was written.
LAG_SQL = """
SELECT (SELECT version FROM cases_dataversion WHERE id = 1),
    count(DISTINCT version),
    extract(epoch FROM now() - min(created_at))
FROM cases_datachange
WHERE version > %s
"""


@never_cache
@require_safe
def healthz(request):
    index = facets.index_status()
    index_version = index.get("version")
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL, [index_version])
            data_version, behind, behind_seconds = cursor.fetchone()
    except DatabaseError as error:
        if not database_unreachable(error):
            raise
        response = JsonResponse(
            {"status": "unavailable", "database": "unreachable", "index": index}, status=503
        )
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
        return response
    lag = None
    if index_version is not None:
        lag = {"versions": behind, "seconds": round(float(behind_seconds or 0), 3)}
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "data_version": data_version or 0,
            "index": index,
            "index_lag": lag,
        }
    )
