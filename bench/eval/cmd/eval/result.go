package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/athenaos/athena/internal/atomicfile"
)

// Schema is the version of the results file.
const Schema = 1

// Result is one evaluation run: what bench/results/eval-*.json holds and
// docs/eval.md is rendered from.
type Result struct {
	Schema   int      `json:"schema"`
	Date     string   `json:"date"` // RFC 3339, UTC, when the run started
	Command  string   `json:"command"`
	Args     []string `json:"args"` // this program's arguments
	Machine  Machine  `json:"machine"`
	Settings Settings `json:"settings"`
	// Complete is false for a run that stopped at an error (Error).
	Complete bool    `json:"complete"`
	Error    string  `json:"error,omitempty"`
	Seconds  float64 `json:"seconds"`

	Families    []Family     `json:"families"`
	Benign      []BenignRun  `json:"benign"`
	Attacks     []Attack     `json:"attacks"`
	Conformance *Conformance `json:"conformance,omitempty"`
	GoStd       *GoStd       `json:"gostd,omitempty"`
}

// Machine says where the run happened.
type Machine struct {
	CPU        string `json:"cpu"`
	NProc      int    `json:"nproc"`
	MemTotal   string `json:"mem_total"`
	Kernel     string `json:"kernel"`
	Docker     string `json:"docker"`
	Athena     string `json:"athena"` // runsc-athena --version, first line
	Go         string `json:"go"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// Settings are the run's parameters.
type Settings struct {
	Image       string `json:"image"`
	ImageID     string `json:"image_id"`
	Binary      string `json:"binary"`
	LearnRuns   int    `json:"learn_runs"`
	EnforceRuns int    `json:"enforce_runs"`
	Requests    int    `json:"requests"`
	Warmup      int    `json:"warmup"`
	RedisN      int    `json:"redis_n"`
	// MemoryDB is the runtimes' --athena-memory-db ("": the host's).
	MemoryDB string `json:"memory_db,omitempty"`
	// StableAfter was added to the learned profiles (0: not).
	StableAfter uint64   `json:"stable_after,omitempty"`
	Families    []string `json:"families"`
	AttackNames []string `json:"attacks"`
	Control     bool     `json:"control"`
	WorkDir     string   `json:"work_dir"`
}

// Family is one workload family's learning.
type Family struct {
	Name         string      `json:"name"`
	Workload     string      `json:"workload"` // the command line, for people
	LearnRuntime string      `json:"learn_runtime"`
	Runtime      string      `json:"runtime"` // the enforcing runtime
	Profile      string      `json:"profile"` // path of the learned profile
	ProfileInfo  ProfileInfo `json:"profile_info"`
	Learn        []LearnRun  `json:"learn"`
	// Memory is athena's long memory of the workload after the learn
	// runs, MemoryEnd after the whole evaluation (enforce runs whose
	// model is not stable go on learning and are merged too).
	Memory    []ModelInfo `json:"memory,omitempty"`
	MemoryEnd []ModelInfo `json:"memory_end,omitempty"`
}

// ProfileInfo summarizes a learned profile.
type ProfileInfo struct {
	Rules     int `json:"rules"`
	Syscalls  int `json:"syscalls"`   // syscalls the allow rules name
	PathRules int `json:"path_rules"` // rules of paths
	Paths     int `json:"paths"`      // globs in allow path rules
	Execs     int `json:"execs"`      // globs in the exec allowlist
	Endpoints int `json:"endpoints"`  // endpoints in allow net rules
	// SwarmSection reports a "swarm:" section in the profile.
	SwarmSection bool `json:"swarm_section"`
}

// LearnRun is one learn-mode run.
type LearnRun struct {
	Container string  `json:"container"`
	Seconds   float64 `json:"seconds"`
	OK        bool    `json:"ok"`
	Detail    string  `json:"detail,omitempty"`
	Events    Events  `json:"events"`
}

// BenignRun is one enforce-mode run of a benign workload.
type BenignRun struct {
	Family    string  `json:"family"`
	Run       int     `json:"run"`
	Container string  `json:"container"`
	Seconds   float64 `json:"seconds"`
	// OK: the workload did its job (exit 0, answers checked).
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	// Requests and Failures count the workload's own operations (HTTP
	// requests, redis checks and benchmark tests, build steps).
	Requests int `json:"requests"`
	Failures int `json:"failures"`
	// FalsePositive: a refusal or a swarm deny/kill in the record.
	FalsePositive bool   `json:"false_positive"`
	Events        Events `json:"events"`
}

// Attack is one misbehaviour scenario.
type Attack struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Runtime     string `json:"runtime"`
	Container   string `json:"container"`
	Trigger     string `json:"trigger"` // RFC 3339 with ns, host clock
	// Steps are the server's own account of each step of the
	// misbehaviour ("ok ..." or the error that stopped it).
	Steps      []Step  `json:"steps"`
	HTTPStatus int     `json:"http_status"`
	Response   string  `json:"response,omitempty"` // when not JSON steps
	Seconds    float64 `json:"seconds"`            // the trigger request's round trip
	// Sink is what reached the host listener the attack connects to.
	SinkConnections int  `json:"sink_connections"`
	SinkBytes       int  `json:"sink_bytes"`
	ShellAnswered   bool `json:"shell_answered,omitempty"` // revshell: "uid=" came back
	// Detected: a refusal or a swarm decision at or after the trigger.
	Detected bool `json:"detected"`
	// FirstMS is the first such decision's time minus the trigger's;
	// FirstActMS the same for the first that did something (a refusal, a
	// swarm delay, deny or kill); SeenMS when this program first saw a
	// decision in the record (the recorder writes in batches).
	FirstMS    *float64 `json:"first_ms,omitempty"`
	FirstActMS *float64 `json:"first_act_ms,omitempty"`
	SeenMS     *float64 `json:"seen_ms,omitempty"`
	Action     string   `json:"action"` // the strongest: none, record, delay, deny, kill
	Agents     []string `json:"agents"`
	// ServedBefore/After: benign requests answered before the trigger
	// (warm-up) and after it, of WarmupRequests/AfterRequests.
	ServedBefore   int `json:"served_before"`
	WarmupRequests int `json:"warmup_requests"`
	ServedAfter    int `json:"served_after"`
	AfterRequests  int `json:"after_requests"`
	// Noise: refusals or swarm decisions before the trigger.
	Noise  int    `json:"noise"`
	Events Events `json:"events"`
	// Control is the same trigger under plain athena (built-in default
	// policy), nil when not run.
	Control *Control `json:"control,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Step is one step of a trigger, as the server reported it.
type Step struct {
	Step   string `json:"step"`
	Result string `json:"result"`
}

// Control is an attack's run without a learned profile.
type Control struct {
	Runtime         string `json:"runtime"`
	Steps           []Step `json:"steps"`
	HTTPStatus      int    `json:"http_status"`
	Response        string `json:"response,omitempty"`
	SinkConnections int    `json:"sink_connections"`
	SinkBytes       int    `json:"sink_bytes"`
	ShellAnswered   bool   `json:"shell_answered,omitempty"`
	// Worked: every step reported ok.
	Worked bool   `json:"worked"`
	Events Events `json:"events"`
}

// Events summarizes a container's decision record.
type Events struct {
	// Found: the record existed (athena removes a deleted container's
	// record when it holds nothing but start and policy lines).
	Found  bool   `json:"found"`
	Mode   string `json:"mode,omitempty"`   // from the start line
	Policy string `json:"policy,omitempty"` // from the start line
	// Refusals counts refused calls (repeats included); Logged the
	// recorded calls that ran (learn mode's records, log rules).
	Refusals int `json:"refusals"`
	Logged   int `json:"logged"`
	// Swarm counts swarm decisions by the action carried out.
	Swarm  map[string]int `json:"swarm,omitempty"`
	Agents []string       `json:"agents,omitempty"`
	// WouldDeny counts calls recorded as would-be denials (learn and
	// observe mode: the policy in force, for learn runs the built-in
	// default, would have refused them); WouldDenyCalls names them
	// ("syscall [rule]"), each once.
	WouldDeny      int      `json:"would_deny,omitempty"`
	WouldDenyCalls []string `json:"would_deny_calls,omitempty"`
	Dropped        int      `json:"dropped,omitempty"`
	Lost           int      `json:"lost,omitempty"`
	Cut            int      `json:"cut,omitempty"` // unreadable lines
	// ByRule counts the refusals by the rule that refused ("default" for
	// the policy's default).
	ByRule map[string]int `json:"by_rule,omitempty"`
	// Examples: the first few refusals and swarm decisions, for people.
	Examples []string `json:"examples,omitempty"`
}

// Conformance is the syscall conformance suite learnt and enforced.
type Conformance struct {
	LearnRuntime string        `json:"learn_runtime"`
	Runtime      string        `json:"runtime"`
	Profile      string        `json:"profile"`
	ProfileInfo  ProfileInfo   `json:"profile_info"`
	LearnPasses  int           `json:"learn_passes"`
	LearnResults string        `json:"learn_results"`
	Results      string        `json:"results"` // the runner's results file
	Commands     []string      `json:"commands"`
	Programs     []ConfProgram `json:"programs"`
	// Totals over all cases: recorded by runc, identical to runc under
	// plain athena and under enforcement, and the cases whose result
	// under enforcement differs from plain athena's (the enforcement's
	// false positives on this corpus).
	Cases           int `json:"cases"`
	Unstable        int `json:"unstable"`
	SameAthena      int `json:"same_athena"`
	SameEnforce     int `json:"same_enforce"`
	EnforceVsAthena int `json:"enforce_vs_athena"`
	// Of those: Widened were refused by plain athena's default policy
	// (EPERM, ENOSYS) and get past it under the learned profile; of the
	// rest, Broken were identical to runc under plain athena and are not
	// under enforcement (the false positives), Fixed the other way round,
	// Changed differ from runc under both.
	Widened      int      `json:"widened"`
	WidenedCases []string `json:"widened_cases,omitempty"`
	Broken       int      `json:"broken"`
	Fixed        int      `json:"fixed"`
	Changed      int      `json:"changed"`
	// The first of each, with the results.
	BrokenCases  []string `json:"broken_cases,omitempty"`
	FixedCases   []string `json:"fixed_cases,omitempty"`
	ChangedCases []string `json:"changed_cases,omitempty"`
	// LearnEvents summarizes the learn passes' records (would-be
	// denials of the built-in default policy among them).
	LearnEvents Events `json:"learn_events"`
	// Memory and MemoryEnd: as Family's, one workload per program.
	Memory       []ModelInfo `json:"memory,omitempty"`
	MemoryEnd    []ModelInfo `json:"memory_end,omitempty"`
	Quick        int         `json:"quick"`
	QuickAthena  int         `json:"quick_athena"`
	QuickEnforce int         `json:"quick_enforce"`
	QuickBroken  int         `json:"quick_broken"`
	Events       Events      `json:"events"`
}

// ConfProgram is one program of the suite.
type ConfProgram struct {
	Name string `json:"name"`
	// Status per runtime (ok, crashed, timeout, error).
	Runc            string `json:"runc"`
	Athena          string `json:"athena"`
	Enforce         string `json:"enforce"`
	Cases           int    `json:"cases"`
	SameAthena      int    `json:"same_athena"`
	SameEnforce     int    `json:"same_enforce"`
	EnforceVsAthena int    `json:"enforce_vs_athena"`
	Broken          int    `json:"broken"`
	// Refusals in the enforce run's record (by the program's comm).
	Refusals      int      `json:"refusals"`
	SwarmDenyKill int      `json:"swarm_deny_kill"`
	Examples      []string `json:"examples,omitempty"`
}

// save writes r as dir/eval-STAMP.json and dir/eval-latest.json.
func (r *Result) save(dir, stamp string) (string, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	data = append(data, '\n')
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "eval-"+stamp+".json")
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "eval-latest.json"), data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// loadResult reads a results file.
func loadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %d, this program reads %d", path, r.Schema, Schema)
	}
	return &r, nil
}
