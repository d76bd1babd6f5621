# The two commands of the README, and a few more. Each first installs what
# it needs (scripts/install-deps: idempotent, quiet when all is present).
#
#   make demo    the main job: the lab, the scheduler and both mechanisms
#   make test    every test (unit, CLI, real eBPF/TLS/namespace tests)
#
# Variables: BUILD=dir (default build), SANITIZE=1 (ASan+UBSan build),
# CI=true turns warnings into errors.

BUILD ?= build
JOBS := $(shell nproc)
CMAKE_FLAGS ?=
ifneq ($(SANITIZE),)
CMAKE_FLAGS += -DSAF_SANITIZE=ON
endif
ifneq ($(CI),)
CMAKE_FLAGS += -DSAF_WERROR=ON
endif
FUZZ_SECONDS ?= 20

.PHONY: all deps build test test-valgrind test-load demo bench fuzz fuzz-smoke format clean man install deb

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure

# valgrind memcheck over the cmocka unit tests, the CLI test, saf tls on
# loopback and (as root) the root-only tools in namespaces.
test-valgrind: build
	@scripts/test-valgrind $(BUILD)

# The hardening load test at full scale (10k connections, 10 minutes, then
# 95 s for the nodes' keepalive to clear abandoned first connections);
# LOAD_ARGS overrides, e.g. LOAD_ARGS="--duration 60".
LOAD_ARGS ?= --settle 95
test-load: build
	@scripts/load $(LOAD_ARGS)

demo: build
	@scripts/demo $(DEMO_ARGS)

bench: build
	@scripts/bench

# libFuzzer harnesses; fuzz-smoke runs each for FUZZ_SECONDS.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DSAF_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

fuzz-smoke: fuzz
	@scripts/fuzz-smoke build-fuzz $(FUZZ_SECONDS)

man: build
	@cmake --build $(BUILD) --target man

install: man
	@cmake --install $(BUILD) $(if $(DESTDIR),--prefix $(DESTDIR)/usr,)

# A Debian package in $(BUILD)/pkg/.
deb: man
	@cd $(BUILD) && cpack -G DEB >/dev/null && ls pkg/*.deb

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
