package netguard

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
)

func TestConfig(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(1, Config{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Config(1); !reflect.DeepEqual(got, DefaultConfig()) {
		t.Errorf("zero config filled to %+v, want %+v", got, DefaultConfig())
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"mode", Config{Mode: 3}},
		{"ports low", Config{ScanPorts: 1}},
		{"hosts high", Config{ScanHosts: MaxScanThreshold + 1}},
		{"window", Config{ScanWindow: -time.Second}},
		{"window high", Config{ScanWindow: MaxScanWindow + 1}},
		{"factor low", Config{BurstFactor: 0.5}},
		{"factor NaN", Config{BurstFactor: math.NaN()}},
		{"limit hold", Config{LimitHold: MaxLimitHold + 1}},
		{"block hold", Config{BlockHold: -1}},
	} {
		if _, err := New(tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New %s: err = %v, want ErrConfig", tc.name, err)
		}
		if err := a.AddContainer(2, tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("AddContainer %s: err = %v, want ErrConfig", tc.name, err)
		}
	}
	if err := a.SetMode(1, 4); !errors.Is(err, ErrConfig) {
		t.Errorf("SetMode(4) = %v", err)
	}
	if err := a.SetMode(9, ModeEnforce); !errors.Is(err, ErrConfig) {
		t.Errorf("SetMode of an unknown container = %v", err)
	}
	for slot := uint32(2); slot <= MaxContainers; slot++ {
		if err := a.AddContainer(slot, Config{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddContainer(MaxContainers+1, Config{}); !errors.Is(err, ErrFull) {
		t.Errorf("container %d: err = %v, want ErrFull", MaxContainers+1, err)
	}
	// Events of one container too many are dropped and counted.
	ev := packet(MaxContainers+7, ok(0, ap("10.0.0.1:80"), 1)[0])
	a.Handle(&ev, nil)
	if a.Counters().Dropped != 1 || len(a.Containers()) != MaxContainers {
		t.Errorf("counters %+v, %d containers", a.Counters(), len(a.Containers()))
	}
	if !a.RemoveContainer(1) || a.RemoveContainer(1) {
		t.Error("RemoveContainer")
	}
}

// got is a decision as the tests compare it.
type got struct {
	Agent  string
	Action agent.Action
	Remote string
	Limit  bool
}

func summary(ds []agent.Decision) []got {
	out := []got{}
	for _, d := range ds {
		out = append(out, got{d.Agent, d.Action, FormatRemote(d.Remote), d.Limit})
	}
	return out
}

func TestDetectors(t *testing.T) {
	egressCfg := func(m Mode) Config {
		c := enforce()
		c.Mode = m
		p, err := policy.Parse("p.yaml", []byte("version: 1\ndefault: allow\nnetwork:\n  egress:\n    rules:\n"+
			"      - {name: no ssh, action: deny, protocol: tcp, to: ['*:22']}\n"))
		if err != nil {
			t.Fatal(err)
		}
		c.Egress = p.Network.Egress
		return c
	}
	limitCfg := func(m Mode) Config {
		c := enforce()
		c.Mode, c.Limit = m, 50
		return c
	}
	refused := func(at time.Duration, remote string) flow {
		return flow{at: at, proto: 6, remote: ap(remote), local: 33000, op: event.FlowRefused, tcp: event.TCPSynOut}
	}
	scanV := got{AgentScan, agent.ActDeny, "10.0.0.5:*", false}
	for _, tc := range []struct {
		name  string
		cfg   Config
		trace []flow
		want  []got
	}{
		// 25 closed ports in half a second: the 20th decides, the rest
		// of the second is folded.
		{"vertical", enforce(), verticalScan(0, "10.0.0.5", 20, 25, 50), []got{scanV}},
		// A long scan is voted on once a second while it lasts.
		{"vertical long", enforce(), verticalScan(0, "10.0.0.5", 1, 200, 50), []got{scanV, scanV, scanV, scanV}},
		{"vertical v6", enforce(), verticalScan(0, "2001:db8::5", 1, 20, 50), []got{{AgentScan, agent.ActDeny, "[2001:db8::5]:*", false}}},
		{"vertical below", enforce(), verticalScan(0, "10.0.0.5", 1, 19, 50), []got{}},
		// 2 ports a second: never 20 within 5s.
		{"vertical slow", enforce(), verticalScan(0, "10.0.0.5", 1, 40, 2), []got{}},
		{"vertical learn", DefaultConfig(), verticalScan(0, "10.0.0.5", 1, 40, 50), []got{}},
		{"vertical observe", Config{Mode: ModeObserve}, verticalScan(0, "10.0.0.5", 20, 25, 50),
			[]got{{AgentScan, agent.ActRecord, "10.0.0.5:*", false}}},
		// Open ports answer: a client of 25 services is no scan.
		{"open ports", enforce(), func() []flow {
			var f []flow
			for i := range 25 {
				f = append(f, ok(at(i, 50), ipv4(5, uint16(8000+i)), uint16(40000+i))...)
			}
			return f
		}(), []got{}},
		// Unanswered SYNs end on idle expiry, 2s later.
		{"horizontal", enforce(), horizontalScan(0, 22, 30, 20), []got{{AgentScan, agent.ActDeny, "tcp *:22", false}}},
		{"horizontal below", enforce(), horizontalScan(0, 22, 19, 20), []got{}},
		{"horizontal udp", enforce(), func() []flow {
			var f []flow
			for i := range 20 {
				f = append(f, flow{at: at(i, 40), proto: 17, remote: ipv4(i+1, 161), local: 5000, op: event.FlowEnd, pktOut: 1, bytesOut: 80})
			}
			return f
		}(), []got{{AgentScan, agent.ActDeny, "udp *:161", false}}},
		// UDP flows that get answers are not probes.
		{"udp answered", enforce(), func() []flow {
			var f []flow
			for i := range 40 {
				f = append(f, flow{at: at(i, 40), proto: 17, remote: ipv4(i+1, 53), local: 5000, op: event.FlowEnd, pktOut: 1, bytesOut: 80, pktIn: 1, bytesIn: 200})
			}
			return f
		}(), []got{}},
		// ICMP sweeps are not counted (see the package doc).
		{"ping sweep", enforce(), func() []flow {
			var f []flow
			for i := range 40 {
				f = append(f, flow{at: at(i, 40), proto: 1, remote: ipv4(i+1, 0), op: event.FlowEnd, pktOut: 1, bytesOut: 64})
			}
			return f
		}(), []got{}},
		// Loopback never counts: a local service without pooling.
		{"loopback", enforce(), func() []flow {
			var f []flow
			for i := range 3000 {
				f = append(f, closed(at(i, 1000), ap(fmt.Sprintf("127.0.0.1:%d", 1+i%100)), uint16(20000+i))...)
			}
			return f
		}(), []got{}},

		{"egress", egressCfg(ModeEnforce), []flow{refused(0, "1.2.3.4:22")}, []got{{AgentEgress, agent.ActDeny, "tcp 1.2.3.4:22", false}}},
		{"egress observe", egressCfg(ModeObserve), []flow{refused(0, "1.2.3.4:22")}, []got{{AgentEgress, agent.ActRecord, "tcp 1.2.3.4:22", false}}},
		{"egress learn", egressCfg(ModeLearn), []flow{refused(0, "1.2.3.4:22")}, []got{}},
		// The same refusal within a second is folded; a second later it
		// is voted on again.
		{"egress folded", egressCfg(ModeEnforce), []flow{
			refused(0, "1.2.3.4:22"), refused(100*time.Millisecond, "1.2.3.4:22"), refused(900*time.Millisecond, "1.2.3.4:22"),
			refused(500*time.Millisecond, "1.2.3.5:22"),
			refused(1100*time.Millisecond, "1.2.3.4:22"),
		}, []got{
			{AgentEgress, agent.ActDeny, "tcp 1.2.3.4:22", false},
			{AgentEgress, agent.ActDeny, "tcp 1.2.3.5:22", false},
			{AgentEgress, agent.ActDeny, "tcp 1.2.3.4:22", false},
		}},

		// 60 new flows a second against a limit of 50, for two seconds.
		{"limit", limitCfg(ModeEnforce), burst(0, 2, 60), []got{{AgentLimit, agent.ActDeny, "*", true}, {AgentLimit, agent.ActDeny, "*", true}}},
		{"limit under", limitCfg(ModeEnforce), burst(0, 2, 50), []got{}},
		{"limit observe", limitCfg(ModeObserve), burst(0, 1, 60), []got{{AgentLimit, agent.ActRecord, "*", true}}},
		{"limit learn", limitCfg(ModeLearn), burst(0, 1, 60), []got{}},
		// Before anything is learnt, the floor (100) is the threshold.
		{"burst floor", enforce(), burst(0, 3, 150), []got{{AgentBurst, agent.ActDeny, "*", false}, {AgentBurst, agent.ActDeny, "*", false}, {AgentBurst, agent.ActDeny, "*", false}}},
		{"burst under floor", enforce(), burst(0, 3, 100), []got{}},
		// First packets a block refuses are new flows and failed probes:
		// a flood that goes on under a block renews it.
		{"blocked attempts", enforce(), func() []flow {
			var f []flow
			for i := range 300 {
				f = append(f, flow{at: at(i, 150), proto: 6, remote: ipv4(i+1, 443), local: uint16(20000 + i), op: event.FlowBlocked, tcp: event.TCPSynOut})
			}
			return f
		}(), []got{{AgentScan, agent.ActDeny, "tcp *:443", false}, {AgentBurst, agent.ActDeny, "*", false},
			{AgentScan, agent.ActDeny, "tcp *:443", false}, {AgentBurst, agent.ActDeny, "*", false}}},
		// The open flows a new block cuts at once are neither.
		{"cut flows", enforce(), func() []flow {
			var f []flow
			for i := range 300 {
				f = append(f, flow{at: time.Second, proto: 6, remote: ipv4(i+1, 443), local: uint16(20000 + i), op: event.FlowBlocked,
					tcp: event.TCPSynOut | event.TCPSynAckIn, pktOut: 10, bytesOut: 1000, pktIn: 10, bytesIn: 5000, age: 5 * time.Second})
			}
			return f
		}(), []got{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAgent(t, tc.cfg)
			ds := feed(a, events(testContainer, merge(tc.trace)))
			if s := summary(ds); !reflect.DeepEqual(s, tc.want) {
				t.Errorf("decisions %+v\nwant %+v", s, tc.want)
			}
			for _, d := range ds {
				if d.Container != testContainer || d.PID != 0 || d.TID != 0 || d.Delay != 0 || d.Reason == "" || d.Score <= 0 || d.Score > 1 {
					t.Errorf("decision %+v", d)
				}
				if d.Action == agent.ActRecord && !strings.HasPrefix(d.Reason, "observe: would block ") {
					t.Errorf("observe reason %q", d.Reason)
				}
			}
		})
	}
}

// TestEvidence checks the reasons and evidence the detectors give.
func TestEvidence(t *testing.T) {
	one := func(cfg Config, trace []flow) agent.Decision {
		t.Helper()
		ds := feed(newAgent(t, cfg), events(testContainer, merge(trace)))
		if len(ds) != 1 {
			t.Fatalf("%d decisions, want 1: %+v", len(ds), summary(ds))
		}
		return ds[0]
	}
	d := one(enforce(), verticalScan(0, "10.0.0.5", 20, 22, 50))
	if d.Reason != "vertical scan: 20 ports of 10.0.0.5 failed within 5s (threshold 20)" ||
		!reflect.DeepEqual(d.Evidence, []string{"ports: 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35 (+4 more)", "block 10.0.0.5:* for 30s"}) ||
		d.Score != 0.5 {
		t.Errorf("vertical: %q %q %v", d.Reason, d.Evidence, d.Score)
	}
	d = one(enforce(), horizontalScan(0, 22, 20, 20))
	if d.Reason != "horizontal scan: tcp port 22 failed on 20 hosts within 5s (threshold 20)" ||
		!strings.HasPrefix(d.Evidence[0], "hosts: 10.0.0.1, 10.0.0.2, ") || !strings.HasSuffix(d.Evidence[0], " (+4 more)") {
		t.Errorf("horizontal: %q %q", d.Reason, d.Evidence)
	}

	egress := func(src string, m Mode) Config {
		c := enforce()
		c.Mode = m
		p, err := policy.Parse("p.yaml", []byte("version: 1\ndefault: allow\nnetwork:\n  egress:\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		c.Egress = p.Network.Egress
		return c
	}
	refused := []flow{{at: 0, proto: 6, remote: ap("1.2.3.4:22"), local: 33000, op: event.FlowRefused, tcp: event.TCPSynOut}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{egress("    rules:\n      - {action: allow, to: ['*:443']}\n      - {name: no ssh, action: deny, protocol: tcp, to: ['10.0.0.0/8:*', '*:22']}\n", ModeEnforce),
			`egress rule 2: "no ssh": deny tcp to 10.0.0.0/8:*, *:22`},
		{egress("    default: deny\n    rules:\n      - {action: allow, to: ['*:443']}\n", ModeEnforce), "egress default: deny (no rule matched)"},
		{enforce(), "the agent's copy of the egress rules allows it: the packet filter's rules differ"},
	} {
		d := one(tc.cfg, refused)
		if d.Reason != "egress policy refused tcp to 1.2.3.4:22" || !reflect.DeepEqual(d.Evidence, []string{tc.want, "local port 33000", "block tcp 1.2.3.4:22 for 30s"}) || d.Score != 1 {
			t.Errorf("egress: %q %q", d.Reason, d.Evidence)
		}
	}
	// ICMP has no ports: the vote is about the host.
	d = one(enforce(), []flow{{at: 0, proto: 1, remote: ap("1.2.3.4:77"), op: event.FlowRefused}})
	if d.Reason != "egress policy refused icmp to 1.2.3.4" || FormatRemote(d.Remote) != "raw 1.2.3.4:*" {
		t.Errorf("icmp: %q %s", d.Reason, FormatRemote(d.Remote))
	}
	d = one(egress("    default: deny\n", ModeObserve), refused)
	if d.Reason != "observe: would block tcp 1.2.3.4:22 for 30s: egress policy refused tcp to 1.2.3.4:22" {
		t.Errorf("observe: %q", d.Reason)
	}

	c := enforce()
	c.Limit, c.LimitHold = 50, 2*time.Second
	a := newAgent(t, c)
	ds := feed(a, events(testContainer, burst(0, 1, 51)))
	if len(ds) != 1 || ds[0].Reason != "limit: 51 new outbound flows in 1s, limit 50" || ds[0].Evidence[0] != "new=51" ||
		ds[0].Evidence[2] != "block * for 2s" || a.Hold(ds[0]) != 2*time.Second {
		t.Errorf("limit: %+v", ds)
	}
}

// TestBenignServer: a server under load (5000 new inbound flows a second,
// some reset or never completed) with a database pool and a benign client
// beside it decides nothing in enforce mode, before or after learning.
func TestBenignServer(t *testing.T) {
	trace := events(testContainer, merge(server(1, 5, 5000), client(2, 5, 30)))
	a := newAgent(t, enforce())
	if ds := feed(a, trace); len(ds) != 0 {
		t.Fatalf("%d decisions, first %+v", len(ds), ds[0])
	}
	s, _ := a.Stats(testContainer)
	if s.FlowsIn != 25000 || s.FlowsOut != 8+150 || s.Threshold != DefaultBurstFloor {
		t.Errorf("stats %+v", s)
	}
	// Learning it teaches a peak of the outbound flows only.
	l := newAgent(t, DefaultConfig())
	feed(l, trace)
	if p := l.Peak(testContainer); p < 30 || p > 40 {
		t.Errorf("learnt peak %d, want the client's 30 a second (and the pool's 8)", p)
	}
}

// TestBurstLearnEnforce: a client learnt at 50 new flows a second gets a
// threshold of 200; 150 a second passes, a burst of 1000 a second is voted
// on once a second.
func TestBurstLearnEnforce(t *testing.T) {
	a := newAgent(t, DefaultConfig())
	if ds := feed(a, events(testContainer, client(1, 10, 50))); len(ds) != 0 {
		t.Fatalf("learn mode decided: %+v", ds)
	}
	if a.Peak(testContainer) != 50 {
		t.Fatalf("peak %d, want 50", a.Peak(testContainer))
	}
	if err := a.SetMode(testContainer, ModeEnforce); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Stats(testContainer); s.Threshold != 200 || s.Mode != ModeEnforce {
		t.Fatalf("threshold %d, want 200", s.Threshold)
	}
	if ds := feed(a, events(testContainer, shift(client(3, 10, 150), 10*time.Second))); len(ds) != 0 {
		t.Errorf("150 a second: %+v", summary(ds))
	}
	ds := feed(a, events(testContainer, burst(20*time.Second, 3, 1000)))
	want := []got{{AgentBurst, agent.ActDeny, "*", false}, {AgentBurst, agent.ActDeny, "*", false}, {AgentBurst, agent.ActDeny, "*", false}}
	if !reflect.DeepEqual(summary(ds), want) {
		t.Fatalf("burst: %+v", summary(ds))
	}
	if ds[0].Reason != "burst: 201 new outbound flows in 1s, threshold 200 (peak 50 x 4, floor 100)" || ds[0].Delay != 0 ||
		a.Hold(ds[0]) != DefaultBlockHold {
		t.Errorf("burst decision %+v", ds[0])
	}
	// A peak from long memory.
	if !a.SetPeak(testContainer, 1000) || a.SetPeak(99, 1) {
		t.Fatal("SetPeak")
	}
	if ds := feed(a, events(testContainer, burst(40*time.Second, 2, 1000))); len(ds) != 0 {
		t.Errorf("under the loaded peak: %+v", summary(ds))
	}
}

// TestCapped: a flood of refusals to distinct remotes costs at most
// FoldRoom decisions a second.
func TestCapped(t *testing.T) {
	c := enforce()
	c.Egress.DefaultDeny = true
	a := newAgent(t, c)
	var f []flow
	for i := range 99 {
		f = append(f, flow{at: at(i, 200), proto: 6, remote: ipv4(i+1, uint16(1000+i)), local: 33000, op: event.FlowRefused})
	}
	ds := feed(a, events(testContainer, f))
	s, _ := a.Stats(testContainer)
	if len(ds) != FoldRoom || s.Capped != 99-FoldRoom || s.Refused != 99 || s.Decisions[agent.ActDeny] != FoldRoom {
		t.Errorf("%d decisions, stats %+v", len(ds), s)
	}
}

func TestAccounting(t *testing.T) {
	a := newAgent(t, enforce())
	trace := merge(
		ok(0, ap("10.0.0.1:80"), 1000), ok(time.Millisecond, ap("10.0.0.1:81"), 1001), ok(2*time.Millisecond, ap("[2001:db8::1]:443"), 1002),
		closed(3*time.Millisecond, ap("10.0.0.2:22"), 1003),
		[]flow{{at: 4 * time.Millisecond, proto: 6, remote: ap("10.0.0.3:25"), op: event.FlowRefused},
			{at: 5 * time.Millisecond, proto: 6, remote: ap("10.0.0.4:25"), op: event.FlowBlocked},
			{at: 6 * time.Millisecond, proto: 6, remote: ap("10.0.0.1:80"), op: event.FlowUpdate, pktOut: 1, bytesOut: 1}},
	)
	feed(a, events(testContainer, trace))
	s, _ := a.Stats(testContainer)
	// The refusal is an egress vote (its evidence says the agent's
	// copy of the rules, empty here, differs).
	want := Stats{Mode: ModeEnforce, FlowsOut: 4, Refused: 1, Blocked: 1, Ended: 4, Updates: 1,
		PacketsOut: 16, BytesOut: 1860, PacketsIn: 19, BytesIn: 27040, Failed: 3, Probes: 3, Threshold: DefaultBurstFloor,
		Decisions: [4]uint64{agent.ActDeny: 1}}
	if s != want {
		t.Errorf("stats %+v\nwant  %+v", s, want)
	}
	top := a.TopRemotes(testContainer, 10)
	if len(top) != 3 || top[0].Addr.String() != "10.0.0.1" || top[0].Flows != 2 || top[0].Bytes() != 2*9600 ||
		top[1].Addr.String() != "2001:db8::1" || top[2].Addr.String() != "10.0.0.2" || top[2].Err != 0 {
		t.Errorf("top %+v", top)
	}
	if len(a.TopRemotes(testContainer, 1)) != 1 || a.TopRemotes(99, 1) != nil {
		t.Error("TopRemotes bounds")
	}
	r := a.Recent(testContainer, 10)
	if len(r) != 4 || r[3].Remote.String() != "10.0.0.2:22" || r[3].TCP != event.TCPSynOut|event.TCPRstIn ||
		r[3].Duration != time.Millisecond || r[3].LocalPort != 1003 || r[3].Proto != 6 || r[3].Inbound ||
		r[0].Remote.String() != "[2001:db8::1]:443" || r[0].BytesIn != 9000 || !r[0].End.Equal(time.Unix(0, t0+int64(52*time.Millisecond))) {
		t.Errorf("recent %+v", r)
	}
	// Past the tables' room: the top table keeps a remote with more than
	// a TopRoom-th of the bytes, the ring the newest flows.
	f := []flow{{at: time.Second, proto: 6, remote: ap("10.0.0.1:80"), op: event.FlowEnd, bytesIn: 1e6}}
	for i := range 1000 {
		f = append(f, ok(time.Second+at(i, 1000), ipv4(1000+i, 80), uint16(i))...)
	}
	feed(a, events(testContainer, f))
	top = a.TopRemotes(testContainer, TopRoom+5)
	if len(top) != TopRoom || top[0].Addr.String() != "10.0.0.1" {
		t.Errorf("top after a flood: %d, first %+v", len(top), top[0])
	}
	if r := a.Recent(testContainer, 1000); len(r) != RecentRoom || r[0].Remote.String() != "10.0.7.207:80" {
		t.Errorf("recent after a flood: %d, first %+v", len(r), r[0])
	}
}

// TestTick: probes leave the window with time alone, and an empty ring is
// freed.
func TestTick(t *testing.T) {
	a := newAgent(t, enforce())
	feed(a, events(testContainer, verticalScan(0, "10.0.0.5", 1, 10, 50)))
	if s, _ := a.Stats(testContainer); s.Probes != 10 {
		t.Fatalf("%d probes", s.Probes)
	}
	a.Tick(time.Unix(0, t0+int64(4*time.Second)), nil)
	if s, _ := a.Stats(testContainer); s.Probes != 10 {
		t.Fatalf("%d probes after 4s", s.Probes)
	}
	a.Tick(time.Unix(0, t0+int64(6*time.Second)), nil)
	if s, _ := a.Stats(testContainer); s.Probes != 0 || a.ctrs[testContainer].scan.ring != nil {
		t.Fatalf("%d probes after 6s", s.Probes)
	}
	// Ten more ports do not complete a scan with the first ten gone.
	if ds := feed(a, events(testContainer, verticalScan(6*time.Second, "10.0.0.5", 11, 10, 50))); len(ds) != 0 {
		t.Errorf("%+v", summary(ds))
	}
}

func TestSnapshot(t *testing.T) {
	trace := events(testContainer, merge(verticalScan(0, "10.0.0.5", 1, 200, 50), client(1, 4, 120), horizontalScan(time.Second, 445, 50, 25)))
	half := len(trace) / 2
	a := newAgent(t, enforce())
	feed(a, trace[:half])
	snap := a.Snapshot()
	want := feed(a, trace[half:])
	wantStats, _ := a.Stats(testContainer)
	if len(want) == 0 {
		t.Fatal("the trace's second half decides nothing")
	}
	for range 2 { // a snapshot restores any number of times
		b, _ := New(Config{})
		if err := b.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if got := feed(b, trace[half:]); !reflect.DeepEqual(got, want) {
			t.Errorf("after restore: %+v\nwant %+v", summary(got), summary(want))
		}
		if s, _ := b.Stats(testContainer); s != wantStats {
			t.Errorf("stats %+v\nwant  %+v", s, wantStats)
		}
	}
	if err := a.Restore("x"); !errors.Is(err, ErrSnapshot) {
		t.Errorf("Restore(string) = %v", err)
	}
}

// TestAllocs: Handle allocates nothing for events that decide nothing.
func TestAllocs(t *testing.T) {
	a := newAgent(t, enforce())
	evs := events(testContainer, merge(server(1, 1, 500), client(2, 1, 20), verticalScan(0, "10.0.0.5", 1, 10, 50)))
	feed(a, evs)
	i := 0
	allocs := testing.AllocsPerRun(len(evs), func() {
		a.Handle(&evs[i%len(evs)], nil)
		i++
	})
	if allocs != 0 {
		t.Errorf("Handle: %v allocations per event", allocs)
	}
}

func TestFormatRemote(t *testing.T) {
	for _, tc := range []struct {
		r    event.NetAddr
		want string
	}{
		{event.NetAddr{}, "*"},
		{event.NetAddr{Port: 22}, "*:22"},
		{event.NetAddr{Port: 53, Protocol: sockDgram}, "udp *:53"},
		{event.NetAddr{Family: afInet, IP: [16]byte{10, 0, 0, 5}}, "10.0.0.5:*"},
		{event.NetAddr{Family: afInet, IP: [16]byte{10, 0, 0, 5}, Port: 80, Protocol: sockStream}, "tcp 10.0.0.5:80"},
		{event.NetAddr{Family: afInet6, IP: [16]byte{15: 1}, Port: 443}, "[::1]:443"},
		{event.NetAddr{Family: afInet, IP: [16]byte{1, 1, 1, 1}, Protocol: sockRaw}, "raw 1.1.1.1:*"},
	} {
		if got := FormatRemote(tc.r); got != tc.want {
			t.Errorf("FormatRemote(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
