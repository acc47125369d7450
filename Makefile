# IPsecLab: the two set-up commands of the README.
#   make report   installs what is missing, builds in release, runs the main job
#   make test     installs what is missing, builds, runs every test
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
SAMPLE ?= corpora/captures/sample.pcap

.PHONY: setup build release test report clean bench-check

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build --build-tests

release: setup
	$(SWIFT) build -c release

test: build
	$(SWIFT) test --skip-build

report: release
	.build/release/ipsec-lab report --out report
	@echo "open report/index.html in a browser (xdg-open report/index.html); report/report.md is the same as Markdown"

# The allocation guard (Benchmarks/README.md): zero heap allocations per packet in every mode, against the committed
# thresholds. Not part of `make test`: it builds the package and package-benchmark in release mode (minutes).
bench-check: setup
	cd Benchmarks && $(SWIFT) package benchmark thresholds check

clean:
	rm -rf .build
