package sentry

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/sentry/platform"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
)

func TestAthenaPlatformsAreRegistered(t *testing.T) {
	for name, inner := range map[string]string{PlatformName: "systrap", PtracePlatformName: "ptrace"} {
		c, err := platform.Lookup(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ic, _ := platform.Lookup(inner)
		if c.Requirements() != ic.Requirements() {
			t.Errorf("%s: requirements %+v, want %s's %+v", name, c.Requirements(), inner, ic.Requirements())
		}
		if !IsAthenaPlatform(name) || InnerPlatform(name) != inner {
			t.Errorf("%s: athena %v, inner %q", name, IsAthenaPlatform(name), InnerPlatform(name))
		}
	}
	if IsAthenaPlatform("systrap") || InnerPlatform("systrap") != "systrap" {
		t.Error("systrap is not an athena platform")
	}
}

func TestNetfilterOpt(t *testing.T) {
	for _, c := range []struct {
		level, opt uint64
		want       bool
	}{
		{unix.SOL_IP, 64, true},   // IPT_SO_SET_REPLACE, IPT_SO_GET_INFO
		{unix.SOL_IP, 65, true},   // IPT_SO_GET_ENTRIES
		{unix.SOL_IPV6, 67, true}, // IP6T_SO_GET_REVISION_TARGET
		{unix.SOL_IP, unix.IP_TOS, false},
		{unix.SOL_SOCKET, 64, false},
		{unix.SOL_IP, 68, false},
	} {
		raw := [6]uint64{3, c.level, c.opt}
		if got := netfilterOpt(&raw); got != c.want {
			t.Errorf("level %d option %d: %v, want %v", c.level, c.opt, got, c.want)
		}
	}
}

func TestRecentFaultsOldestFirst(t *testing.T) {
	r, _ := newMemRing()
	m := newMemDriver(&memFeed{ring: r})
	for i := range recentFaults + 5 {
		r.TryPush(&event.Mem{Kind: event.KindFault, A: [4]uint64{uint64(i), event.AccessWrite, 0, event.MemUnknown}})
	}
	var ev event.Event
	n := m.drain(&ev, func(*event.Event) {})
	got := m.recentList()
	if n != recentFaults+5 || len(got) != recentFaults || got[0].Addr != 5 || got[recentFaults-1].Addr != recentFaults+4 || got[0].Access != "-w-" {
		t.Errorf("drained %d, recent %d from %d to %d", n, len(got), got[0].Addr, got[len(got)-1].Addr)
	}
}

func newMemRing() (*ring.Ring[event.Mem], error) { return ring.New[event.Mem](MemRingSize) }
