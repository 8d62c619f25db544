# emlab — two entry points: `make demo` and `make test`. Both install what is missing first.
SWIFT   ?= swift
CONFIG  ?= release
# Tests run optimized; -enable-testing lets test targets reach internals, and the CLI is built with
# the same flags so that `make test` reuses the build instead of compiling everything twice.
SWIFTFLAGS := -c $(CONFIG) -Xswiftc -enable-testing
EMLAB   := .build/$(CONFIG)/emlab
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps test-deps build build-tests model research-model test-models bench llama-cpp clean

## System packages: OpenBLAS (cblas_sgemm), SQLite (results store and the guard's log), libyaml (the guard's policy),
## bubblewrap and Debian's python3-pytest (the sandbox that model-written code runs in, and the graders' pytest),
## and python3-pip for pulling models from PyPI.
deps:
	@missing=""; for p in libopenblas-dev libsqlite3-dev libyaml-dev bubblewrap python3-pytest; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@python3 -m pip --version >/dev/null 2>&1 || { \
		echo "installing python3-pip"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-pip; }

## Test-only system packages: headless Chromium, in which the HTML report test runs the page's scripts
## (the test skips, saying so, where it is missing). `make demo` does not need it.
test-deps: deps
	@dpkg -s chromium >/dev/null 2>&1 || { \
		echo "installing chromium"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

build: deps
	$(SWIFT) build $(SWIFTFLAGS) --product emlab
	$(SWIFT) build $(SWIFTFLAGS) --product emlab-guard-hook

## The embedded model (SmolLM2-135M-Instruct Q4_1) into $$EMLAB_HOME/models (default ~/.cache/emlab/models).
model: build
	$(EMLAB) models pull smollm2-135m

## The research model the demo evaluates (Qwen2.5-Coder-0.5B-Instruct Q4_K_M, 491 MB).
research-model: build
	$(EMLAB) models pull qwen2.5-coder-0.5b

## A small evaluation of Qwen2.5-Coder-0.5B, judged by its own probe judge: terminal table, flagged answers, HTML report.
demo: research-model
	$(EMLAB) demo --out ./emlab-runs

## The CLI and the test targets in one build. `swift test` on its own configures its build differently
## from `swift build` and would compile every module (dependencies included) a second time.
build-tests: deps
	$(SWIFT) build $(SWIFTFLAGS) --build-tests

## The tests also run Gemma 3 270M and Qwen2.5-Coder-0.5B (the second and third architectures) when
## they are there: pull them too (Qwen's tests add about a minute on 2 cores, its file 491 MB).
test-models: build-tests
	$(EMLAB) models pull smollm2-135m
	$(EMLAB) models pull gemma3-270m
	$(EMLAB) models pull qwen2.5-coder-0.5b

test: test-deps test-models
	$(SWIFT) test $(SWIFTFLAGS) --skip-build --no-parallel

bench: model
	$(EMLAB) bench --threads 2

## llama.cpp's llama-bench and llama-batched-bench, for `emlab bench --llama-cpp $(LLAMA_CPP)`: built
## natively from the llama.cpp sources vendored in llama-cpp-python's source package on PyPI.
LLAMA_CPP_PYTHON := 0.3.36
LLAMA_CPP        := .build/llama.cpp
llama-cpp:
	@command -v cmake >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || { \
		echo "installing cmake g++"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq cmake g++; }
	@if [ ! -x $(LLAMA_CPP)/build/bin/llama-batched-bench ]; then \
		set -e; rm -rf $(LLAMA_CPP); mkdir -p $(LLAMA_CPP)/src; \
		python3 -m pip download --no-deps --no-binary llama-cpp-python --disable-pip-version-check -q \
			-d $(LLAMA_CPP) llama-cpp-python==$(LLAMA_CPP_PYTHON); \
		tar -xzf $(LLAMA_CPP)/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C $(LLAMA_CPP)/src --strip-components=1; \
		cmake -S $(LLAMA_CPP)/src/vendor/llama.cpp -B $(LLAMA_CPP)/build -DCMAKE_BUILD_TYPE=Release \
			-DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF; \
		cmake --build $(LLAMA_CPP)/build -j 2 --target llama-bench llama-batched-bench; \
	fi
	@echo "llama.cpp tools in $(LLAMA_CPP)/build/bin: emlab bench --llama-cpp $(LLAMA_CPP)"

clean:
	rm -rf .build
