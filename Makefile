# logicat: `make demo` trains the lesson's reference model, the course's deep network and the
# ConvNet on the cat data, predicts the photos with all three side by side and explains the
# ConvNet's answers; `make test` runs the suite.
# Both create .venv (if missing) and install everything logicat needs, Debian packages included.
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SHARED  := $(abspath ../shared/data)
# Point LOGICAT_DATA at the shared copy of the cat data when it lies beside the checkout.
ifneq ($(wildcard $(SHARED)/catvnoncat/train_catvnoncat.h5),)
export LOGICAT_DATA ?= $(SHARED)/catvnoncat
endif
PHOTOS  ?= $(wildcard ../shared/data/photos)
OUTDIR  ?= build

.PHONY: install system-deps demo test notebooks lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@bash scripts/install-system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

system-deps:
	@bash scripts/install-system-deps.sh

demo: install
	@mkdir -p $(OUTDIR)
	$(VENV)/bin/logicat train --learning-rate 0.005 --iterations 2000 \
		--out $(OUTDIR)/model.safetensors --plot $(OUTDIR)/learning_curve.png
	$(VENV)/bin/logicat predict --model $(OUTDIR)/model.safetensors $(PHOTOS)
	$(VENV)/bin/logicat train --hidden 20,7,5 --activation relu --init lecun_normal --seed 1 \
		--learning-rate 0.0075 --iterations 2500 --out $(OUTDIR)/deep.safetensors
	$(VENV)/bin/logicat train --model convnet --out $(OUTDIR)/convnet.safetensors
	$(VENV)/bin/logicat predict --model $(OUTDIR)/model.safetensors \
		--model $(OUTDIR)/deep.safetensors --model $(OUTDIR)/convnet.safetensors $(PHOTOS)
	$(VENV)/bin/logicat explain --model $(OUTDIR)/convnet.safetensors --out $(OUTDIR)/explanations $(PHOTOS)

test: install
	$(PY) -m pytest -n 2

notebooks: install
	$(VENV)/bin/jupyter lab notebooks/

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

bench: install
	$(PY) benchmarks/suite.py

clean:
	rm -rf $(OUTDIR) .pytest_cache test-artifacts
