package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/athenaos/athena/bench/internal/parse"
	"github.com/athenaos/athena/bench/internal/result"
)

// The scheduler groups: how a runtime shares the CPUs between a latency-
// sensitive server and CPU hogs, how closely it keeps to a CPU quota, and
// how a fork bomb in one container affects the machine and the container.
// Each job starts a container of its own (bench-nn-, bench-cpus-,
// bench-forkbomb- + runtime) in the bare phase, so no idle work container
// competes for the two CPUs, and removes it before the next runtime's turn.

const (
	// nnLead is how long the hogs run alone before the loaded redis run
	// starts, so that it meets them at full speed.
	nnLead = 2 * time.Second
	// cpusSettle is how long the quota container runs before its CPU use
	// is sampled: start-up (and gVisor's boot) is not part of the window.
	cpusSettle = time.Second
	// forkbombPids is the pids limit of the fork bomb's container. Never
	// run it without: under runc the bomb would fill the host's pid table.
	forkbombPids = "1024"
	// forkbombExecTimeout bounds each docker exec probe; a probe that
	// fails or times out counts as this long.
	forkbombExecTimeout = 5 * time.Second
)

// forkbombScript starts the bomb after a second (the container is up and
// the first probe can run). Every f forks copies of itself in a loop until
// a fork fails, which ends that shell (busybox sh exits on "can't fork"),
// so the bomb keeps the container at its pids limit, churning. The classic
// `f(){ f | f & }; f` forks twice and returns: at the limit its processes
// all fail and exit, and on this machine it died out in two runs of three
// (5 tasks left after 10 s), so it measured nothing. The shell that starts
// it then execs sleep, a container process that never needs to fork; and
// stderr goes nowhere, or the failures fill the container's log.
const forkbombScript = `exec 2>/dev/null; sleep 1; f(){ while :; do f & done; }; f & exec sleep infinity`

