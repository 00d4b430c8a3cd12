package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The conformance family runs tests/conformance's programs through that
// suite's own runner (tests/conformance/cmd/conformance), which starts
// one `docker run --rm --runtime=RT --network none ... /conf/PROGRAM`
// per program: learn passes under the learn runtime, then one pass under
// runc (the reference), plain athena and the enforcing runtime.
type confRun struct {
	h       *harness
	runner  string
	learned []string // the learn passes' record IDs
	cmds    []string
}

const confFamily = "conformance"

// confPrograms are the suite's programs (tests/conformance/conformance.mk).
var confPrograms = []string{"files", "fds", "memory", "processes", "signals", "time", "sockets", "ipc", "identity", "proc"}

func checkConformanceBins(root string) error {
	for _, p := range confPrograms {
		if _, err := os.Stat(filepath.Join(root, "tests/conformance/bin", p)); err != nil {
			return fmt.Errorf("conformance program %s not built (make conformance-bin)", p)
		}
	}
	return nil
}

// goTool finds the go command (make puts /usr/local/go/bin on PATH).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func (c *confRun) runSuite(ctx context.Context, out string, args ...string) error {
	if c.runner == "" {
		c.runner = filepath.Join(c.h.runDir, "bin", "conformance")
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", c.runner, "./tests/conformance/cmd/conformance")
		cmd.Dir = c.h.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building the conformance runner: %v: %s", err, tail(string(b), 1000))
		}
	}
	args = append([]string{"-root", c.h.root, "-out", out}, args...)
	c.cmds = append(c.cmds, "go run ./tests/conformance/cmd/conformance "+strings.Join(args, " "))
	log.Printf("conformance: %s", strings.Join(args, " "))
	r, err := command(ctx, 20*time.Minute, c.runner, args...)
	os.WriteFile(filepath.Join(c.h.logDir, "conformance-"+filepath.Base(out)+".log"), []byte(r.stdout+r.stderr), 0o644)
	if err != nil {
		return err
	}
	if r.code != 0 {
		return fmt.Errorf("conformance runner exit %d: %s", r.code, strings.TrimSpace(tail(r.stderr, 1500)))
	}
	return nil
}

// waitGone waits until no container of runtime rt is left: the runner's
// `docker run --rm` returns before dockerd has deleted the container, and
// a record is complete only once its container is gone.
func (h *harness) waitGone(ctx context.Context, rt string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := docker(ctx, 30*time.Second, "ps", "-aq", "--filter", "name=conf-"+sanitizeName(rt)+"-")
		if err != nil || strings.TrimSpace(r.stdout) == "" {
			return
		}
		sleep(ctx, 500*time.Millisecond)
	}
}

// sanitizeName is the conformance runner's rule for container names.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// records lists the record IDs in the family's events directory.
func (c *confRun) records() map[string]bool {
	files, _ := filepath.Glob(filepath.Join(c.h.eventsDir(confFamily), "*.jsonl"))
	m := map[string]bool{}
	for _, f := range files {
		m[strings.TrimSuffix(filepath.Base(f), ".jsonl")] = true
	}
	return m
}

func (c *confRun) learn(ctx context.Context) error {
	rt := learnRuntime(confFamily)
	out := filepath.Join(c.h.runDir, "conformance-learn.json")
	if err := c.runSuite(ctx, out, "-runtimes", rt, "-reference", rt, "-reference-runs", strconv.Itoa(c.h.confPasses)); err != nil {
		return fmt.Errorf("conformance learn: %w", err)
	}
	c.h.waitGone(ctx, rt)
	for id := range c.records() {
		c.learned = append(c.learned, id)
	}
	sort.Strings(c.learned)
	if len(c.learned) == 0 {
		return fmt.Errorf("conformance learn: no records in %s", c.h.eventsDir(confFamily))
	}
	_, err := c.h.exportProfile(ctx, confFamily, c.learned)
	return err
}

// confResults is the part of the runner's results file this program
// reads (tests/internal/results.Syscalls).
type confResults struct {
	Reference string   `json:"reference"`
	Runtimes  []string `json:"runtimes"`
	Programs  []struct {
		Name string `json:"name"`
		Runs map[string]struct {
			Status string `json:"status"`
			Cases  int    `json:"cases"`
		} `json:"runs"`
	} `json:"programs"`
	Cases []struct {
		Name     string            `json:"name"`
		Program  string            `json:"program"`
		Results  map[string]string `json:"results"`
		Unstable bool              `json:"unstable"`
		Quick    bool              `json:"quick"`
	} `json:"cases"`
}

