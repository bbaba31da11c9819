# Thin wrapper over CMake: the README's two commands, plus the plain build.
#   make        build everything into build/ (the CLI is build/otgen)
#   make demo   install missing packages, build, train the Fashion-MNIST generator (~5 min)
#   make test   install missing packages, build, run the test suite
#   make asan   the test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make bench  build and run the benchmarks
#   make install PREFIX=DIR   headers, libotgen.so/.a, otgen.pc, otgenConfig.cmake, bin/otgen
#   make format-check         clang-format --dry-run on the files kept clang-formatted
#   make check-docs           re-run the commands the docs quote and compare (--long: examples too)
#   make docs-images          regenerate every picture in docs/images (~40 min)
#   make fuzz FUZZ_SECONDS=N  every libFuzzer target of tests/fuzz for N s (clang; build-fuzz/)
BUILD ?= build
PREFIX ?= /usr/local
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps configure demo demo-flags test asan bench clean install format-check check-docs docs-images fuzz

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

# The main job: a class-conditional MLP generator trained on Fashion-MNIST with the SW loss in
# under five minutes on 2 cores: 16,000 steps along 784 hadamard directions (projected by fast
# transforms), one class per step, 1,024 of its data points against 256 generated, Adam 3e-3
# decayed over the last 30 %, the samples through the 5-point median (docs/training.md, "The demo
# recipe", "Hadamard directions" and "A class-conditional generator"); the pictures land in
# runs/demo/ (samples.png, loss.png). 186 s on the 2 cores of an AMD EPYC guest; on a slower
# machine `make demo DEMO_STEPS=8000` halves it (FD about 2.7 instead of 1.6).
DEMO_STEPS ?= 16000
DEMO_FLAGS ?= --data fashion-mnist --conditional --steps $(DEMO_STEPS) --lr 0.003 --schedule wsd --decay-frac 0.3 --projections 784 --directions-kind hadamard --data-batch 1024 --sample-median --val-every 500 \
              --out runs/demo --force
demo: all
	./$(BUILD)/otgen train $(DEMO_FLAGS)
	@echo "pictures: runs/demo/samples.png (generated garments), runs/demo/loss.png (loss curves)"

# the demo's flags, for scripts that run its recipe (bench/fmnist_vs_torch.sh)
demo-flags:
	@echo $(DEMO_FLAGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	    -DOTGEN_SANITIZE=ON -DOTGEN_WERROR=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

bench: all
	./$(BUILD)/bench_core

# libFuzzer + ASan + UBSan (float-cast-overflow included) on every reader of external input;
# the corpora grow in build-fuzz/fuzz-corpus, findings land in build-fuzz/fuzz-artifacts.
fuzz: deps
	@test -f build-fuzz/CMakeCache.txt || CC=clang cmake -S . -B build-fuzz \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTGEN_FUZZ=ON -DOTGEN_TESTS=OFF -DOTGEN_SHARED=OFF >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)
	@echo "installed into $(PREFIX): build with  cc app.c \$$(pkg-config --cflags --libs otgen)" \
	      "(PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig if that is not a system prefix)"

format-check: deps
	@scripts/check-format.sh

check-docs: all
	scripts/check-docs.sh $(BUILD) --long

docs-images: all
	scripts/docs-images.sh $(BUILD)
