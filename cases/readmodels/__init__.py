"""Fast reads: what public pages and the API read most, each in one SQL statement.

Each module names its reference, the plain way the same answer is computed, and
tests/contracts/ holds the two equal on committed data.

    case_page.py   a published case with everything its page shows (the ORM's prefetches)
    keyset.py      keyset pages of the case list (OFFSET pages)
    prepared.py    server-side prepared statements, planned once per connection
"""
