// Command eval is AthenaOS's security evaluation: benign workloads and
// misbehaviour in real containers of a Debian image (athena-test/eval),
// each workload first learnt and then run under what was learnt, as an
// operator would use athena. It measures detection (per attack: detected
// or not, time to the first decision, the strongest action, which agents
// or rules decided), false positives (benign runs under enforcement that
// met any refusal or swarm deny/kill, and failed requests), and
// conformance under enforcement (the differential syscall suite learnt,
// then run under its own learned profile, compared with plain athena and
// with runc). `make eval` runs it; it writes bench/results/eval-DATE.json,
// bench/results/eval-latest.json and docs/eval.md.
//
//	go run ./bench/eval/cmd/eval [flags]
//	go run ./bench/eval/cmd/eval -render bench/results/eval-latest.json
//
// # Families
//
//   - web: bench/eval/app/server.py (python3, standard library), a small
//     HTTP server, driven by a load generator in this program (ordinary
//     routes: static files, /info, /compute, /log, /upload, /report which
//     runs uname). Its trigger routes /x/NAME make the server itself
//     misbehave (spawn a shell, a reverse shell, read /etc/shadow then
//     connect out, read many files then connect out, ptrace a child, a
//     bounded fork bomb, drop a binary in /tmp and run it): each attack is
//     an enforce-mode run of the same workload with one trigger, and a
//     control run under plain athena (athena-eval-plain: the built-in
//     default policy) shows the misbehaviour works when nothing learnt
//     stops it.
//   - redis: redis-server, with redis-benchmark and redis-cli checks from
//     the host through a port published on 127.0.0.1.
//   - build: `make -j2 check` of the small C project in bench/eval/src.
//   - conformance: the programs of tests/conformance, run by that suite's
//     own runner: learn passes, then runc, plain athena and the learned
//     profile side by side.
//   - gostd (not in the default -families: some 12 minutes more): Go's
//     standard-library tests (tests/gosuite), by that suite's runner,
//     under plain athena and the learned profile.
//
// # How a family is learnt and enforced
//
// Each family has two Docker runtimes that this program registers with
// `runsc-athena docker-install` (and removes at the end, also after an
// error or an interrupt): athena-eval-learn-FAMILY (--athena-mode=learn)
// and athena-eval-FAMILY (--athena-policy=the learned profile), both with
// --athena-events-dir=WORK/run/events/FAMILY. The learn runs' decision
// records are concatenated into one record, eval-FAMILY-learned.jsonl, and
// `runsc-athena swarm profile export` turns it into the profile, so the
// profile is the union of what every learn run did, built by the CLI an
// operator uses. The swarm's sense-of-self model is kept by athena itself
// in its long memory, per workload (image + command line), merged from
// every run at container delete: with -memory-db=run (the default) every
// runtime of the evaluation uses a database of the run's own
// (--athena-memory-db), so each evaluation learns from nothing and leaves
// the host's long memory alone. -stable-after N adds
// swarm.selfmodel.stable_after to the learned profiles, for a model that
// must reach stability within the few learn runs of an evaluation.
//
// Runtimes and containers are named athena-eval-*; a run first removes
// what an interrupted earlier run left (the docker-install state files
// in WORK/state say which runtimes), and removes its own at the end, also
// after an error or an interrupt.
//
// # What counts
//
// A gate refusal is a "decision" line whose action is not allow; a swarm
// decision is a "swarm" line (swarm/record). An attack is detected when
// either appears in the container's record at or after the trigger (host
// clock, taken just before the trigger request); the time to decision is
// the first such line's time minus the trigger's. A benign run is a false
// positive when its record holds any refusal or a swarm deny or kill;
// swarm records and delays are counted beside it. Timing is a measurement,
// never a pass/fail condition: the program fails (exit 1) only when a step
// cannot be carried out (an image missing, a container that does not
// start, a learn run that fails, a runtime that cannot be registered).
package main