func schedJobs(s sizes) []job {
	var js []job

	const nnGroup = "scheduler: noisy neighbour"
	nnHow := fmt.Sprintf("A container of its own per runtime and repetition (%s, redis-server in it, port 6379 published on 127.0.0.1); after `redis-benchmark -n %d -c 4 -t get` to warm up, `/bench/spin 2 %d` starts two CPU hogs in the same container (`docker exec`), and %v later `redis-benchmark -n %d -c 4 -t get --csv` runs from the host against the published port",
		debianImage, s.nnWarmup, s.nnSpinSeconds, nnLead, s.nnRequests)
	js = append(js, job{
		metrics: []result.Benchmark{
			metric(nnGroup, "nn_redis_p50_ms", "ms", false,
				nnHow+"; the median GET latency redis-benchmark reports (ms, its histogram's resolution). How well the runtime keeps a latency-sensitive server responsive while its neighbours burn all the CPUs: two hogs and the server share the container and the machine's CPUs (two here, see Machine)."),
			metric(nnGroup, "nn_redis_p99_ms", "ms", false,
				"as above, the 99th-percentile GET latency of the same run: the tail the hogs cause."),
			metric(nnGroup, "nn_redis_rps", "req/s", true,
				"as above, GET requests per second of the same run."),
			metric(nnGroup, "nn_hog_iters_per_s", "M iters/s", true,
				fmt.Sprintf("as above, the hogs' throughput: spin's loop iterations per second over its whole run (%d s, longer if the runtime's unloaded redis was so slow that the loaded run might not fit in it at twice the time; the log says so), summed over both hogs. The window is the same for every runtime and redis serves the same %d requests in it, so this is what the runtime leaves the hogs while it serves a fixed amount of work, after its own overhead.", s.nnSpinSeconds, s.nnRequests)),
			metric(nnGroup, "nn_redis_p99_idle_ms", "ms", false,
				fmt.Sprintf("the reference for the above: the 99th-percentile GET latency of `redis-benchmark -n %d -c 4 -t get` in the same container just before the hogs start, with nothing else running in it.", s.nnIdleRequests)),
		},
		quick: true,
		phase: phaseBare,
		reps:  s.schedReps,
		run: func(ctx context.Context, t *target) ([]float64, error) {
			return noisyNeighbour(ctx, t, s)
		},
	})

	const quotaGroup = "scheduler: CPU quota"
	logged := &sync.Map{} // runtime -> cgroup logged once
	quota := func(limit float64, name string, procs int) {
		lim := strconv.FormatFloat(limit, 'f', -1, 64)
		hogs := "one CPU hog, more than the quota can feed"
		if procs > 1 {
			hogs = fmt.Sprintf("%d CPU hogs, more than the quota can feed", procs)
		}
		how := fmt.Sprintf("`docker run -d --cpus=%s %s /bench/spin %d %d` (%s); the CPU time the container's host cgroup accounts (cpuacct.usage on cgroup v1, cpu.stat usage_usec on v2: for gVisor the Sentry, its stubs and the gofer) over %d s, sampled from %v after the start, divided by the wall time between the samples",
			lim, busyboxImage, procs, s.cpusWindow+3, hogs, s.cpusWindow, cpusSettle)
		js = append(js, job{
			metrics: []result.Benchmark{
				infoMetric(quotaGroup, name+"_used", "CPUs", how+": the CPUs the container actually got. Ideally "+lim+"; for gVisor this includes the Sentry's own work, so the hogs get a little less."),
				metric(quotaGroup, name+"_error_pct", "%", false,
					"as above, |used − "+lim+"| / "+lim+" × 100: how far the runtime strays from the quota, either way."),
				metric(quotaGroup, name+"_spin_rate", "M iters/s", true,
					"as above, spin's own figure: loop iterations per second under the quota, summed over its hogs (what the quota leaves the program, after the runtime's overhead)."),
			},
			quick: true,
			phase: phaseBare,
			reps:  s.schedReps,
			run: func(ctx context.Context, t *target) ([]float64, error) {
				return cpuQuota(ctx, t, s, limit, procs, logged)
			},
		})
	}
	quota(0.5, "cpus_0_5", 1)
	quota(1.5, "cpus_1_5", 2)

	const bombGroup = "scheduler: fork bomb"
	probes := s.forkbombSeconds
	bombHow := fmt.Sprintf("`docker run -d --init --pids-limit %s --memory 1g %s sh -c '%s'` (each f forks copies of itself until a fork fails; --init reaps the orphans, so the bomb keeps the container at its pids limit, churning, rather than stalling on zombies); from 1 s after the start, `docker exec C true` once a second, %d times, each timed on the host and bounded to %v (a failed or timed-out exec counts as %d ms)",
		forkbombPids, busyboxImage, forkbombScript, probes, forkbombExecTimeout, forkbombExecTimeout.Milliseconds())
	js = append(js, job{
		metrics: []result.Benchmark{
			metric(bombGroup, "forkbomb_exec_p50_ms", "ms", false, bombHow+"; the median exec latency: whether the container stays manageable while a bomb runs in it."),
			metric(bombGroup, "forkbomb_exec_max_ms", "ms", false, "as above, the slowest exec."),
			metric(bombGroup, "forkbomb_exec_failed", "execs", false,
				fmt.Sprintf("as above, how many of the %d execs failed or timed out (for instance because the container died; the log says how it ended).", probes)),
			infoMetric(bombGroup, "forkbomb_tasks", "tasks", "as above, then the processes the container sees: the numeric entries of `docker exec C ls /proc` (one more exec; fails if the container died)."),
			metric(bombGroup, "forkbomb_rm_ms", "ms", false,
				"as above, then `docker rm -f C`, timed on the host: how long the runtime takes to kill a container full of processes (a container that already died is only deleted, which is quick: see forkbomb_exec_failed). The sample fails if any host process of the container is left 10 s after."),
		},
		quick: true,
		phase: phaseBare,
		reps:  s.schedReps,
		run: func(ctx context.Context, t *target) ([]float64, error) {
			return forkBomb(ctx, t, probes)
		},
	})
	return js
}

