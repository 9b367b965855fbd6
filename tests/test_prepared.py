"""cases.readmodels.prepared: statements prepared once per connection, whatever happens to it."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.readmodels import prepared
from cases.readmodels.api_json import case_representations
from tests.factories import CaseFactory

SQL = "SELECT %(n)s::bigint + %(step)s::bigint, %(n)s::bigint"


def run(n, step=1):
    with connection.cursor() as cursor:
        prepared.execute(cursor, "test_add", SQL, {"n": n, "step": step})
        return cursor.fetchone()


def server_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_a_statement_is_prepared_once_and_then_only_executed():
    with CaptureQueriesContext(connection) as queries:
        assert run(41) == (42, 41)
        assert run(1, step=2) == (3, 1)
    first, second = (query["sql"] for query in queries.captured_queries)
    # The connection may have prepared it in an earlier test: then the first one runs it too.
    assert first.startswith(("PREPARE test_add AS", "EXECUTE test_add(41, 1)"))
    assert second == "EXECUTE test_add(1, 2)"
    assert "test_add" in server_statements()


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    run(1)
    connection.close()
    assert "test_add" not in server_statements()
    assert run(5) == (6, 5)
    assert "test_add" in server_statements()


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_failed_half_way_is_not_prepared_twice():
    connection.close()
    with pytest.raises(DatabaseError), transaction.atomic():
        run("not a number")  # PREPARE takes, EXECUTE fails
    assert "test_add" in server_statements()
    assert run(2) == (3, 2)


@pytest.mark.django_db
def test_prepared_statements_are_planned_once_not_on_every_run():
    # Left to choose, PostgreSQL re-planned the API's JSON of one case on every run.
    case = CaseFactory(status="published")
    for _ in range(8):
        assert case_representations([case.pk], {})[0][0] == case.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE name = 'cases_json'"
        )
        generic, custom = cursor.fetchone()
    assert custom == 0
    assert generic >= 8  # more if an earlier test ran it on this connection
