# Everything needs only Python 3.11+ and make. The virtualenv lives in .venv/.
# With DATABASE_URL unset, an embedded PostgreSQL in .pgdata/ is started as needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: install db-start db-stop migrate seed run serve backup restore test lint format messages bench bench-import bench-admin bench-soak bench-head-to-head bench-match clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

db-start: install
ifndef DATABASE_URL
	$(BIN)/python -m disinfo_db.embedded_db start
endif

db-stop: install
ifndef DATABASE_URL
	$(BIN)/python -m disinfo_db.embedded_db stop
endif

migrate: db-start
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py import_cases fixtures/seed_cases.txt --status published

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production: DJANGO_DEBUG=0 unless set, with DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS
# (README, docs/deployment.md). Static files are collected first: with DJANGO_DEBUG=0 every
# page needs their manifest. BIND=0.0.0.0:8000 to listen beyond this machine.
BIND ?= 127.0.0.1:$(PORT)
serve: export DJANGO_DEBUG ?= 0
serve: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn disinfo_db.wsgi -c disinfo_db/gunicorn_conf.py --bind $(BIND)

# pg_dump's custom format, to backups/disinfo-<UTC time>.dump or BACKUP_FILE (docs/deployment.md).
backup: db-start
	$(BIN)/python -m disinfo_db.backup dump $(BACKUP_FILE)

# Replaces everything in the database with BACKUP_FILE, in one transaction.
restore: db-start
ifndef BACKUP_FILE
	$(error make restore needs the file to restore: make restore BACKUP_FILE=backups/disinfo-....dump)
endif
	$(BIN)/python -m disinfo_db.backup restore $(BACKUP_FILE)

# Coverage of cases/ and disinfo_db/ (pyproject.toml), files below 100% only.
test: db-start
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The public pages' translations, with Babel (pure Python, no gettext tools): extract every
# string of templates/, cases/site/ and cases/filters.py into locale/django.pot, merge it into
# each language's django.po (new strings come in empty, to translate), compile the .mo files.
# Commit the .po and .mo files; tests/test_i18n.py fails while a string is untranslated.
LOCALES := ru uk de fr
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --no-wrap --sort-output --omit-header \
		-k _ -k gettext -k gettext_lazy -k ngettext:1,2 -o locale/django.pot .
	for lang in $(LOCALES); do \
		if [ -f locale/$$lang/LC_MESSAGES/django.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --no-wrap --ignore-obsolete -D django -d locale -l $$lang -i locale/django.pot; \
		else \
			$(BIN)/pybabel -q init --no-wrap -D django -d locale -l $$lang -i locale/django.pot; \
		fi; \
	done
	$(BIN)/pybabel compile --statistics -D django -d locale

# The bench's own virtualenv holds Datasette, the reference it is compared to.
BENCH_VENV := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "datasette>=0.65,<1"
	touch $(BENCH_STAMP)

# BENCH_CASES=100000 make bench for a shorter run; results in bench/results.json, then the
# soak's (SOAK_MINUTES=2 for a shorter one) in bench/soak.json. BENCH_QUESTIONS='search-*,admin-*'
# asks only the rows those keys or glob patterns name (docs/performance.md, "The rows").
bench: db-start $(BENCH_STAMP)
	$(BIN)/python bench/run.py --datasette $(BENCH_VENV)/bin/datasette $(BENCH_ARGS)
	$(BIN)/python bench/soak.py

# Only the soak of make bench: SOAK_MINUTES (default 10) at SOAK_CONCURRENCY (default 16)
# on the bench database, with an importer loading SOAK_IMPORT_CASES (200) cases at a time.
bench-soak: db-start
	$(BIN)/python bench/soak.py

# Only the import measurement of make bench: BENCH_IMPORT_CASES cases (default 100,000).
bench-import: db-start
	$(BIN)/python bench/import_speed.py --cases $${BENCH_IMPORT_CASES:-100000}

# The admin's pages timed in process on the bench database (it adds a superuser to it).
bench-admin: db-start
	$(BIN)/python bench/admin_speed.py

# After make bench: case page, API case and API list asked of both servers in turn.
bench-head-to-head: db-start $(BENCH_STAMP)
	$(BIN)/python bench/head_to_head.py --datasette $(BENCH_VENV)/bin/datasette $(BENCH_ARGS)

# Claim matching's quality on the cases in the database (make seed, or bench/generate.py):
# recall@1, recall@10 and MRR per kind of claim and tier (docs/matching.md).
bench-match: migrate
	$(BIN)/python bench/match_quality.py $(BENCH_MATCH_ARGS)

clean: db-stop
	rm -rf $(VENV) .pgdata staticfiles
