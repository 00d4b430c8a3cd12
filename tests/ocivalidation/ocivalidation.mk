# OCI runtime-tools validation programs against runc, runsc-baseline and
# athena, driven through each runtime's command line (not Docker); see
# tests/ocivalidation/cmd/ocivalidation. Meant to be included by the top
# Makefile, so paths are relative to the repository root and $(GO) and
# $(DESTBIN) are the top Makefile's. Needs root.
#
#   make conformance-oci                          all programs (~8 min)
#   make conformance-oci OCI_FLAGS='-tests create,kill,start'
#
# Writes tests/conformance/results/oci.json, merging the explanations in
# tests/ocivalidation/explanations.json; raw TAP and stderr stay in
# $(OCI_WORK)/logs.

OCI_OUT    ?= tests/conformance/results/oci.json
OCI_WORK   ?= /tmp/athena-ocivalidation
OCI_ATHENA ?= $(DESTBIN)/runsc-athena
OCI_FLAGS  ?=

# This target builds but does not install athena, so it warns when the
# binary under test is not the one just built.
.PHONY: conformance-oci
conformance-oci: install install-baseline
	$(GO) run ./tests/ocivalidation/cmd/ocivalidation -out $(OCI_OUT) -work $(OCI_WORK) \
		-explanations tests/ocivalidation/explanations.json \
		-runtimes runc=runc,runsc-baseline=$(DESTBIN)/runsc-baseline,athena=$(OCI_ATHENA) $(OCI_FLAGS)
