# osce.patching — developer and CI entry points. `make help` lists them.
# The virtualenv is created here from requirements-test.txt (and rebuilt when it changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
BUILD  := .build
DIST   := $(BUILD)/dist

# The venv's tools first on PATH, for recipes and for the scripts they call (lab wrapper, ansible-test).
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Plain output in logs and CI.
export ANSIBLE_NOCOLOR ?= 1
export NO_COLOR ?= 1

# Test suites that exist right now (integration and lab tests land with their issues).
# Lab runs wait on WinRM-like round trips and the lab clock as much as on the CPU: two workers
# overlap them (pytest-xdist); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
PYTEST_PATHS := $(wildcard tests/unit tests/integration tests/lab)

.DEFAULT_GOAL := help
.PHONY: help venv test pytest fault-matrix lint sanity build build-check tooling ee-context changelog-lint docs-lint docs demo lab-reset bench bench-full clean distclean

help:
	@echo "make demo        run playbooks/site.yml on the embedded lab estate (after lab-reset)"
	@echo "make test        everything CI runs: pytest, lint, sanity, build-and-install check"
	@echo "make pytest      unit, integration and lab tests only"
	@echo "make fault-matrix every lab fault kind on the first and last step, then a rerun (about 9 min; in make test too)"
	@echo "make lint        ansible-lint (production profile) and yamllint"
	@echo "make sanity      ansible-test sanity, offline (see docs/testing.md)"
	@echo "make build       ansible-galaxy collection build into $(DIST)"
	@echo "make build-check build the tarball and install it into a temporary path"
	@echo "make tooling     EE build context (ansible-builder create) and its test, changelog and docs lint"
	@echo "make ee-context  the execution environment's build context in $(BUILD)/ee (docs/awx.md: building the image)"
	@echo "make docs        the collection's docs site (antsibull-docs + Sphinx, offline) in $(BUILD)/docs/html"
	@echo "make lab-reset   reset the simulated lab estate"
	@echo "make bench       run the benchmarks in bench/ (rollout on 50 clients: about 11 min on 2 shared cores)"
	@echo "make bench-full  the same with the hour-long 300-client rollout (bench/rollout.py --full)"
	@echo "make clean       remove build output and caches (keeps $(VENV)); distclean removes it too"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

test: pytest lint sanity build-check tooling
	@echo "make test: all green"

# pytest exits 5 when it collects nothing; make fails on any non-zero exit, so "no tests" never passes.
pytest: $(STAMP)
	@test -n "$(PYTEST_PATHS)" || { echo "make pytest: none of tests/unit tests/integration tests/lab exists; there is nothing to test" >&2; exit 5; }
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_PATHS)

# ansible-lint resolves osce.patching.* modules and roles through the same symlinked collections
# tree the tests use (conftest.py): .build/collections/ansible_collections/osce/patching -> repo.
COLLECTIONS := $(BUILD)/collections
$(COLLECTIONS)/ansible_collections/osce/patching:
	@mkdir -p $(@D)
	@ln -sfn $(CURDIR) $@

lint: $(STAMP) $(COLLECTIONS)/ansible_collections/osce/patching
	$(BIN)/yamllint --strict .
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) $(BIN)/ansible-lint --profile production --offline
	$(BIN)/shellcheck .ci/run tools/*.sh

sanity: $(STAMP)
	tools/sanity.sh

build: $(STAMP)
	@mkdir -p $(DIST)
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

# Every fault kind of the lab on the first and the last step, then a rerun (issue 13): part of `make test`;
# this target runs only it (about 9 min on 2 cores).
fault-matrix: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) tests/integration/roles/test_fault_matrix.py

build-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_collection_build.py

# Issue 17 (docs/awx.md): the execution environment's build context, changelog and collection docs.
# `ansible-builder create` needs no container engine; building the image does (not run here).
tooling: ee-context changelog-lint docs-lint
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/tooling

ee-context: build
	rm -rf $(BUILD)/ee
	$(BIN)/ansible-builder create -f execution-environment.yml -c $(BUILD)/ee --output-filename Containerfile

changelog-lint: $(STAMP)
	$(BIN)/antsibull-changelog lint

docs-lint: $(STAMP)
	tools/docs.sh lint

docs: $(STAMP)
	tools/docs.sh build

demo: $(STAMP)
	@test -f playbooks/site.yml || { echo "make demo: playbooks/site.yml is not written yet (roles issue); nothing was run" >&2; exit 2; }
	@test -f inventories/lab/inventory.yml || { echo "make demo: inventories/lab/inventory.yml is not written yet (lab issue); nothing was run" >&2; exit 2; }
	@test -x tests/lab/ansible-lab || { echo "make demo: tests/lab/ansible-lab is not written yet (lab issue); nothing was run" >&2; exit 2; }
	$(MAKE) --no-print-directory lab-reset
	@rm -rf reports/demo
	ANSIBLE_CALLBACKS_ENABLED=osce.patching.rollout_report OSCE_REPORT_RUN_ID=demo \
	OSCE_REPORT_LEDGER=inventories/lab/.state \
	    tests/lab/ansible-lab ansible-playbook -i inventories/lab/inventory.yml playbooks/site.yml
	@echo; echo "== make demo: what happened (from reports/demo/rollout.json)"
	@$(BIN)/python tools/run_summary.py reports/demo

lab-reset: $(STAMP)
	@test -x tests/lab/reset-lab || { echo "make lab-reset: tests/lab/reset-lab is not written yet (lab issue); nothing was reset" >&2; exit 2; }
	tests/lab/reset-lab

# make bench: every bench/*.py in name order (rollout: the 50-client run); each prints its figures, and one over
# its limit fails the target after the others ran. bench-full: the same with the hour-long 300-client run.
bench: $(STAMP)
	@failed=""; found=0; for b in bench/*.py; do \
	    [ -f "$$b" ] || continue; found=1; echo "== $$b"; $(BIN)/python "$$b" || failed="$$failed $$b"; \
	done; \
	if [ $$found = 0 ]; then echo "make bench: no benchmarks in bench/ yet (bench/*.py); nothing was run"; fi; \
	if [ -n "$$failed" ]; then echo "make bench: over a limit:$$failed" >&2; exit 1; fi

bench-full: $(STAMP)
	@failed=""; \
	echo "== bench/planner.py"; $(BIN)/python bench/planner.py || failed="$$failed planner"; \
	echo "== bench/report.py"; $(BIN)/python bench/report.py || failed="$$failed report"; \
	echo "== bench/rollout.py --full"; $(BIN)/python bench/rollout.py --full || failed="$$failed rollout"; \
	if [ -n "$$failed" ]; then echo "make bench-full: over a limit:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(BUILD) reports tests/output .pytest_cache .ansible
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
