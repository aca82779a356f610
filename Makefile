# The two commands a new user needs:  `make run`  and  `make test`.
# Each one creates .venv and installs the pinned dependencies on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed
# The web UI's catalogues (docs/ui.md): .po in git, compiled to .mo here.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard pastefile/web/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint format bench bench-images clean messages e2e-bundle e2e-bundle-check

$(RUNTIME_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.lock clients/python/pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	# pf, the command-line client (clients/python): its tests run in `make test`
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e clients/python
	touch $@

%.mo: %.po $(RUNTIME_STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# After changing user-facing strings: extract them and update every catalogue, then
# translate the new entries in each messages.po (a test fails on untranslated zh strings).
messages: $(RUNTIME_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location \
		-o $(VENV)/messages.pot pastefile/web
	for po in pastefile/web/translations/*/LC_MESSAGES/messages.po; do \
		lang=$$(basename $$(dirname $$(dirname $$po))); \
		$(BIN)/pybabel update -i $(VENV)/messages.pot -d pastefile/web/translations -l $$lang \
			--no-fuzzy-matching --ignore-pot-creation-date; \
	done

run: $(RUNTIME_STAMP) $(MO_FILES)  ## serve on embedded defaults: SQLite + ./var, no other server
	$(BIN)/pastefile serve $(ARGS)

test: $(DEV_STAMP) $(MO_FILES)  ## the whole test suite
	$(BIN)/pytest $(ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --config-file clients/python/pyproject.toml clients/python/pastefile_client
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(DEV_STAMP)
	$(BIN)/python bench/upload_download.py

bench-images: $(DEV_STAMP)  ## image transforms vs vipsthumbnail and Pillow (docs/images.md)
	$(BIN)/python bench/images.py

# The browser's end-to-end encryption (docs/encryption.md): frontend/ bundles the pinned
# npm packages into pastefile/web/static/e2e/, which is committed, so `make run` and
# `make test` need no Node. Only these two targets do.
e2e-bundle:  ## rebuild pastefile/web/static/e2e/ from frontend/ (Node 18+, npm)
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs

e2e-bundle-check:  ## CI: the committed bundle is what a fresh build gives
	rm -rf $(VENV)/e2e-fresh && mkdir -p $(VENV)/e2e-fresh
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs $(abspath $(VENV)/e2e-fresh)
	diff -r $(VENV)/e2e-fresh pastefile/web/static/e2e \
		|| { echo "pastefile/web/static/e2e/ differs from a fresh build: run make e2e-bundle"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
