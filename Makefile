# rotina: the two commands of the README.
#   make demo   install missing packages, Release build with clang++ (in
#               build/demo; g++ 12 miscompiles coroutines, docs/gcc12.md), run
#               the single-node sample apps one after another (hello, stock,
#               pipeline, workers, sieve, select, temperature, errgroup,
#               mandelbrot, wordfreq), then the multi-node demo:
#               scripts/cluster-demo.sh starts the node processes of
#               config/cluster-3node/ and runs the multi-node apps across them
#               (DEMO_SIZE=small for a quick run)
#   make test   install missing packages, then build and test with clang++
#               and g++ under ASan+UBSan (-Werror), once more in Release (with
#               the benchmarks, each run once at a tiny size: ctest -L bench), and
#               build a consumer project against the installed package
# Build trees live in build/<name>. JOBS=2 by default (2-core machines).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
JOBS ?= 2
CMAKE ?= cmake
CTEST ?= ctest

export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/test/ubsan.supp

SANITIZED := -DCMAKE_BUILD_TYPE=Debug -DROTINA_SANITIZE=address,undefined \
             -DROTINA_WERROR=ON
RELEASE := -DCMAKE_BUILD_TYPE=Release -DROTINA_WERROR=ON -DROTINA_BUILD_BENCH=ON

.PHONY: demo test deps test-clang-asan test-gcc-asan test-release \
        test-consumer clean

deps:
	scripts/deps.sh

# -- demo ----------------------------------------------------------------------

DEMO_APPS := hello stock pipeline workers sieve select temperature errgroup \
             mandelbrot wordfreq
# clang++: Debian 12's g++ 12 miscompiles coroutine code (docs/gcc12.md).
DEMO_CXX ?= clang++
DEMO_SIZE ?= full

demo: deps
	$(CMAKE) -S . -B build/demo -DCMAKE_CXX_COMPILER=$(DEMO_CXX) \
	  -DCMAKE_BUILD_TYPE=Release -DROTINA_BUILD_TESTS=OFF
	$(CMAKE) --build build/demo -j$(JOBS) --target $(DEMO_APPS) mandelbrot_reference
	@for app in $(DEMO_APPS); do \
	  case $$app in \
	    hello) args="--config-file=config/default.ini" ;; \
	    sieve) args="100" ;; \
	    errgroup) args="apps/errgroup/testdata" ;; \
	    mandelbrot) args="--out=build/demo/mandelbrot.png" ;; \
	    *) args="" ;; \
	  esac; \
	  echo; echo "== $$app $$args"; \
	  build/demo/apps/$$app/$$app $$args; \
	done
	@echo; echo "== the multi-node demo: scripts/cluster-demo.sh (config/cluster-3node/)"
	scripts/cluster-demo.sh --bin=build/demo --cluster=config/cluster-3node --size=$(DEMO_SIZE)

# -- tests ---------------------------------------------------------------------

# configure, build and run ctest in build/$(1) with compiler $(2), flags $(3)
define build_and_test
	$(CMAKE) -S . -B build/$(1) -DCMAKE_CXX_COMPILER=$(2) $(3)
	$(CMAKE) --build build/$(1) -j$(JOBS)
	cd build/$(1) && $(CTEST) --output-on-failure -j2
endef

test: deps
	$(MAKE) --no-print-directory test-clang-asan
	$(MAKE) --no-print-directory test-gcc-asan
	$(MAKE) --no-print-directory test-release
	$(MAKE) --no-print-directory test-consumer
	@echo "make test: all configurations passed"

test-clang-asan:
	$(call build_and_test,clang-asan,clang++,$(SANITIZED))

test-gcc-asan:
	$(call build_and_test,gcc-asan,g++,$(SANITIZED))

test-release:
	$(call build_and_test,release,g++,$(RELEASE))

test-consumer:
	test/consumer/run.sh build/release build/install build/consumer

clean:
	rm -rf build
