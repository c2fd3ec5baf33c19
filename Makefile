# The two commands: `make run` (everything, locally, with Kafka and SQLite) and `make test`.
# Downloads are cached in .cache/ (pip, Maven's Kafka jars); local data lives in .data/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip

.PHONY: install run test faults bench generate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
	deploy/local/kafka.sh fetch

run: install
	deploy/local/packages.sh install prometheus
	deploy/local/run.sh

test: install
	deploy/local/postgres.sh install
	deploy/local/packages.sh install
	deploy/local/helm.sh install
	$(BIN)/pytest --durations=20  # the slowest, to keep the suite well under CI's 30 minutes

# The fault suite (minutes, not part of `make test`, which runs a smoke of it): kill -9 of every
# process, of the broker and of partition leaders under load (RETAIL_FAULTS_* set its size), and
# fuzzing of every HTTP service and event contract with RETAIL_FUZZ_CASES (1000) cases each.
RETAIL_FUZZ_CASES ?= 1000
faults: install
	deploy/local/postgres.sh install
	deploy/local/packages.sh install
	mkdir -p .data
	RETAIL_FUZZ_CASES=$(RETAIL_FUZZ_CASES) $(BIN)/pytest -o junit_family=xunit1 --junitxml=.data/faults.xml \
	  tests/faults tests/e2e/test_fuzz.py tests/unit/shared/test_contracts_fuzz.py

# The benchmarks (minutes, not part of `make test`, which runs a smoke of the harness): each subject
# against a baseline doing the same durable I/O in the same run, on a broker and PostgreSQL of their
# own; prints the table and writes bench/results.json. BENCH_ARGS="--only B1 --rounds 3 --scale 0.5".
bench: install
	deploy/local/postgres.sh install
	$(BIN)/python -m bench $(BENCH_ARGS)

generate: $(VENV)/.installed
	$(BIN)/retail generate

clean:
	rm -rf $(VENV) .data .pytest_cache