func (c *confRun) enforce(ctx context.Context) (*Conformance, error) {
	rt := enforceRuntime(confFamily)
	before := c.records()
	out := filepath.Join(c.h.runDir, "conformance.json")
	if err := c.runSuite(ctx, out, "-runtimes", "runc,"+plainRuntime+","+rt, "-reference", "runc", "-reference-runs", "1"); err != nil {
		return nil, fmt.Errorf("conformance under enforcement: %w", err)
	}
	c.h.waitGone(ctx, rt)
	c.h.waitGone(ctx, plainRuntime)
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res confResults
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	conf := &Conformance{LearnRuntime: learnRuntime(confFamily), Runtime: rt, Profile: c.h.profilePath(confFamily),
		LearnPasses: c.h.confPasses, LearnResults: filepath.Join(c.h.runDir, "conformance-learn.json"), Results: out, Commands: c.cmds}
	if conf.ProfileInfo, err = profileInfo(conf.Profile); err != nil {
		return nil, err
	}
	if conf.LearnEvents, err = c.h.learnEvents(confFamily, c.learned); err != nil {
		return nil, err
	}

	// The enforce pass's records, by program: a container's program is
	// the command name most of its decisions carry.
	byProg := map[string]*recordFile{}
	all := &recordFile{found: true}
	for id := range c.records() {
		if before[id] {
			continue
		}
		rf, err := readRecord(c.h.recordPath(confFamily, id))
		if err != nil {
			return nil, err
		}
		all.entries = append(all.entries, rf.entries...)
		all.dropped += rf.dropped
		all.lost += rf.lost
		all.cut += rf.cut
		byProg[programOf(rf)] = rf
	}
	conf.Events = all.summarize(nil)

	progs := map[string]*ConfProgram{}
	for _, p := range res.Programs {
		cp := &ConfProgram{Name: p.Name, Runc: p.Runs["runc"].Status, Athena: p.Runs[plainRuntime].Status, Enforce: p.Runs[rt].Status}
		if rf := byProg[p.Name]; rf != nil {
			ev := rf.summarize(nil)
			cp.Refusals = ev.Refusals
			cp.SwarmDenyKill = ev.Swarm["deny"] + ev.Swarm["kill"]
			cp.Examples = ev.Examples
		}
		progs[p.Name] = cp
		conf.Programs = append(conf.Programs, *cp)
	}
	for _, cs := range res.Cases {
		ref, okRef := cs.Results["runc"]
		if !okRef {
			continue
		}
		conf.Cases++
		if cs.Quick {
			conf.Quick++
		}
		cp := progs[cs.Program]
		if cp != nil {
			cp.Cases++
		}
		if cs.Unstable {
			conf.Unstable++
			continue
		}
		a, okA := cs.Results[plainRuntime]
		e, okE := cs.Results[rt]
		if okA && a == ref {
			conf.SameAthena++
			if cp != nil {
				cp.SameAthena++
			}
			if cs.Quick {
				conf.QuickAthena++
			}
		}
		if okE && e == ref {
			conf.SameEnforce++
			if cp != nil {
				cp.SameEnforce++
			}
			if cs.Quick {
				conf.QuickEnforce++
			}
		}
		if okA != okE || a != e {
			conf.EnforceVsAthena++
			if cp != nil {
				cp.EnforceVsAthena++
			}
			line := fmt.Sprintf("%s: runc %q, athena %s, enforced %s", cs.Name, ref, show(a, okA), show(e, okE))
			switch sameA, sameE := okA && a == ref, okE && e == ref; {
			case okA && defaultRefusal(a) && !strings.HasPrefix(e, a):
				// gVisor is the same under both: the call got past the
				// default policy's errno because the profile allows it.
				conf.Widened++
				conf.WidenedCases = appendMax(conf.WidenedCases, line, 25)
			case sameA && !sameE:
				conf.Broken++
				if cp != nil {
					cp.Broken++
				}
				if cs.Quick {
					conf.QuickBroken++
				}
				conf.BrokenCases = appendMax(conf.BrokenCases, line, 40)
			case !sameA && sameE:
				conf.Fixed++
				conf.FixedCases = appendMax(conf.FixedCases, line, 25)
			default:
				conf.Changed++
				conf.ChangedCases = appendMax(conf.ChangedCases, line, 25)
			}
		}
	}
	for i := range conf.Programs {
		conf.Programs[i] = *progs[conf.Programs[i].Name]
	}
	log.Printf("conformance: %d cases; same as runc: athena %d, enforced %d; enforced differs from athena in %d; %d refusals",
		conf.Cases, conf.SameAthena, conf.SameEnforce, conf.EnforceVsAthena, conf.Events.Refusals)
	return conf, ctx.Err()
}

// defaultRefusal reports whether a case's result under plain athena is an
// errno the built-in default policy answers with (EPERM, ENOSYS).
func defaultRefusal(res string) bool {
	return strings.HasPrefix(res, "-1 EPERM") || strings.HasPrefix(res, "-1 ENOSYS")
}

func appendMax(l []string, s string, n int) []string {
	if len(l) < n {
		l = append(l, s)
	}
	return l
}

func show(v string, ok bool) string {
	if !ok {
		return "<no record>"
	}
	return strconv.Quote(v)
}

// programOf names the conformance program a record belongs to: the
// known program name most of its decisions' tasks carry as comm.
func programOf(rf *recordFile) string {
	n := map[string]int{}
	for _, e := range rf.entries {
		comm := ""
		if e.gate != nil {
			comm = e.gate.Comm
		} else {
			comm = e.swarm.Comm
		}
		if contains(confPrograms, comm) {
			n[comm] += e.count()
		}
	}
	best := "?"
	for p, c := range n {
		if c > n[best] || (c == n[best] && p < best) {
			best = p
		}
	}
	return best
}
