# EntropyInfer — build, test, serve, benchmark.
#
#   make serve    install what is missing, build release, pull the default model, start the server
#   make test     install what is missing, build, pull the test model, run every test
#   make bench    long benchmarks (not part of make test)

SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/entropyinfer
DEFAULT_MODEL ?= smollm2-135m-instruct
LONG_MODEL   ?= qwen2.5-coder-0.5b-instruct
export ENTROPYINFER_HOME ?= $(HOME)/.cache/entropyinfer

.PHONY: deps build test test-swift test-long serve models bench clean

deps:
	@scripts/install-system-deps.sh

build: deps
	@$(SWIFT) build -c $(CONFIG) --product entropyinfer

models: build
	@$(BIN) pull $(DEFAULT_MODEL)

test: deps models
	@$(SWIFT) build -c release --build-tests
	@$(SWIFT) test -c release --skip-build

test-long: deps build
	@$(BIN) pull $(LONG_MODEL)
	@ENTROPYINFER_LONG_TESTS=1 $(SWIFT) test -c release

serve: deps models
	@$(BIN) serve --model $(DEFAULT_MODEL)

bench: deps models
	@$(BIN) bench --model $(DEFAULT_MODEL)

clean:
	@rm -rf .build
