package memguard

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/quorum"
)

func TestConfig(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Config(), DefaultConfig(); got != want {
		t.Errorf("zero config filled to %+v, want %+v", got, want)
	}
	if a.Name() != "memory" || !contains(quorum.DefaultVoters(), a.Name()) {
		t.Errorf("name %q is not a default voter", a.Name())
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative tasks", Config{MaxTasks: -1}},
		{"too many tasks", Config{MaxTasks: MaxTasks + 1}},
		{"negative delay", Config{DelayBase: -1}},
		{"negative grace", Config{Grace: -1}},
		{"base above max", Config{DelayBase: time.Second}},
	} {
		if _, err := New(tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tc.name, err)
		}
	}
	if err := a.AddContainer(1, ContainerConfig{}); err != nil {
		t.Fatal(err)
	}
	cc, ok := a.ContainerConfig(1)
	if want := (ContainerConfig{Floor: DefaultFloor, Factor: DefaultFactor}); !ok || cc != want {
		t.Errorf("zero container config filled to %+v, want %+v", cc, want)
	}
	if cs, _ := a.Container(1); cs.Threshold != DefaultFloor {
		t.Errorf("threshold before learning %d, want the floor", cs.Threshold)
	}
	for _, tc := range []struct {
		name string
		cc   ContainerConfig
	}{
		{"mode", ContainerConfig{Mode: 3}},
		{"factor low", ContainerConfig{Factor: 0.5}},
		{"factor high", ContainerConfig{Factor: MaxFactor + 1}},
		{"factor NaN", ContainerConfig{Factor: math.NaN()}},
	} {
		if err := a.AddContainer(2, tc.cc); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tc.name, err)
		}
	}
	if err := a.AddContainer(1, ContainerConfig{}); !errors.Is(err, ErrContainer) {
		t.Errorf("duplicate: %v", err)
	}
	if err := a.SetMode(1, 4); !errors.Is(err, ErrConfig) {
		t.Errorf("SetMode(4) = %v", err)
	}
	if err := a.SetMode(9, ModeEnforce); !errors.Is(err, ErrContainer) {
		t.Errorf("SetMode(unknown) = %v", err)
	}
	if err := a.SetProfile(9, Profile{}); !errors.Is(err, ErrContainer) {
		t.Errorf("SetProfile(unknown) = %v", err)
	}
	if _, ok := a.Profile(9); ok {
		t.Error("profile of an unknown container")
	}
	b, _ := New(Config{})
	for i := range MaxContainers {
		if err := b.AddContainer(uint32(i), ContainerConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.AddContainer(MaxContainers, ContainerConfig{}); !errors.Is(err, ErrContainer) {
		t.Errorf("one container too many: %v", err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestBudgetKillLargest: a container over its budget in enforce mode gets
// a kill of its largest thread group, carried without a quorum; the kill
// is not repeated while the victim is sampled within the grace period,
// and is once the grace is over.
func TestBudgetKillLargest(t *testing.T) {
	a := newAgent(t, Config{}, ContainerConfig{Mode: ModeEnforce, Budget: 512 * mib})
	groups := []group{{1, 12 * mib}, {5, 20 * mib}, {7, 580 * mib}}
	if got := feed(a, sample(at(0), group{1, 12 * mib}, group{7, 300 * mib})); len(got) != 0 {
		t.Fatalf("under budget: %+v", got)
	}
	got := feed(a, sample(at(time.Second), groups...))
	want := agent.Decision{
		Agent: Name, Container: testContainer, PID: 7, Action: agent.ActKill, Score: 1, Limit: true,
		Reason:   "container 612 MiB over budget 512 MiB; killing PID 7 (580 MiB)",
		Evidence: []string{"usage=641728512", "budget=536870912", "groups=3", "pid=7", "rss=608174080"},
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("over budget:\n got %+v\nwant %+v", got, want)
	}
	// Carried without a second vote.
	q, _ := quorum.New(quorum.DefaultConfig())
	if o := q.Decide(time.Unix(0, at(time.Second)), got[0]); !o.Carried || o.Action != agent.ActKill {
		t.Errorf("quorum outcome %+v", o)
	}
	// The victim is still there a second later: wait.
	if got := feed(a, sample(at(2*time.Second), groups...)); len(got) != 0 {
		t.Fatalf("within the grace: %+v", got)
	}
	// Grace over (2s after the kill), still there: kill again.
	got = feed(a, sample(at(3*time.Second), groups...))
	if len(got) != 1 || got[0].PID != 7 || got[0].Action != agent.ActKill {
		t.Fatalf("after the grace: %+v", got)
	}
	// The victim gone but the container still over budget within the
	// grace: the next largest.
	got = feed(a, sample(at(3500*time.Millisecond), group{1, 12 * mib}, group{5, 520 * mib}))
	if len(got) != 1 || got[0].PID != 5 || got[0].Reason != "container 532 MiB over budget 512 MiB; killing PID 5 (520 MiB)" {
		t.Fatalf("victim gone: %+v", got)
	}
	// Back under budget.
	if got := feed(a, sample(at(4*time.Second), group{1, 12 * mib})); len(got) != 0 {
		t.Fatalf("under budget again: %+v", got)
	}
	cs, _ := a.Container(testContainer)
	if cs.Kills != 3 || cs.Over || cs.Usage != 12*mib || cs.Budget != 512*mib || cs.Groups != 1 || cs.Largest != 1 ||
		cs.UsageTime != at(4*time.Second) {
		t.Errorf("container stats %+v", cs)
	}
	if s := a.Stats(); s.Decisions != [4]uint64{agent.ActKill: 3} || s.Memory != 20 {
		t.Errorf("stats %+v", s)
	}
}

// TestBudgetTies: of two groups of the same size, the first sampled is
// the victim (deterministic); a container with no group sampled gets a
// record only.
func TestBudgetTies(t *testing.T) {
	a := newAgent(t, Config{}, ContainerConfig{Mode: ModeEnforce, Budget: 100 * mib})
	got := feed(a, sample(at(0), group{9, 60 * mib}, group{4, 60 * mib}))
	if len(got) != 1 || got[0].PID != 9 {
		t.Fatalf("tie: %+v", got)
	}
	b := newAgent(t, Config{}, ContainerConfig{Mode: ModeEnforce, Budget: 100 * mib})
	ev := sample(at(0), group{1, 200 * mib})
	got = feed(b, ev[1:]) // the container's total alone
	if len(got) != 1 || got[0].Action != agent.ActRecord || got[0].PID != 0 || !got[0].Limit ||
		got[0].Reason != "container 200 MiB over budget 100 MiB; no thread group sampled" || len(got[0].Evidence) != 3 {
		t.Fatalf("no group: %+v", got)
	}
}

// TestBudgetRecord: budget_action record, observe and learn modes only
// record, at the crossing and then at most once per grace while over.
func TestBudgetRecord(t *testing.T) {
	groups := []group{{1, 12 * mib}, {7, 580 * mib}}
	for _, tc := range []struct {
		cc     ContainerConfig
		reason string
	}{
		{ContainerConfig{Mode: ModeEnforce, Budget: 512 * mib, RecordBudget: true},
			"recorded (policy): container 592 MiB over budget 512 MiB; largest PID 7 (580 MiB)"},
		{ContainerConfig{Mode: ModeObserve, Budget: 512 * mib},
			"observe: container 592 MiB over budget 512 MiB; would kill PID 7 (580 MiB)"},
		{ContainerConfig{Mode: ModeLearn, Budget: 512 * mib},
			"learn: container 592 MiB over budget 512 MiB; would kill PID 7 (580 MiB)"},
		{ContainerConfig{Mode: ModeObserve, Budget: 512 * mib, RecordBudget: true},
			"observe: container 592 MiB over budget 512 MiB; largest PID 7 (580 MiB)"},
	} {
		a := newAgent(t, Config{}, tc.cc)
		var got []agent.Decision
		for s := range 5 { // samples at 0, 1, 2, 3, 4 s
			got = append(got, feed(a, sample(at(time.Duration(s)*time.Second), groups...))...)
		}
		// Under budget at 4.5s, over again at 5s: recorded at once.
		got = append(got, feed(a, sample(at(4500*time.Millisecond), group{1, 12 * mib}))...)
		got = append(got, feed(a, sample(at(5*time.Second), groups...))...)
		if len(got) != 4 {
			t.Fatalf("%v: %d decisions, want 4 (0s, 2s, 4s, 5s): %+v", tc.cc.Mode, len(got), got)
		}
		for _, d := range got {
			if d.Action != agent.ActRecord || !d.Limit || d.PID != 0 || d.Reason != tc.reason {
				t.Errorf("%v: decision %+v, reason want %q", tc.cc.Mode, d, tc.reason)
			}
		}
		if cs, _ := a.Container(testContainer); cs.Kills != 0 || !cs.Over {
			t.Errorf("%v: %+v", tc.cc.Mode, cs)
		}
	}
	// No budget: nothing, however large.
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	if got := feed(a, sample(at(0), group{1, 1 << 40})); len(got) != 0 {
		t.Errorf("no budget: %+v", got)
	}
}

// TestAnonExec: executing anonymous memory is a kill vote in enforce
// mode, a record in observe mode; executing a file mapping is normal and
// executing nothing (no mapping) a crash, neither decided on.
func TestAnonExec(t *testing.T) {
	const addr, ip = 0x7f12_3456_7000, 0x7f12_3456_7010
	exec := fault(at(0), 40, 41, event.AccessExec, event.MemAnon, addr, ip)
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	got := feed(a, []event.Event{exec})
	want := agent.Decision{
		Agent: Name, Container: testContainer, PID: 40, TID: 41, Action: agent.ActKill, Score: 1,
		Reason: "executed anonymous memory at 0x7f1234567000 (ip 0x7f1234567010): injected code?",
		Evidence: []string{"addr=0x7f1234567000", "ip=0x7f1234567010", "class=anon", "access=--x",
			"signal=SIGSEGV", "tid=41"},
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("enforce:\n got %+v\nwant %+v", got, want)
	}
	// Harmful: the quorum needs a second detector.
	q, _ := quorum.New(quorum.DefaultConfig())
	now := time.Unix(0, at(0))
	if o := q.Decide(now, got[0]); o.Carried || !o.Pending || o.Action != agent.ActRecord {
		t.Errorf("alone: %+v", o)
	}
	if o := q.Decide(now, agent.Decision{Agent: "selfmodel", Container: testContainer, PID: 40, Action: agent.ActKill}); !o.Carried || o.Action != agent.ActKill {
		t.Errorf("with the sense of self: %+v", o)
	}
	// Folded: the same task again within the second.
	again := exec
	again.Time += int64(100 * time.Millisecond)
	if got := feed(a, []event.Event{again}); len(got) != 0 || a.Stats().Folded != 1 {
		t.Errorf("folded: %+v, stats %+v", got, a.Stats())
	}
	again.Time += int64(time.Second)
	if got := feed(a, []event.Event{again}); len(got) != 1 {
		t.Errorf("a second later: %+v", got)
	}
	// Not decided on: a file mapping, no mapping, read and write faults
	// in anonymous memory.
	normal := []event.Event{
		fault(at(3*time.Second), 40, 42, event.AccessExec, event.MemFile, 0x40_1000, 0x40_1000),
		fault(at(3*time.Second), 40, 42, event.AccessExec|event.AccessRead, event.MemOther, 0x7fff_f000, 0x7fff_f000),
		fault(at(3*time.Second), 40, 42, event.AccessExec, event.MemUnmapped, 0, 0),
		fault(at(3*time.Second), 40, 42, event.AccessWrite, event.MemAnon, addr, ip),
		fault(at(3*time.Second), 40, 42, event.AccessRead, event.MemAnon, addr, ip),
	}
	if got := feed(a, normal); len(got) != 0 {
		t.Errorf("normal faults: %+v", got)
	}
	cs, _ := a.Container(testContainer)
	if cs.Faults != 8 || cs.ExecAnon != 3 || cs.ExecUnmapped != 1 {
		t.Errorf("container stats %+v", cs)
	}

	// Observe: a record saying what enforce would do.
	o := newAgent(t, Config{}, withMode(ModeObserve))
	got = feed(o, []event.Event{exec})
	if len(got) != 1 || got[0].Action != agent.ActRecord || got[0].Score != 1 ||
		got[0].Reason != "observe: would kill: "+want.Reason || !reflect.DeepEqual(got[0].Evidence, want.Evidence) {
		t.Errorf("observe: %+v", got)
	}
	// The policy says record.
	r := newAgent(t, Config{}, ContainerConfig{Mode: ModeEnforce, RecordAnonExec: true})
	got = feed(r, []event.Event{exec})
	if len(got) != 1 || got[0].Action != agent.ActRecord || got[0].Reason != "recorded (policy): "+want.Reason {
		t.Errorf("record: %+v", got)
	}
	// SIGBUS and unknown access text.
	bus := exec
	bus.Sysno = sigBUS
	bus.Args[1] = event.AccessRead | event.AccessWrite | event.AccessExec
	got = feed(newAgent(t, Config{}, withMode(ModeEnforce)), []event.Event{bus})
	if len(got) != 1 || got[0].Evidence[3] != "access=rwx" || got[0].Evidence[4] != "signal=SIGBUS" {
		t.Errorf("sigbus: %+v", got)
	}
}

// TestLearntJIT: a workload that executes anonymous memory and maps W+X
// while learning (a JIT) is only recorded when enforced.
func TestLearntJIT(t *testing.T) {
	a := newAgent(t, Config{}, withMode(ModeLearn))
	exec := fault(at(0), 40, 41, event.AccessExec, event.MemAnon, 0x1000, 0x1000)
	req := wx(at(0), 40, 41, sysMmap, 0, 4096, 7, 0x22)
	got := feed(a, []event.Event{exec, req})
	if len(got) != 2 || got[0].Action != agent.ActRecord || got[1].Action != agent.ActRecord || got[0].Score != 0 ||
		!strings.HasPrefix(got[0].Reason, "learn: executed anonymous memory") ||
		!strings.HasSuffix(got[0].Reason, "; learnt: the workload executes anonymous memory (a JIT)") ||
		!strings.HasSuffix(got[1].Reason, "; learnt: the workload maps writable and executable memory (a JIT)") {
		t.Fatalf("learn: %+v", got)
	}
	p, _ := a.Profile(testContainer)
	if !p.ExecAnon || !p.WX {
		t.Fatalf("profile %+v", p)
	}
	a.SetMode(testContainer, ModeEnforce)
	exec.Time, req.Time = at(time.Hour), at(time.Hour)
	got = feed(a, []event.Event{exec, req})
	if len(got) != 2 || got[0].Action != agent.ActRecord || got[1].Action != agent.ActRecord ||
		!strings.HasPrefix(got[0].Reason, "as learnt, the workload executes anonymous memory (a JIT): executed") {
		t.Fatalf("enforce after learning: %+v", got)
	}
	// A profile from long memory does the same; a fresh one does not.
	b := newAgent(t, Config{}, withMode(ModeEnforce))
	if got := feed(b, []event.Event{exec}); len(got) != 1 || got[0].Action != agent.ActKill {
		t.Fatalf("unlearnt: %+v", got)
	}
	b.SetProfile(testContainer, Profile{ExecAnon: true})
	exec.Time += int64(time.Second)
	if got := feed(b, []event.Event{exec}); len(got) != 1 || got[0].Action != agent.ActRecord {
		t.Fatalf("profile set: %+v", got)
	}
}

// TestWX: a request for a writable and executable mapping is recorded in
// every mode and a deny vote in enforce mode.
func TestWX(t *testing.T) {
	const prot = 0x7 // PROT_READ|PROT_WRITE|PROT_EXEC
	req := wx(at(0), 50, 51, sysMmap, 0x7f00_0000_0000, 65536, prot, 0x22)
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	got := feed(a, []event.Event{req})
	want := agent.Decision{
		Agent: Name, Container: testContainer, PID: 50, TID: 51, Action: agent.ActDeny, Score: 1,
		Reason: "mmap asked for writable and executable memory (anonymous): PROT_READ|PROT_WRITE|PROT_EXEC, 65536 bytes at 0x7f0000000000",
		Evidence: []string{"syscall=mmap", "addr=0x7f0000000000", "len=65536", "prot=PROT_READ|PROT_WRITE|PROT_EXEC",
			"flags=MAP_PRIVATE|MAP_ANONYMOUS", "anonymous=true", "tid=51"},
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("mmap:\n got %+v\nwant %+v", got, want)
	}
	// mprotect: no flags; a file mapping; a second request in the same
	// second is folded.
	mp := wx(at(time.Second), 50, 52, sysMprotect, 0x1000, 4096, prot, 0)
	file := wx(at(time.Second), 50, 53, sysMmap, 0, 4096, prot|0x8, 0x01|0x10)
	got = feed(a, []event.Event{mp, mp, file})
	if len(got) != 2 {
		t.Fatalf("%d decisions: %+v", len(got), got)
	}
	if got[0].Reason != "mprotect asked for writable and executable memory: PROT_READ|PROT_WRITE|PROT_EXEC, 4096 bytes at 0x1000" ||
		!reflect.DeepEqual(got[0].Evidence, []string{"syscall=mprotect", "addr=0x1000", "len=4096", "prot=PROT_READ|PROT_WRITE|PROT_EXEC", "tid=52"}) {
		t.Errorf("mprotect: %+v", got[0])
	}
	if !strings.Contains(got[1].Reason, "memory (file): PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM") ||
		got[1].Evidence[4] != "flags=MAP_SHARED|MAP_FIXED" || got[1].Evidence[5] != "anonymous=false" {
		t.Errorf("file: %+v", got[1])
	}
	if cs, _ := a.Container(testContainer); cs.WX != 4 {
		t.Errorf("W+X count %d, want 4 (folded ones count)", cs.WX)
	}
	for _, tc := range []struct {
		cc     ContainerConfig
		prefix string
	}{
		{withMode(ModeObserve), "observe: would deny: mmap asked"},
		{withMode(ModeLearn), "learn: mmap asked"},
		{ContainerConfig{Mode: ModeEnforce, RecordWX: true}, "recorded (policy): mmap asked"},
	} {
		got := feed(newAgent(t, Config{}, tc.cc), []event.Event{req})
		if len(got) != 1 || got[0].Action != agent.ActRecord || !strings.HasPrefix(got[0].Reason, tc.prefix) {
			t.Errorf("%v: %+v", tc.cc, got)
		}
	}
}

// TestFaultRate: untrained, the floor applies; learn mode learns a
// container's peak; enforce delays a task over max(peak*factor, floor),
// once a second, the delay growing with the rate.
func TestFaultRate(t *testing.T) {
	// A busy allocator: 80,000 faults a second, over the default floor.
	busy := steady(0, 5, 60, 61, 80000, 1000)
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	got := feed(a, busy)
	if len(got) != 5 {
		t.Fatalf("untrained: %d decisions, want one a second", len(got))
	}
	want := agent.Decision{
		Agent: Name, Container: testContainer, PID: 60, TID: 61, Action: agent.ActDelay,
		Delay:    time.Duration(float64(DefaultDelayBase) * 51000 / 50000),
		Score:    51000.0 / 100000,
		Reason:   "page faults: 51000 in 1s, threshold 50000 (peak 0 x 4, floor 50000)",
		Evidence: []string{"faults=51000", "prev=0", "tid=61"},
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("first:\n got %+v\nwant %+v", got[0], want)
	}
	// The next seconds: the delay follows the previous second's rate.
	if got[1].Delay != time.Duration(float64(DefaultDelayBase)*80000/50000) || got[1].Evidence[1] != "prev=80000" {
		t.Errorf("second: %+v", got[1])
	}

	// Learn, then enforce: the busy task is normal, four times it is not.
	l := newAgent(t, Config{}, withMode(ModeLearn))
	if got := feed(l, busy); len(got) != 0 {
		t.Fatalf("learn decided: %+v", got)
	}
	cs, _ := l.Container(testContainer)
	if cs.Profile.FaultPeak != 80000 || cs.Threshold != 320000 || cs.PeakRate != 80000 || cs.Faults != 400000 {
		t.Fatalf("learnt %+v", cs)
	}
	l.SetMode(testContainer, ModeEnforce)
	if got := feed(l, steady(time.Hour, 5, 60, 62, 300000, 1000)); len(got) != 0 {
		t.Fatalf("within the learnt peak x 4: %+v", got)
	}
	got = feed(l, steady(2*time.Hour, 2, 70, 71, 400000, 1000))
	if len(got) != 2 || got[0].Action != agent.ActDelay ||
		got[0].Reason != "page faults: 321000 in 1s, threshold 320000 (peak 80000 x 4, floor 50000)" {
		t.Fatalf("over the learnt threshold: %+v", got)
	}
	// The delay is bounded.
	huge := fault(at(3*time.Hour), 70, 71, event.AccessWrite, 0, 0, 0)
	huge.Repeats = math.MaxUint16
	for range 600 { // 39M faults: over 100 x the threshold
		feed(l, []event.Event{huge})
	}
	huge.Time += int64(time.Second)
	if got := feed(l, []event.Event{huge, huge, huge, huge, huge, huge}); len(got) != 1 || got[0].Delay != DefaultDelayMax || got[0].Score != 1 {
		t.Fatalf("bounded delay: %+v", got)
	}

	// Observe: records what enforce would do.
	o := newAgent(t, Config{}, withMode(ModeObserve))
	got = feed(o, touches(0, 60, 61, 60000, 1000))
	if len(got) != 1 || got[0].Action != agent.ActRecord || got[0].Delay != 0 ||
		got[0].Reason != "observe: would delay 102µs: page faults: 51000 in 1s, threshold 50000 (peak 0 x 4, floor 50000)" {
		t.Fatalf("observe: %+v", got)
	}
	// A configured floor and factor.
	c := newAgent(t, Config{}, ContainerConfig{Mode: ModeEnforce, Floor: 1000, Factor: 2})
	c.SetProfile(testContainer, Profile{FaultPeak: 100})
	if cs, _ := c.Container(testContainer); cs.Threshold != 1000 {
		t.Errorf("threshold %d, want the floor", cs.Threshold)
	}
	c.SetProfile(testContainer, Profile{FaultPeak: 2000})
	if got := feed(c, touches(0, 1, 1, 4001, 1)); len(got) != 1 || !strings.HasPrefix(got[0].Reason, "page faults: 4001 in 1s, threshold 4000 (peak 2000 x 2, floor 1000)") {
		t.Errorf("configured: %+v", got)
	}
}

// TestTimeOrder: a fault timed before its task's current second counts in
// that second; a gap of seconds resets the previous count.
func TestTimeOrder(t *testing.T) {
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	feed(a, []event.Event{
		fault(at(1500*time.Millisecond), 1, 2, event.AccessRead, 0, 0, 0),
		fault(at(900*time.Millisecond), 1, 2, event.AccessRead, 0, 0, 0),
	})
	tk, ok := a.Task(testContainer, 2)
	if !ok || tk.Second != t0/int64(time.Second)+1 || tk.Faults != 2 || tk.Prev != 0 {
		t.Errorf("task %+v", tk)
	}
	feed(a, []event.Event{fault(at(2500*time.Millisecond), 1, 2, event.AccessRead, 0, 0, 0)})
	if tk, _ = a.Task(testContainer, 2); tk.Faults != 1 || tk.Prev != 2 {
		t.Errorf("next second %+v", tk)
	}
	feed(a, []event.Event{fault(at(9*time.Second), 1, 2, event.AccessRead, 0, 0, 0)})
	if tk, _ = a.Task(testContainer, 2); tk.Faults != 1 || tk.Prev != 0 {
		t.Errorf("after a gap %+v", tk)
	}
}

// TestIgnored: events of containers not added are counted and ignored;
// other kinds are ignored.
func TestIgnored(t *testing.T) {
	a := newAgent(t, Config{}, withMode(ModeEnforce))
	ev := fault(at(0), 1, 1, event.AccessExec, event.MemAnon, 0, 0)
	ev.Container = 99
	mem := wx(at(0), 1, 1, sysMmap, 0, 1, 7, 0x22)
	mem.Container = 99
	pkt := event.Event{Kind: event.KindPacket, Container: testContainer}
	call := event.Event{Kind: event.KindSyscall, Container: testContainer, Sysno: sysMmap}
	other := event.Event{Kind: event.KindMemory, Container: testContainer, Args: [6]uint64{99}}
	if got := feed(a, []event.Event{ev, mem, pkt, call, other}); len(got) != 0 {
		t.Fatalf("decided: %+v", got)
	}
	if s := a.Stats(); s.Unknown != 2 || s.Faults != 0 || s.Memory != 1 || s.Tasks != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestBoundedTasks: the task table never holds more than MaxTasks tasks;
// exit, exit_group, Forget, RemoveContainer and the idle sweep empty it.
func TestBoundedTasks(t *testing.T) {
	a := newAgent(t, Config{MaxTasks: 100, IdleTimeout: time.Minute}, withMode(ModeEnforce))
	var evs []event.Event
	for tid := int32(1); tid <= 1000; tid++ {
		evs = append(evs, fault(at(time.Duration(tid)*time.Millisecond), 1, tid, event.AccessRead, 0, 0, 0))
	}
	feed(a, evs)
	if s := a.Stats(); s.Tasks != 100 || s.Evicted != 900 {
		t.Fatalf("stats %+v", s)
	}
	exit := event.Event{Kind: event.KindSyscall, Container: testContainer, PID: 1, TID: 1000, Sysno: sysExit}
	group := exit
	group.TID, group.Sysno = 999, sysExitGroup
	feed(a, []event.Event{exit, group})
	if !a.Forget(testContainer, 998) || a.Forget(testContainer, 998) || a.Stats().Tasks != 97 || a.Stats().Exited != 3 {
		t.Fatalf("after exits: %+v", a.Stats())
	}
	// Freed slots are reused before anything is evicted.
	feed(a, []event.Event{fault(at(2*time.Second), 1, 5000, event.AccessRead, 0, 0, 0)})
	if s := a.Stats(); s.Tasks != 98 || s.Evicted != 900 {
		t.Fatalf("reuse: %+v", s)
	}
	// Idle for a minute (plus the second's rounding): swept.
	a.Tick(time.Unix(0, at(30*time.Second)), nil)
	if a.Stats().Tasks != 98 {
		t.Fatalf("swept too early: %+v", a.Stats())
	}
	a.Tick(time.Unix(0, at(2*time.Minute)), nil)
	if s := a.Stats(); s.Tasks != 0 || s.Expired != 98 {
		t.Fatalf("after the sweep: %+v", s)
	}
	// RemoveContainer drops the container and its tasks.
	feed(a, []event.Event{fault(at(3*time.Minute), 1, 1, event.AccessRead, 0, 0, 0)})
	if !a.RemoveContainer(testContainer) || a.RemoveContainer(testContainer) || a.Stats().Tasks != 0 || a.Stats().Containers != 0 {
		t.Fatalf("remove: %+v", a.Stats())
	}
	// Never sweeps with a negative timeout.
	n := newAgent(t, Config{IdleTimeout: -1}, withMode(ModeEnforce))
	feed(n, evs[:3])
	n.Tick(time.Unix(0, at(100*time.Hour)), nil)
	if n.Stats().Tasks != 3 {
		t.Errorf("negative timeout swept: %+v", n.Stats())
	}
}

// TestSnapshotRestore: a restored agent decides as the original did, and
// the snapshot does not change with the agent.
func TestSnapshotRestore(t *testing.T) {
	a := newAgent(t, Config{}, ContainerConfig{Mode: ModeLearn, Budget: 100 * mib})
	a.AddContainer(7, withMode(ModeEnforce))
	feed(a, steady(0, 2, 60, 61, 80000, 1000))
	feed(a, sample(at(2*time.Second), group{1, 200 * mib}))
	a.SetMode(testContainer, ModeEnforce)
	snap := a.Snapshot()
	before := a.Containers()

	rest := append(steady(time.Hour, 1, 60, 61, 400000, 1000), sample(at(time.Hour), group{1, 200 * mib}, group{2, 10 * mib})...)
	rest = append(rest, fault(at(time.Hour), 2, 3, event.AccessExec, event.MemAnon, 0, 0))
	first := feed(a, rest)
	if len(first) != 3 {
		t.Fatalf("%d decisions after the snapshot: %+v", len(first), first)
	}
	for range 2 {
		b, _ := New(Config{})
		if err := b.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b.Containers(), before) {
			t.Fatalf("restored containers %+v\nwant %+v", b.Containers(), before)
		}
		if again := feed(b, rest); !reflect.DeepEqual(again, first) {
			t.Fatalf("restored agent decided\n%+v\nwant\n%+v", again, first)
		}
		if b.Stats() != a.Stats() {
			t.Errorf("stats %+v, want %+v", b.Stats(), a.Stats())
		}
	}
	if err := a.Restore("no"); !errors.Is(err, ErrSnapshot) {
		t.Errorf("Restore(string) = %v", err)
	}
	if err := a.Restore((*snapshot)(nil)); !errors.Is(err, ErrSnapshot) {
		t.Errorf("Restore(nil) = %v", err)
	}
}

func TestConfigFrom(t *testing.T) {
	for _, tc := range []struct {
		m    policy.Memory
		pm   policy.Mode
		want ContainerConfig
		on   bool
	}{
		{policy.Memory{}, policy.ModeEnforce, ContainerConfig{Mode: ModeEnforce, Floor: DefaultFloor, Factor: DefaultFactor}, true},
		{policy.Memory{}, policy.ModeObserve, ContainerConfig{Mode: ModeObserve, Floor: DefaultFloor, Factor: DefaultFactor}, true},
		{policy.Memory{}, policy.ModeLearn, ContainerConfig{Mode: ModeLearn, Floor: DefaultFloor, Factor: DefaultFactor}, true},
		{policy.Memory{Mode: policy.AgentEnforce}, policy.ModeLearn, ContainerConfig{Mode: ModeEnforce, Floor: DefaultFloor, Factor: DefaultFactor}, true},
		{policy.Memory{Mode: policy.AgentOff}, policy.ModeEnforce, ContainerConfig{}, false},
		{policy.Memory{
			Budget: 512 * mib, BudgetAction: policy.MemoryRecord, AnonExec: policy.MemoryRecord, WX: policy.MemoryRecord,
			FaultRate: policy.MemoryFaultRate{Floor: 7, Factor: 2},
		}, policy.ModeEnforce, ContainerConfig{Mode: ModeEnforce, Budget: 512 * mib, RecordBudget: true, RecordAnonExec: true, RecordWX: true, Floor: 7, Factor: 2}, true},
		{policy.Memory{BudgetAction: policy.MemoryKill, AnonExec: policy.MemoryKill, WX: policy.MemoryDeny}, policy.ModeEnforce,
			ContainerConfig{Mode: ModeEnforce, Floor: DefaultFloor, Factor: DefaultFactor}, true},
	} {
		got, on := ConfigFrom(&tc.m, tc.pm)
		if got != tc.want || on != tc.on {
			t.Errorf("ConfigFrom(%+v, %v) = %+v, %v; want %+v, %v", tc.m, tc.pm, got, on, tc.want, tc.on)
		}
	}
	// From a parsed policy to a working agent.
	p, err := policy.Parse("x.yaml", []byte("version: 1\ndefault: allow\nmemory: {budget: 512Mi, wx: record}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := ConfigFrom(&p.Memory, p.Mode)
	a := newAgent(t, Config{}, cc)
	if got := feed(a, sample(at(0), group{7, 600 * mib})); len(got) != 1 || got[0].Action != agent.ActKill {
		t.Errorf("budget from the policy: %+v", got)
	}
}

func TestText(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 B", 900: "900 B", 1024: "1 KiB", 1536: "1.5 KiB", 612 * mib: "612 MiB", 1536 * mib: "1.5 GiB",
		100 * mib: "100 MiB", 99*mib + mib/2: "99.5 MiB", 1 << 40: "1 TiB", math.MaxUint64: "16 EiB",
	} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
	for prot, want := range map[uint64]string{
		0: "PROT_NONE", 1: "PROT_READ", 6: "PROT_WRITE|PROT_EXEC", 0x01000007: "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_GROWSDOWN",
		0x400004: "PROT_EXEC|0x400000",
	} {
		if got := protText(prot); got != want {
			t.Errorf("protText(%#x) = %q, want %q", prot, got, want)
		}
	}
	for flags, want := range map[uint64]string{
		0x22: "MAP_PRIVATE|MAP_ANONYMOUS", 0x1: "MAP_SHARED", 0x3: "MAP_SHARED_VALIDATE",
		0x20022: "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK", 0x100032: "MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE",
		0x0: "0", 0x80000000: "0|0x80000000",
	} {
		if got := mmapFlagsText(flags); got != want {
			t.Errorf("mmapFlagsText(%#x) = %q, want %q", flags, got, want)
		}
	}
	if className(9) != "class9" || className(event.MemFile) != "file" || signalName(5) != "signal 5" ||
		sysName(sysPkeyMprotect) != "pkey_mprotect" || sysName(1000) != "syscall 1000" || accessText(0) != "---" {
		t.Error("names")
	}
}

// TestNoAllocs: a fault of a known task that decides nothing, and a usage
// sample under budget, allocate nothing.
func TestNoAllocs(t *testing.T) {
	for _, m := range []Mode{ModeLearn, ModeObserve, ModeEnforce} {
		a := newAgent(t, Config{}, ContainerConfig{Mode: m, Budget: 1 << 30})
		ev := fault(at(0), 1, 1, event.AccessWrite, event.MemUnknown, 0x1000, 0x2000)
		evs := sample(at(0), group{1, 10 * mib})
		a.Handle(&ev, nil)
		out := make([]agent.Decision, 0, 4)
		if n := testing.AllocsPerRun(1000, func() {
			out = a.Handle(&ev, out[:0])
			for i := range evs {
				out = a.Handle(&evs[i], out)
			}
		}); n != 0 {
			t.Errorf("%v: %.1f allocations per run", m, n)
		}
	}
}

func BenchmarkFault(b *testing.B) {
	a := newAgent(b, Config{}, withMode(ModeEnforce))
	ev := fault(at(0), 1, 1, event.AccessWrite, event.MemUnknown, 0x1000, 0x2000)
	out := make([]agent.Decision, 0, 4)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Time = at(time.Duration(i) * time.Millisecond) // about 1000 a second: under the floor
		out = a.Handle(&ev, out[:0])
	}
}
