package sentry

import (
	"bytes"
	"math/bits"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/sched"
)

func TestHoldSlotsSpreadsAndCarries(t *testing.T) {
	for _, tc := range []struct {
		ns        int64
		wantSlots int
		wantRest  int64
	}{
		{0, 0, 0},
		{int64(2 * time.Millisecond), 0, int64(2 * time.Millisecond)},
		{int64(50 * time.Millisecond), 10, 0},
		{int64(52 * time.Millisecond), 10, int64(2 * time.Millisecond)},
		{int64(100 * time.Millisecond), schedSlots, 0},
		{int64(300 * time.Millisecond), schedSlots, 0},
	} {
		got, rest := holdSlots(tc.ns, 7)
		if bits.OnesCount32(got) != tc.wantSlots || rest != tc.wantRest {
			t.Errorf("holdSlots(%v): %d slots (%032b), rest %v; want %d, %v", time.Duration(tc.ns), bits.OnesCount32(got), got, time.Duration(rest), tc.wantSlots, time.Duration(tc.wantRest))
		}
	}
	// Half the period: runs of at most holdRun slots (whole gVisor
	// ticks), spread over the period, so the CPU given back comes every
	// few tens of milliseconds, not in one 50ms block.
	got, _ := holdSlots(int64(50*time.Millisecond), 0)
	run, longest, gaps := 0, 0, 0
	for i := 0; i < 2*schedSlots; i++ {
		if got&(1<<(i%schedSlots)) != 0 {
			run++
			longest = max(longest, run)
			continue
		}
		if run > 0 && i < schedSlots+1 {
			gaps++
		}
		run = 0
	}
	if longest > holdRun || gaps < 2 {
		t.Fatalf("slots %020b: want runs of at most %d slots, at least 2 of them", got, holdRun)
	}
	// Two tasks at different phases do not start on the same slot.
	a, _ := holdSlots(int64(10*time.Millisecond), 1)
	b, _ := holdSlots(int64(10*time.Millisecond), 2)
	if a == b {
		t.Errorf("tasks of different phases got the same slots %020b", a)
	}
}

func TestOCIResourcesRoundTrip(t *testing.T) {
	c := OCIResources{Shares: 512, Quota: 50000, Period: 100000, Pids: 1024}
	got, err := ParseOCIResources(c.String())
	if err != nil || got != c {
		t.Fatalf("ParseOCIResources(%q) = %v, %v", c.String(), got, err)
	}
	for _, bad := range []string{"", "1/2/3", "a/b/c/d", "1/2/3/4/5", "-1/0/0/0"} {
		if _, err := ParseOCIResources(bad); err == nil {
			t.Errorf("ParseOCIResources(%q) accepted", bad)
		}
	}
}

func TestPolicyMessageCarriesOCIResources(t *testing.T) {
	cpu := OCIResources{Shares: 2048, Quota: 150000, Period: 100000}
	for _, tc := range []struct {
		name string
		cpu  OCIResources
	}{{"/etc/p y.yaml", cpu}, {`odd "name" cpu=1/2/3/4`, cpu}, {"plain.yaml", OCIResources{}}} {
		msg := EncodePolicyMessage("c1", tc.name, []byte("version: 1\n"), tc.cpu)
		m, err := readPolicyMessage(&lineReader{r: bytes.NewReader(msg)})
		if err != nil {
			t.Fatalf("%q: %v", msg, err)
		}
		if m.name != tc.name || m.cpu != tc.cpu || string(m.data) != "version: 1\n" {
			t.Errorf("%q: got name %q cpu %v data %q", msg, m.name, m.cpu, m.data)
		}
	}
	bad := EncodePolicyMessage("c1", "p", []byte("x"), OCIResources{})
	bad = append([]byte(string(bad[:len(bad)-2])+" junk\n"), 'x')
	if _, err := readPolicyMessage(&lineReader{r: bytes.NewReader(bad)}); err == nil {
		t.Errorf("a header with junk after the name was accepted: %q", bad)
	}
}

func TestSchedConfigFrom(t *testing.T) {
	oci := OCIResources{Shares: 512, Quota: 50000, Period: 100000, Pids: 1024}
	parse := func(text string) *policy.Policy {
		t.Helper()
		p, err := policy.Parse("p.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"+text))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cc, on, from := SchedConfigFrom(parse(""), oci)
	if !on || cc.Weight != 512 || cc.Quota != 0.5 || cc.Mode != sched.ModeEnforce || from != "weight: oci, quota: oci" {
		t.Errorf("OCI values: %+v %v %q", cc, on, from)
	}
	cc, _, from = SchedConfigFrom(parse("cpu:\n  weight: 4096\n  quota: 1.5\n"), oci)
	if cc.Weight != 4096 || cc.Quota != 1.5 || from != "weight: policy, quota: policy" {
		t.Errorf("the policy's values must win: %+v %q", cc, from)
	}
	cc, _, from = SchedConfigFrom(parse(""), OCIResources{})
	if cc.Weight != sched.DefaultWeight || cc.Quota != 0 || from != "weight: default, quota: none" {
		t.Errorf("defaults: %+v %q", cc, from)
	}
	if _, on, _ := SchedConfigFrom(parse("cpu:\n  mode: off\n"), oci); on {
		t.Errorf("cpu mode off: scheduled")
	}
	cc, _, _ = SchedConfigFrom(parse("cpu:\n  mode: observe\n"), OCIResources{Shares: 1})
	if cc.Mode != sched.ModeObserve || cc.Weight != sched.MinWeight {
		t.Errorf("observe, shares below the minimum: %+v", cc)
	}
}
