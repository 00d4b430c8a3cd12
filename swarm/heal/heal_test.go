package heal

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/restart"
)

// t0 is the time of the tests' first event.
var t0 = time.Unix(1_800_000_000, 0).UnixNano()

func ms(n int64) int64 { return t0 + n*int64(time.Millisecond) }

// exitEvent returns the event of a process reaped at ms(t): exited with
// status val, or killed by signal val.
func exitEvent(t int64, slot uint32, pid int32, comm string, exited bool, val uint64) event.Event {
	ev := event.Event{Kind: event.KindLifecycle, Ops: event.LifeOpExit, Time: ms(t), Container: slot, PID: pid, TID: pid}
	ev.SetComm(comm)
	if exited {
		ev.Args[0], ev.Args[1] = 1, val
	} else {
		ev.Args[2] = val
	}
	return ev
}

// fast is a policy with short delays and a small intensity: backoff
// 100ms..1s, 3 restarts within 10s.
func fast(m restart.Mode) restart.Policy {
	return restart.Policy{Mode: m, BackoffFirst: 100 * time.Millisecond, BackoffMax: time.Second, MaxRestarts: 3, Window: 10 * time.Second}
}

func testConfig() ContainerConfig {
	return ContainerConfig{
		Main:       "server",
		MainPolicy: fast(restart.OnFailure),
		Services: []Service{
			{Name: "worker", Comm: "worker", Policy: fast(restart.Always)},
			{Name: "cron", Comm: "sh", Policy: fast(restart.No)},
			{Name: "worker2", Comm: "worker", Policy: fast(restart.Always)},
		},
	}
}

func newAgent(t *testing.T, slot uint32, cfg ContainerConfig) *Agent {
	t.Helper()
	a := New()
	if err := a.AddContainer(slot, cfg); err != nil {
		t.Fatal(err)
	}
	return a
}

// handle feeds ev and returns its decisions (at most one).
func handle(t *testing.T, a *Agent, ev event.Event) []agent.Decision {
	t.Helper()
	a.Tick(time.Unix(0, ev.Time), nil)
	out := a.Handle(&ev, nil)
	if len(out) > 1 {
		t.Fatalf("%d decisions for one exit", len(out))
	}
	return out
}

func reason(t *testing.T, a *Agent, ev event.Event) string {
	t.Helper()
	out := handle(t, a, ev)
	if len(out) == 0 {
		return ""
	}
	return out[0].Reason
}

func procStatus(t *testing.T, a *Agent, slot uint32, name string) ProcessStatus {
	t.Helper()
	for _, c := range a.Status().Containers {
		if c.Slot != slot {
			continue
		}
		for _, p := range c.Processes {
			if p.Name == name {
				return p
			}
		}
	}
	t.Fatalf("no process %s in container %d", name, slot)
	return ProcessStatus{}
}

func orphans(a *Agent, slot uint32) uint64 {
	for _, c := range a.Status().Containers {
		if c.Slot == slot {
			return c.Orphans
		}
	}
	return 0
}