// noisyNeighbour runs the noisy-neighbour measurement for one runtime.
func noisyNeighbour(ctx context.Context, t *target, s sizes) ([]float64, error) {
	name := "bench-nn-" + t.runtime
	defer removeContainer(context.WithoutCancel(ctx), name)
	if _, err := docker(ctx, 2*time.Minute, "run", "-d", "--name", name, "--runtime="+t.runtime,
		"--label", "dev.athena.bench=1", "-v", t.binDir+":/bench:ro", "-p", "127.0.0.1::6379",
		debianImage, "sh", "-c",
		`redis-server --port 6379 --save "" --appendonly no --protected-mode no --daemonize yes && exec sleep infinity`); err != nil {
		return nil, err
	}
	addr, err := publishedPort(ctx, name, "6379/tcp")
	if err != nil {
		return nil, err
	}
	if err := waitRedis(ctx, name); err != nil {
		return nil, err
	}
	host, port, _ := strings.Cut(addr, ":")
	get := func(requests int, timeout time.Duration) (parse.RedisRow, error) {
		out, err := command(ctx, timeout, "redis-benchmark", "-h", host, "-p", port,
			"-n", strconv.Itoa(requests), "-c", "4", "-t", "get", "--csv")
		if err != nil {
			return parse.RedisRow{}, err
		}
		m, err := parse.RedisLatency(out)
		if err != nil {
			return parse.RedisRow{}, err
		}
		r, ok := m["GET"]
		if !ok {
			return parse.RedisRow{}, fmt.Errorf("redis-benchmark: no GET in %q", out)
		}
		return r, nil
	}
	if _, err := get(s.nnWarmup, 3*time.Minute); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	idle, err := get(s.nnIdleRequests, 3*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("unloaded run: %w", err)
	}

	// The hogs must outlast the loaded run, or its tail would be unloaded.
	// nnSpinSeconds is sized for that from runs on this machine (the hogs
	// slow gVisor's redis down 1.1-2.8x). The machine is shared: if this
	// runtime's redis was so slow unloaded that the loaded run might not
	// fit at twice the time, give the hogs longer (and say so).
	secs := s.nnSpinSeconds
	est := float64(s.nnRequests) / idle.RPS
	if need := int(math.Ceil(nnLead.Seconds() + 2*est + 1)); need > secs {
		log.Printf("%s: unloaded redis at %.0f req/s: hogs run %d s instead of %d", t.runtime, idle.RPS, need, secs)
		secs = need
	}
	type spinDone struct {
		out []byte
		err error
		end time.Time
	}
	done := make(chan spinDone, 1) // buffered: never blocks if we return early
	go func() {
		out, err := docker(ctx, time.Duration(secs)*time.Second+time.Minute,
			"exec", name, "/bench/spin", "2", strconv.Itoa(secs))
		done <- spinDone{out, err, time.Now()}
	}()
	if err := sleepCtx(ctx, nnLead); err != nil {
		return nil, err
	}
	t0 := time.Now()
	loaded, err := get(s.nnRequests, time.Duration(secs)*time.Second+time.Minute)
	redisEnd := time.Now()
	if err != nil {
		return nil, fmt.Errorf("loaded run: %w", err) // the deferred rm stops the hogs
	}
	sp := <-done
	if sp.err != nil {
		return nil, fmt.Errorf("spin: %w", sp.err)
	}
	spin, err := parse.SpinLine(sp.out)
	if err != nil {
		return nil, err
	}
	// docker exec returns a little after spin ends; half a second of slack
	// is more than that and less than would matter.
	if redisEnd.After(sp.end.Add(-500 * time.Millisecond)) {
		return nil, fmt.Errorf("the loaded redis run (%.1f s) outlasted the hogs (%d s, started %v before it): raise nnSpinSeconds",
			redisEnd.Sub(t0).Seconds(), secs, nnLead)
	}
	log.Printf("%s: redis unloaded %.0f req/s p99 %.2f ms; next to the hogs %.0f req/s in %.1f s; hogs %d s, %.2f CPU-s each by the runtime's account",
		t.runtime, idle.RPS, idle.P99Ms, loaded.RPS, redisEnd.Sub(t0).Seconds(), secs, spin.CPUSeconds/float64(max(spin.Procs, 1)))
	return []float64{loaded.P50Ms, loaded.P99Ms, loaded.RPS, spin.ItersPerS / 1e6, idle.P99Ms}, nil
}

// cpuQuota runs procs hogs under --cpus=limit and measures the CPUs the
// container's host cgroup was charged.
func cpuQuota(ctx context.Context, t *target, s sizes, limit float64, procs int, logged *sync.Map) ([]float64, error) {
	name := "bench-cpus-" + t.runtime
	defer removeContainer(context.WithoutCancel(ctx), name)
	// spin outlives the window by a couple of seconds, so the samples are
	// taken while it runs at full tilt.
	secs := s.cpusWindow + 3
	if _, err := docker(ctx, 2*time.Minute, "run", "-d", "--name", name, "--runtime="+t.runtime,
		"--label", "dev.athena.bench=1", "--cpus="+strconv.FormatFloat(limit, 'f', -1, 64),
		"-v", t.binDir+":/bench:ro", busyboxImage, "/bench/spin", strconv.Itoa(procs), strconv.Itoa(secs)); err != nil {
		return nil, err
	}
	out, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.State.Pid}}", name)
	if err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("%s: no running pid (%q)", name, out)
	}
	cg, err := cgroupOf(pid)
	if err != nil {
		return nil, err
	}
	if _, seen := logged.LoadOrStore(t.runtime, true); !seen {
		log.Printf("%s: CPU use read from %s (%d host processes in it; docker's pid %d)", t.runtime, cg.dir, cg.procs(), pid)
	}
	if err := sleepCtx(ctx, cpusSettle); err != nil {
		return nil, err
	}
	u0, err := cg.usage()
	t0 := time.Now()
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, time.Duration(s.cpusWindow)*time.Second); err != nil {
		return nil, err
	}
	u1, err := cg.usage()
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("second sample (did the container exit early?): %w", err)
	}
	used := float64(u1-u0) / float64(t1.Sub(t0).Nanoseconds())

	out, err = docker(ctx, time.Duration(secs)*time.Second+time.Minute, "wait", name)
	if err != nil {
		return nil, err
	}
	if code := strings.TrimSpace(string(out)); code != "0" {
		logs, _ := docker(ctx, 30*time.Second, "logs", name)
		return nil, fmt.Errorf("spin exited with status %s: %q", code, logs)
	}
	logs, err := docker(ctx, 30*time.Second, "logs", name)
	if err != nil {
		return nil, err
	}
	spin, err := parse.SpinLine(logs)
	if err != nil {
		return nil, err
	}
	return []float64{used, math.Abs(used-limit) / limit * 100, spin.ItersPerS / 1e6}, nil
}

