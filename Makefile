# The README's two commands: `make train` (install + main job) and `make test` (install + tests).
# CPU machines take torch from constraints-cpu.txt (a small CPU build); on a GPU machine run
# `make train PIP_CONSTRAINTS=` to let pip choose a CUDA build of torch.
PYTHON ?= python3
VENV ?= .venv
PIP_CONSTRAINTS ?= -c constraints-cpu.txt
PYTEST_ARGS ?=

.PHONY: install train test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml constraints-cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check $(PIP_CONSTRAINTS) -e ".[test]"
	touch $@

train: install
	$(VENV)/bin/rllib train file tuned_examples/smac.yaml

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# numba's on-disk caches of the simulator's kernels (see rllib_qmix/envs/smac/_jit.py).
clean:
	find rllib_qmix -name '*.nbi' -delete -o -name '*.nbc' -delete
