# Two commands for a fresh machine: `make run` and `make test`. Each sets up what it needs once.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=7861` or `RAG_PORT=7861 make run`: the flag wins, then the environment.
HOST ?= $(or $(RAG_HOST),127.0.0.1)
PORT ?= $(or $(RAG_PORT),7860)

.PHONY: run test index chat bench eval fit train train-verifier lock clean

run: $(VENV)/.installed index
	$(BIN)/python app.py --host $(HOST) --port $(PORT) --watch

chat: $(VENV)/.installed index
	$(BIN)/rag chat

test: $(VENV)/.installed-test index
	$(BIN)/python -m pytest -q

# Incremental: re-embeds only what changed, and nothing at all when the index is fresh.
index: $(VENV)/.installed
	$(BIN)/rag build --if-stale

bench: $(VENV)/.installed-bench index
	$(BIN)/python bench/run.py

# Every test document (data/corpus/test and data/eval) built into its own index, scored per document and
# per question type: the figures the README reports.
eval: $(VENV)/.installed
	$(BIN)/rag eval --suite

# Train the answer decision on data/corpus/train, choose it on validation, score it on test; writes
# rag/answering/answerability.json and its model card (25-75 minutes here; it reads the verifier).
train: $(VENV)/.installed
	$(BIN)/python -m rag.evaluation.train

# Train the answer verifier (a MiniLM cross-encoder) on data/corpus/train and export it to ONNX int8:
# rag/answering/verifier/ (about five hours on 2 cores). It is the weighted weight-by-weight mean of four
# runs (rag/evaluation/soup.py): two on the questions (two seeds) and two on the questions and their
# follow-ups (two lengths), weighted 2:2:3:3 (probe 17, bench/results.md). Run `make train` after it:
# the decision reads it.
train-verifier: $(VENV)/.installed
	tmp=$$(mktemp -d) && $(BIN)/python -m rag.evaluation.train_verifier --steps 5550 --out $$tmp/q0 \
	  && $(BIN)/python -m rag.evaluation.train_verifier --steps 5550 --seed 1 --out $$tmp/q1 \
	  && $(BIN)/python -m rag.evaluation.train_verifier --followups --steps 3700 --out $$tmp/f3700 \
	  && $(BIN)/python -m rag.evaluation.train_verifier --followups --steps 5550 --out $$tmp/f5550 \
	  && $(BIN)/python -m rag.evaluation.train_verifier --soup-only --soup-weights 2 2 3 3 \
	       --soup-with $$tmp/q0 $$tmp/q1 $$tmp/f3700 $$tmp/f5550; rc=$$?; rm -rf $$tmp; exit $$rc

# Leave-one-document-out over the old suite (an analysis: it reads test documents, so it writes nothing).
fit: $(VENV)/.installed
	$(BIN)/python -m rag.evaluation.fit --loo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: a second `make run`/`make test` installs nothing unless the lock files changed. The lock
# files pin every package (requirements.lock to run, requirements-test.lock to test as well,
# requirements-bench.lock for `make bench`), so the
# same commit installs the same libraries next month; `make lock` refreshes them from pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-test.lock
	touch $@

# Resolve pyproject.toml's ranges afresh in a scratch venv and pin the result (torch stays the CPU
# build on this machine's disk). The test lock holds the local-LLM extra too, so that the Gemma test
# runs in CI rather than skipping; the bench lock adds the bench extra.
FREEZE = .lock-venv/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'
PINNED = \# Pinned by \`make lock\` (every package, exact versions);
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --disable-pip-version-check -q -e .
	{ echo "$(PINNED) \`make run\` and \`make test\` install from it."; $(FREEZE); } > requirements.lock
	.lock-venv/bin/pip install --disable-pip-version-check -q -e '.[test,local-llm]'
	{ echo "$(PINNED) \`make test\` installs from it."; $(FREEZE); } > requirements-test.lock
	.lock-venv/bin/pip install --disable-pip-version-check -q -e '.[test,local-llm,bench]'
	{ echo "$(PINNED) \`make bench\` installs from it."; $(FREEZE); } > requirements-bench.lock
	rm -rf .lock-venv

$(VENV)/.installed-bench: $(VENV)/.installed-test requirements-bench.lock
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-bench.lock
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts rag.egg-info .lock-venv
