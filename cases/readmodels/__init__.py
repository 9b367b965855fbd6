"""Fast reads: what public pages and the API read most, each in one SQL statement.

Each module names its reference, the plain way the same answer is computed, and
tests/contracts/ holds the two equal on committed data.

    case_page.py   a published case with everything its page shows (the ORM's prefetches),
                   and what a list shows of a page of cases (prefetch_list_relations)
    api_json.py    cases as the API shows them, and its newest page (CaseSerializer)
    csv.py         the CSV export (csv_lines(), Python's csv module)
    json_export.py the JSON and NDJSON exports (json_lines(), ndjson_lines(): CaseSerializer)
    chunked.py     text of many cases, a chunk per statement, read ahead on other connections
    keyset.py      keyset pages of the case list (the whole list, cut into pages)
    prepared.py    server-side prepared statements, planned once per connection
"""