// forkBomb starts a fork bomb in a container (pids-limited) and probes it
// with docker exec.
func forkBomb(ctx context.Context, t *target, probes int) ([]float64, error) {
	name := "bench-forkbomb-" + t.runtime
	// Whatever happens, the bomb goes: with a fresh context, so also after
	// an interrupt.
	defer removeContainer(context.WithoutCancel(ctx), name)
	out, err := docker(ctx, 2*time.Minute, "run", "-d", "--name", name, "--runtime="+t.runtime,
		"--label", "dev.athena.bench=1", "--init", "--pids-limit", forkbombPids, "--memory", "1g",
		busyboxImage, "sh", "-c", forkbombScript)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(string(out))
	start := time.Now()
	var lat []float64
	failed := 0
	var lastErr error
	for k := 1; k <= probes; k++ {
		if err := sleepCtx(ctx, time.Until(start.Add(time.Duration(k)*time.Second))); err != nil {
			return nil, err
		}
		t0 := time.Now()
		_, err := docker(ctx, forkbombExecTimeout, "exec", name, "true")
		ms := float64(time.Since(t0)) / float64(time.Millisecond)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			failed++
			lastErr = err
			ms = float64(forkbombExecTimeout.Milliseconds())
		}
		lat = append(lat, math.Min(ms, float64(forkbombExecTimeout.Milliseconds())))
	}
	errs := make(metricErrors, 5)
	tasks := 0.0
	// ls exits 1 when a process it listed is gone before it looks at it,
	// which a churning bomb makes likely: what it printed still counts.
	out, err = docker(ctx, forkbombExecTimeout, "exec", name, "ls", "/proc")
	for _, f := range strings.Fields(string(out)) {
		if _, err := strconv.Atoi(f); err == nil {
			tasks++
		}
	}
	if tasks == 0 {
		errs[3] = fmt.Errorf("no process listed: %v", err)
	}
	state, _ := docker(ctx, 30*time.Second, "inspect", "-f",
		"{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}", name)
	t0 := time.Now()
	_, rmErr := docker(ctx, 2*time.Minute, "rm", "-f", name)
	rm := float64(time.Since(t0)) / float64(time.Millisecond)
	if rmErr != nil {
		errs[4] = rmErr
	} else if left := leftovers(ctx, id, 10*time.Second); len(left) > 0 {
		errs[4] = fmt.Errorf("%d host processes of the container left 10 s after docker rm -f: %v", len(left), left[:min(len(left), 10)])
		log.Printf("%s: WARNING: fork bomb left processes %v", t.runtime, left)
	}
	st := result.Summarize(lat)
	msg := fmt.Sprintf("%s: fork bomb: container %s before rm; %d/%d execs failed", t.runtime, strings.TrimSpace(string(state)), failed, probes)
	if lastErr != nil {
		msg += fmt.Sprintf(" (last: %v)", lastErr)
	}
	log.Print(msg)
	vals := []float64{st.Median, st.Max, float64(failed), tasks, rm}
	for _, e := range errs {
		if e != nil {
			return vals, errs
		}
	}
	return vals, nil
}

// leftovers waits up to wait for the container's host processes to go and
// returns those still there.
func leftovers(ctx context.Context, id string, wait time.Duration) []int {
	deadline := time.Now().Add(wait)
	for {
		left := processesOf(id)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		if sleepCtx(ctx, 500*time.Millisecond) != nil {
			return left
		}
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
