// Command ocivalidation runs the OCI runtime-tools validation programs
// (github.com/opencontainers/runtime-tools/validation/...) against runc,
// plain gVisor (runsc-baseline) and athena, driving each runtime's command
// line directly as the OCI Runtime Command Line Interface describes, and
// records per-program pass/fail/skip counts in oci.json.
//
// runtime-tools is not a dependency of this module and none of its code is
// vendored or committed: the program asks the go command for the pinned
// version (`go mod download`, which fills the module cache from the module
// proxy) and builds runtimetest and the validation programs from the module
// cache into a scratch directory with -mod=mod, in that module's own
// context, so this repository's go.mod is never touched.
//
// Each runtime is reached through a two-line wrapper script generated at run
// time (RUNTIME=wrapper, as the suite expects) that adds a private --root
// state directory. That keeps the suite's containers apart from dockerd's
// and lets the harness force-delete whatever a crashed or timed-out program
// left behind without touching anybody else's containers.
//
// Counting. The programs print TAP (several streams when a program relays
// runtimetest's output from inside the container), and some report their
// verdict only through the exit status (the *_fail programs succeed when
// the runtime rejects the config and print nothing). So, per program:
//
//   - every test point counts: "ok" is a pass, "not ok" a fail, a "# SKIP"
//     or "# TODO" directive a skip;
//   - a TAP stream that has test points but no plan was cut short (the
//     program inside the container died) and counts one extra fail, as does
//     "Bail out!";
//   - the program's own verdict counts once more: a non-zero exit or the
//     time limit is one fail; a clean exit with no test points at all is one
//     pass, or one skip if the program declared an empty plan ("1..0").
//
// Where athena's counts differ from runc's, oci.json carries the text from
// tests/ocivalidation/explanations.json for that program; differences
// without an explanation are listed on stderr so that they get one.
//
// Imports: the standard library only.
package main