func TestComm(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/python3":                  "python3",
		"python3":                           "python3",
		"./server":                          "server",
		"/opt/app/a-very-long-command-name": "a-very-long-com",
		"/dir/":                             "",
		"":                                  "",
	} {
		if got := Comm(in); got != want {
			t.Errorf("Comm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigFromPolicy(t *testing.T) {
	if _, ok := ConfigFromPolicy(policy.Heal{}, []string{"/bin/app"}); ok {
		t.Error("an empty heal section asks for a config")
	}
	h := policy.Heal{
		Restart:   restart.OnFailure,
		Backoff:   restart.Backoff{First: 200 * time.Millisecond, Max: 5 * time.Second},
		Intensity: restart.Intensity{Max: 3, Window: 30 * time.Second},
		Services: []policy.HealService{
			{Name: "worker", Command: []string{"/usr/local/bin/background-worker-process", "-v"}, Restart: restart.Always},
			{Name: "cron", Command: []string{"/usr/sbin/crond"}, Restart: restart.No},
		},
	}
	cfg, ok := ConfigFromPolicy(h, []string{"gunicorn", "app:app"})
	if !ok {
		t.Fatal("no config")
	}
	base := restart.Policy{BackoffFirst: 200 * time.Millisecond, BackoffMax: 5 * time.Second, MaxRestarts: 3, Window: 30 * time.Second}
	withMode := func(m restart.Mode) restart.Policy { p := base; p.Mode = m; return p }
	want := ContainerConfig{
		Main:       "gunicorn",
		MainPolicy: withMode(restart.OnFailure),
		Services: []Service{
			{Name: "worker", Comm: "background-work", Policy: withMode(restart.Always)},
			{Name: "cron", Comm: "crond", Policy: withMode(restart.No)},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config = %+v\nwant %+v", cfg, want)
	}
	if err := New().AddContainer(1, cfg); err != nil {
		t.Errorf("AddContainer: %v", err)
	}
	// Services alone need init; main is then not restarted.
	cfg, ok = ConfigFromPolicy(policy.Heal{Services: h.Services[:1]}, nil)
	if !ok || cfg.Main != "" || cfg.MainPolicy.Mode != restart.No || len(cfg.Services) != 1 {
		t.Errorf("services only: %+v, %v", cfg, ok)
	}
}

func TestAddContainerErrors(t *testing.T) {
	many := make([]Service, MaxServices+1)
	for i := range many {
		many[i] = Service{Name: "s" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Comm: "x"}
	}
	for _, tc := range []struct {
		cfg  ContainerConfig
		want string
	}{
		{ContainerConfig{Services: many}, "65 services, at most 64"},
		{ContainerConfig{Main: "sixteen-bytes-xx"}, "longer than 15 bytes"},
		{ContainerConfig{Services: []Service{{Name: "main", Comm: "x"}}}, `bad name "main"`},
		{ContainerConfig{Services: []Service{{Name: "", Comm: "x"}}}, `bad name ""`},
		{ContainerConfig{Services: []Service{{Name: "a", Comm: "x"}, {Name: "a", Comm: "y"}}}, `"a" named twice`},
		{ContainerConfig{Services: []Service{{Name: "a", Comm: "sixteen-bytes-xx"}}}, "longer than 15 bytes"},
		{ContainerConfig{MainPolicy: restart.Policy{Mode: 7}}, "main: bad restart mode"},
		{ContainerConfig{Services: []Service{{Name: "a", Policy: restart.Policy{MaxRestarts: -1}}}}, "service a: bad intensity"},
	} {
		err := New().AddContainer(1, tc.cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	a := newAgent(t, 1, ContainerConfig{Main: "x"})
	if err := a.AddContainer(1, ContainerConfig{}); !errors.Is(err, ErrContainer) {
		t.Errorf("second add: %v", err)
	}
	for slot := uint32(2); slot <= MaxContainers; slot++ {
		if err := a.AddContainer(slot, ContainerConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddContainer(MaxContainers+1, ContainerConfig{}); !errors.Is(err, ErrContainer) {
		t.Errorf("container %d: %v", MaxContainers+1, err)
	}
	if !a.RemoveContainer(5) || a.RemoveContainer(5) || a.Stats().Containers != MaxContainers-1 {
		t.Errorf("remove: %+v", a.Stats())
	}
	if err := a.AddContainer(MaxContainers+1, ContainerConfig{}); err != nil {
		t.Errorf("after a removal: %v", err)
	}
}

func TestClassify(t *testing.T) {
	a := newAgent(t, 3, testConfig())
	// Not a process of init's: an orphan, counted, no decision.
	if out := handle(t, a, exitEvent(0, 3, 30, "bash", true, 0)); len(out) != 0 {
		t.Errorf("orphan: %+v", out)
	}
	// A prefix or an extension of a name is another name.
	handle(t, a, exitEvent(1, 3, 31, "serve", true, 1))
	handle(t, a, exitEvent(2, 3, 32, "server2", true, 1))
	if n := orphans(a, 3); n != 3 {
		t.Errorf("orphans = %d, want 3", n)
	}
	// The first service of a name takes its exits while it lives...
	if r := reason(t, a, exitEvent(10, 3, 40, "worker", false, 11)); !strings.HasPrefix(r, "worker (pid 40) killed by SIGSEGV: restart 1 in 100ms") {
		t.Errorf("worker: %q", r)
	}
	// ... and the next one while the first waits for its restart.
	if r := reason(t, a, exitEvent(20, 3, 41, "worker", true, 3)); !strings.HasPrefix(r, "worker2 (pid 41) exited with status 3: restart 1 in 100ms") {
		t.Errorf("worker2: %q", r)
	}
	// Both wait: a third "worker" is a child of one of them.
	handle(t, a, exitEvent(30, 3, 42, "worker", true, 0))
	if n := orphans(a, 3); n != 4 {
		t.Errorf("orphans = %d, want 4", n)
	}
	// Restart due (no Tick in between): the restarted worker's exit.
	ev := exitEvent(110, 3, 43, "worker", true, 0)
	if out := a.Handle(&ev, nil); len(out) != 1 || !strings.HasPrefix(out[0].Reason, "worker (pid 43) exited with status 0: restart 2 in 200ms") {
		t.Errorf("restarted worker: %+v", out)
	}
	// Main by its name; a done service's name is an orphan's.
	if r := reason(t, a, exitEvent(200, 3, 50, "sh", true, 0)); r != "cron (pid 50) exited with status 0: not restarted (restart: no)" {
		t.Errorf("cron: %q", r)
	}
	handle(t, a, exitEvent(210, 3, 51, "sh", true, 0))
	if n := orphans(a, 3); n != 5 {
		t.Errorf("orphans = %d, want 5", n)
	}
	if r := reason(t, a, exitEvent(300, 3, 7, "server", true, 2)); !strings.HasPrefix(r, "main (pid 7) exited with status 2: restart 1 in 100ms") {
		t.Errorf("main: %q", r)
	}
	// A child of main that outlived it, reaped before main's restart.
	handle(t, a, exitEvent(350, 3, 8, "server", false, 9))
	if n := orphans(a, 3); n != 6 {
		t.Errorf("orphans = %d, want 6", n)
	}
	// Another container's events and unknown containers are not ours.
	handle(t, a, exitEvent(360, 4, 8, "server", true, 1))
	if s := a.Stats(); s.Unknown != 1 || s.Orphans != 6 || s.Exits != 5 {
		t.Errorf("stats = %+v", s)
	}
}

func TestFullCommName(t *testing.T) {
	a := newAgent(t, 0, ContainerConfig{Main: Comm("/bin/a-very-long-command-name"), MainPolicy: fast(restart.Always)})
	ev := exitEvent(0, 0, 5, "a-very-long-com", true, 0)
	if out := handle(t, a, ev); len(out) != 1 {
		t.Fatalf("15-byte comm: %+v", out)
	}
	// A 16-byte name without NUL (not the kernel's) is not the 15-byte one.
	ev = exitEvent(1000, 0, 6, "", true, 0)
	copy(ev.Comm[:], "a-very-long-comm")
	if out := handle(t, a, ev); len(out) != 0 {
		t.Errorf("16-byte comm matched: %+v", out)
	}
}

func TestDecisions(t *testing.T) {
	a := newAgent(t, 1, testConfig())
	out := handle(t, a, exitEvent(0, 1, 7, "server", true, 1))
	want := agent.Decision{
		Agent: "healer", Container: 1, PID: 7, Action: agent.ActRecord,
		Reason: "main (pid 7) exited with status 1: restart 1 in 100ms",
		Evidence: []string{"process=main", "comm=server", "exits=1", "restarts=1", "window=1/3 restarts within 10s",
			"policy=on-failure, backoff 100ms..1s, intensity 3/10s", "state=restarting"},
	}
	if len(out) != 1 || !reflect.DeepEqual(out[0], want) {
		t.Errorf("decision = %+v\nwant %+v", out, want)
	}
	for _, tc := range []struct {
		t      int64
		pid    int32
		exited bool
		val    uint64
		want   string
	}{
		{200, 8, false, 11, "main (pid 8) killed by SIGSEGV: restart 2 in 200ms"},
		{500, 9, true, 1, "main (pid 9) exited with status 1: restart 3 in 400ms"},
		{1000, 10, false, 6, "main (pid 10) killed by SIGABRT: 3 restarts within 10s: giving up"},
	} {
		if r := reason(t, a, exitEvent(tc.t, 1, tc.pid, "server", tc.exited, tc.val)); r != tc.want {
			t.Errorf("reason = %q, want %q", r, tc.want)
		}
	}
	if a.Stats().GiveUps != 1 || a.Stats().Restarts != 3 {
		t.Errorf("stats = %+v", a.Stats())
	}

	// on-failure leaves a clean exit alone; main over ends the container.
	a = newAgent(t, 2, testConfig())
	handle(t, a, exitEvent(0, 2, 11, "worker", false, 15))
	if r := reason(t, a, exitEvent(10, 2, 4, "server", true, 0)); r != "main (pid 4) exited with status 0: not restarted under on-failure" {
		t.Errorf("clean exit: %q", r)
	}
	if r := reason(t, a, exitEvent(20, 2, 12, "worker", false, 15)); r != "worker2 (pid 12) killed by SIGTERM: not restarted: stopping" {
		t.Errorf("stopping: %q", r)
	}
	// An exit status above 255 or a signal above 127 is the wait status's.
	a = newAgent(t, 2, ContainerConfig{Main: "m", MainPolicy: fast(restart.No)})
	if r := reason(t, a, exitEvent(0, 2, 4, "m", false, 64)); r != "main (pid 4) killed by signal 64: not restarted (restart: no)" {
		t.Errorf("rt signal: %q", r)
	}
}

func TestStates(t *testing.T) {
	a := newAgent(t, 1, testConfig())
	st := a.Status()
	want := []string{"main running server", "worker running worker", "cron running sh", "worker2 running worker"}
	for i, p := range st.Containers[0].Processes {
		if got := p.Name + " " + p.State + " " + p.Comm; got != want[i] {
			t.Errorf("process %d: %q, want %q", i, got, want[i])
		}
	}
	handle(t, a, exitEvent(1000, 1, 9, "worker", false, 11))
	p := procStatus(t, a, 1, "worker")
	if p.State != "restarting" || p.RestartAt != ms(1100) || p.Exits != 1 || p.Restarts != 1 ||
		p.LastCause != "killed by SIGSEGV" || p.LastExit != ms(1000) || p.LastPID != 9 ||
		p.Policy != "always, backoff 100ms..1s, intensity 3/10s" {
		t.Errorf("after the crash: %+v", p)
	}
	a.Tick(time.Unix(0, ms(1099)), nil)
	if p := procStatus(t, a, 1, "worker"); p.State != "restarting" {
		t.Errorf("before the delay: %s", p.State)
	}
	a.Tick(time.Unix(0, ms(1100)), nil)
	if p := procStatus(t, a, 1, "worker"); p.State != "running" || p.RestartAt != 0 {
		t.Errorf("after the delay: %+v", p)
	}
	// Tracker.Started at exit + delay: a run of BackoffMax from there
	// resets the backoff.
	handle(t, a, exitEvent(2000, 1, 10, "worker", true, 1)) // ran 900ms: 200ms
	if p := procStatus(t, a, 1, "worker"); p.RestartAt != ms(2200) {
		t.Errorf("second restart at %d, want +200ms", (p.RestartAt-t0)/1e6)
	}
	if r := reason(t, a, exitEvent(3200, 1, 11, "worker", true, 1)); !strings.HasSuffix(r, "restart 3 in 100ms") { // ran 1s
		t.Errorf("after a run of 1s: %q", r)
	}
	// Given up after more than 3 restarts within 10s; main runs on.
	handle(t, a, exitEvent(3400, 1, 12, "worker", true, 1))
	if p := procStatus(t, a, 1, "worker"); p.State != "given-up" {
		t.Errorf("worker %s, want given-up", p.State)
	}
	if c := a.Status().Containers[0]; c.Finished || c.Processes[0].State != "running" {
		t.Errorf("container: %+v", c)
	}
	// Main's pending restart, then main done: a pending service is done.
	handle(t, a, exitEvent(4010, 1, 21, "server", true, 1))
	handle(t, a, exitEvent(4100, 1, 20, "worker", true, 1)) // worker2
	if p := procStatus(t, a, 1, "main"); p.State != "restarting" {
		t.Errorf("main %s", p.State)
	}
	handle(t, a, exitEvent(4150, 1, 22, "server", true, 0))
	c := a.Status().Containers[0]
	got := []string{}
	for _, p := range c.Processes {
		got = append(got, p.Name+"="+p.State)
	}
	if !c.Finished || strings.Join(got, " ") != "main=done worker=given-up cron=running worker2=done" {
		t.Errorf("finished: %v %v", c.Finished, got)
	}
	if a.pending != 0 {
		t.Errorf("pending = %d", a.pending)
	}
	// The status is JSON as documented.
	b, err := json.Marshal(a.Status())
	if err != nil || !strings.Contains(string(b), `"name":"worker","comm":"worker","policy":"always, backoff 100ms..1s, intensity 3/10s","exits":4,"restarts":3,"last_cause":"exited with status 1"`) {
		t.Errorf("json: %s, %v", b, err)
	}
}

func TestRemoveContainerPending(t *testing.T) {
	a := newAgent(t, 1, testConfig())
	if err := a.AddContainer(2, testConfig()); err != nil {
		t.Fatal(err)
	}
	handle(t, a, exitEvent(0, 1, 9, "worker", true, 1))
	handle(t, a, exitEvent(0, 2, 9, "worker", true, 1))
	a.RemoveContainer(1)
	if a.pending != 1 {
		t.Errorf("pending = %d, want 1", a.pending)
	}
	a.Tick(time.Unix(0, ms(100)), nil)
	if a.pending != 0 || procStatus(t, a, 2, "worker").State != "running" {
		t.Errorf("pending = %d, %+v", a.pending, procStatus(t, a, 2, "worker"))
	}
}

// TestHandleNoAlloc: Handle sees every lifecycle event (and the driver
// may give it others); those it does not keep cost no allocation, nor
// does a Tick with or without restarts due.
func TestHandleNoAlloc(t *testing.T) {
	a := newAgent(t, 1, testConfig())
	handle(t, a, exitEvent(0, 1, 9, "worker", true, 1))
	evs := []event.Event{
		{Kind: event.KindSyscall, Container: 1, Sysno: 61},
		{Kind: event.KindCPU, Container: 1},
		{Kind: event.KindLifecycle, Ops: 99, Container: 1},
		exitEvent(0, 7, 9, "worker", true, 1), // unknown container
		exitEvent(0, 1, 9, "bash", true, 1),   // an orphan
	}
	out := make([]agent.Decision, 0, 4)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		ev := &evs[i%len(evs)]
		i++
		out = a.Handle(ev, out[:0])
		out = a.Tick(time.Unix(0, ms(int64(i))), out)
	})
	if allocs != 0 || len(out) != 0 {
		t.Errorf("%v allocations per Handle and Tick, %d decisions", allocs, len(out))
	}
}

func BenchmarkHandleIgnored(b *testing.B) {
	a := New()
	_ = a.AddContainer(1, testConfig())
	ev := event.Event{Kind: event.KindSyscall, Container: 1}
	lev := exitEvent(0, 1, 5, "bash", true, 0)
	var out []agent.Decision
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&1 == 0 {
			out = a.Handle(&ev, out[:0])
		} else {
			out = a.Handle(&lev, out[:0])
		}
	}
}
