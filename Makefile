# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export DO_NOT_TRACK := 1

.PHONY: demo test lint bench deploy clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/revcycle demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/x12_bench.py
	$(BIN)/python bench/scrub_quality.py
	$(BIN)/python bench/posting_bench.py
	$(BIN)/python bench/channel_bench.py

# A team install (infra/prefect.yaml): the work pool and the deployments, on the Prefect
# server of PREFECT_API_URL. Then run `prefect worker start --pool revcycle` from here.
deploy: $(STAMP)
	$(BIN)/prefect work-pool create revcycle --type process --overwrite
	REVCYCLE_CHECKOUT=$(CURDIR) $(BIN)/prefect --no-prompt deploy --all --prefect-file infra/prefect.yaml

clean:
	rm -rf $(VENV) .revcycle .pytest_cache .ruff_cache .hypothesis
