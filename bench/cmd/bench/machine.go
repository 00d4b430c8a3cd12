package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/bench/internal/result"
)

// describeMachine gathers what the report says about where it ran. Every
// field degrades to "unknown" rather than failing the run.
func describeMachine(ctx context.Context, goTool string) result.Machine {
	m := result.Machine{
		CPU:        "unknown",
		NProc:      runtime.NumCPU(),
		MemTotal:   "unknown",
		Kernel:     readTrim("/proc/sys/kernel/osrelease"),
		Docker:     "unknown",
		GVisor:     "unknown",
		Go:         runtime.Version(),
		LoadBefore: loadavg(),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "MemTotal:" {
				if kib, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", kib/(1<<20))
				}
			}
		}
	}
	if out, err := docker(ctx, 30*time.Second, "version", "--format", "{{.Server.Version}}"); err == nil {
		m.Docker = strings.TrimSpace(string(out))
	}
	if out, err := docker(ctx, 30*time.Second, "info", "--format", "{{json .Runtimes}}"); err == nil {
		m.Runtimes = strings.TrimSpace(string(out))
	}
	// The gVisor both gVisor runtimes were built from is the one go.mod
	// pins; ask the go tool rather than parse go.mod by hand.
	if out, err := command(ctx, 60*time.Second, goTool, "list", "-m", "gvisor.dev/gvisor"); err == nil {
		m.GVisor = strings.TrimSpace(string(out))
	}
	return m
}

func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// loadavg returns the three load averages of /proc/loadavg.
func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
