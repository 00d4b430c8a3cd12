# Go standard-library tests in containers under runc, runsc-baseline and
# athena; see tests/gosuite/cmd/gosuite. Meant to be included by the top
# Makefile, so paths are relative to the repository root and $(GO) is the
# top Makefile's.
#
#   make conformance-gostd                      all default packages (~5 min)
#   make conformance-gostd GOSTD_FLAGS='-packages os,net'
#
# Writes tests/conformance/results/gostd.json; raw output and test2json
# events stay in $(GOSTD_WORK)/logs.

GOSTD_OUT   ?= tests/conformance/results/gostd.json
GOSTD_WORK  ?= /tmp/athena-gosuite
GOSTD_FLAGS ?=

.PHONY: conformance-gostd
conformance-gostd: install install-baseline images
	$(GO) run ./tests/gosuite/cmd/gosuite -out $(GOSTD_OUT) -work $(GOSTD_WORK) $(GOSTD_FLAGS)
