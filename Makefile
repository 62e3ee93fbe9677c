# CLIKOPRO — the two commands are `make run` and `make test`; see README.md.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SERVICES := identity missions payments subscriptions appointments reputation trust-safety
PROJECTS := shared/contracts shared/chassis shared/textguard $(addprefix services/,$(SERVICES)) gateway tools/stripe-emulator
STAMP  := $(VENV)/.installed-$(shell cat constraints.txt $(addsuffix /pyproject.toml,$(PROJECTS)) | cksum | cut -d' ' -f1)

.PHONY: install run test test-unit lint docs bench clean demo

install: $(STAMP)

# Installs exactly the pinned versions (constraints.txt), every project editable with its test extras.
$(STAMP): constraints.txt $(addsuffix /pyproject.toml,$(PROJECTS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt pip setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-build-isolation -c constraints.txt \
		$(foreach p,$(PROJECTS),-e $(p)[test]) ruff
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/python deploy/local/launcher.py

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python tools/check_boundaries.py

docs: $(STAMP)
	$(BIN)/python -m clikopro_contracts.catalog --out docs/events
	$(BIN)/python -m clikopro_contracts.compat --snapshot docs/events/schemas.json --write

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Plays a Secure mission end to end against a running `make run` (sign-up to the last release).
demo: $(STAMP)
	$(BIN)/python tests/e2e/demo.py $(DEMO_ARGS)

clean:
	rm -rf $(VENV) var
