package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/athenaos/athena/bench/internal/result"
)

// driver owns the containers and host directories of one run.
type driver struct {
	runtimes []string
	binDir   string
	sizes    sizes
	targets  []*target
	tmpDir   string
}

// run executes the selected jobs: per repetition, first the jobs that need
// no work container, then (with the work containers up) the rest; within
// each job the runtimes take turns. Samples go into out.Benchmarks.
func (d *driver) run(ctx context.Context, jobs []job, out *result.Run) error {
	// Index of each job's first metric in out.Benchmarks, in report order.
	first := make([]int, len(jobs))
	for i, j := range jobs {
		first[i] = len(out.Benchmarks)
		out.Benchmarks = append(out.Benchmarks, j.metrics...)
	}
	if err := d.preflight(ctx, jobs); err != nil {
		return err
	}
	defer d.teardown()

	needWork := false
	for _, j := range jobs {
		needWork = needWork || j.phase == phaseWork
	}
	for rep := 1; rep <= d.sizes.reps; rep++ {
		for _, ph := range []phase{phaseBare, phaseWork} {
			if ph == phaseWork {
				if !needWork {
					continue
				}
				// Fresh work containers each repetition: samples do not
				// inherit one container's state (caches, redis keys), and
				// the next repetition's bare phase is truly bare.
				if err := d.setup(ctx); err != nil {
					return err
				}
			}
			for i, j := range jobs {
				if j.phase != ph || (j.reps > 0 && rep > j.reps) {
					continue
				}
				if err := d.runJob(ctx, rep, j, out.Benchmarks[first[i]:first[i]+len(j.metrics)]); err != nil {
					return err
				}
			}
			if ph == phaseWork {
				d.teardown()
			}
		}
	}
	return nil
}

func (d *driver) runJob(ctx context.Context, rep int, j job, ms []result.Benchmark) error {
	per := max(j.perRep, 1)
	for k := 0; k < per; k++ {
		for _, rt := range d.runtimes {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("stopped: %w", context.Cause(ctx))
			}
			t := d.target(rt)
			t0 := time.Now()
			vals, err := j.run(ctx, t)
			took := time.Since(t0).Round(100 * time.Millisecond)
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("stopped: %w", context.Cause(ctx))
			}
			// errs[i] says why metric i has no sample this time: all of
			// them on a plain error, some when the job says which.
			errs := make([]error, len(ms))
			var partial metricErrors
			switch {
			case errors.As(err, &partial) && len(partial) == len(ms) && len(vals) == len(ms):
				copy(errs, partial)
			case err == nil && len(vals) != len(ms):
				err = fmt.Errorf("internal: %d values for %d metrics", len(vals), len(ms))
				fallthrough
			case err != nil:
				for i := range ms {
					ms[i].Fail(rt, err)
				}
				log.Printf("rep %d/%d %-26s %-15s FAILED: %v [%v]", rep, d.sizes.reps, ms[0].Name, rt, err, took)
				continue
			}
			var parts []string
			for i := range ms {
				if errs[i] != nil {
					ms[i].Fail(rt, errs[i])
					parts = append(parts, fmt.Sprintf("%s FAILED (%v)", ms[i].Name, errs[i]))
					continue
				}
				ms[i].Add(rt, vals[i])
				parts = append(parts, fmt.Sprintf("%s=%.4g %s", ms[i].Name, vals[i], ms[i].Unit))
			}
			log.Printf("rep %d/%d %-15s %s [%v]", rep, d.sizes.reps, rt, strings.Join(parts, " "), took)
		}
	}
	return nil
}

// metricErrors is the error of a job that measured some of its metrics but
// not others: entry i is nil where value i is good. The driver records the
// good values and a failure for each of the others.
type metricErrors []error

func (e metricErrors) Error() string {
	var msgs []string
	for _, err := range e {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	return strings.Join(msgs, "; ")
}

// target returns the runtime's work container description; before the
// work phase it carries only the runtime name.
func (d *driver) target(rt string) *target {
	for _, t := range d.targets {
		if t.runtime == rt {
			return t
		}
	}
	return &target{runtime: rt, binDir: d.binDir}
}

// preflight checks what the run needs, so a missing image or tool fails in
// seconds rather than after half an hour, and removes containers a killed
// earlier run may have left under the names this run uses.
func (d *driver) preflight(ctx context.Context, jobs []job) error {
	out, err := docker(ctx, 30*time.Second, "info", "--format", "{{json .Runtimes}}")
	if err != nil {
		return err
	}
	for _, rt := range d.runtimes {
		if !strings.Contains(string(out), `"`+rt+`"`) {
			return fmt.Errorf("docker has no runtime %q (make install install-baseline)", rt)
		}
	}
	for _, img := range []string{busyboxImage, debianImage} {
		if _, err := docker(ctx, 30*time.Second, "image", "inspect", img); err != nil {
			return fmt.Errorf("image %s missing (make images images-debian): %v", img, err)
		}
	}
	abs, err := filepath.Abs(d.binDir)
	if err != nil {
		return err
	}
	d.binDir = abs
	for _, p := range []string{"syscall", "pagefault", "forkexec", "nop", "tcprr", "spin"} {
		if _, err := os.Stat(filepath.Join(abs, p)); err != nil {
			return fmt.Errorf("micro-benchmark %s missing (make bench-bin): %v", p, err)
		}
	}
	for _, tool := range []string{"iperf3", "redis-benchmark"} {
		if _, err := command(ctx, 10*time.Second, "sh", "-c", "command -v "+tool); err != nil {
			return fmt.Errorf("%s missing on the host (scripts/deps.sh iperf3 redis-tools)", tool)
		}
	}
	for _, rt := range d.runtimes {
		for _, prefix := range containerPrefixes {
			removeContainer(ctx, prefix+rt)
		}
	}
	return nil
}

// containerPrefixes name every container the run starts: prefix + runtime.
// Preflight and teardown remove them all, so a run killed halfway leaves
// nothing behind for long.
var containerPrefixes = []string{"bench-work-", "bench-mem-", "bench-start-", "bench-nn-", "bench-cpus-", "bench-forkbomb-"}

// setup starts one work container per runtime and waits until its servers
// answer.
func (d *driver) setup(ctx context.Context) error {
	dir, err := os.MkdirTemp("/var/tmp", "athena-bench-")
	if err != nil {
		return err
	}
	d.tmpDir = dir
	for _, rt := range d.runtimes {
		t := &target{runtime: rt, work: "bench-work-" + rt, dataDir: filepath.Join(dir, rt),
			tcprrHost: filepath.Join(d.binDir, "tcprr"), binDir: d.binDir}
		if err := os.MkdirAll(t.dataDir, 0o777); err != nil {
			return err
		}
		d.targets = append(d.targets, t)
		// Ports are published on 127.0.0.1 only, with a host port docker
		// picks, so nothing outside this machine can reach them and no
		// fixed port can collide with other work here.
		_, err := docker(ctx, 2*time.Minute, "run", "-d", "--name", t.work, "--runtime="+rt,
			"--label", "dev.athena.bench=1",
			"-v", d.binDir+":/bench:ro", "-v", t.dataDir+":/data",
			"-p", "127.0.0.1::5201", "-p", "127.0.0.1::6379", "-p", "127.0.0.1::"+tcprrPort,
			debianImage, "sh", "-c",
			`iperf3 -s -D && /bench/tcprr server `+tcprrPort+` -D && redis-server --port 6379 --save "" --appendonly no --protected-mode no --daemonize yes && exec sleep infinity`)
		if err != nil {
			return fmt.Errorf("work container for %s: %w", rt, err)
		}
		if t.iperfAddr, err = publishedPort(ctx, t.work, "5201/tcp"); err != nil {
			return err
		}
		if t.redisAddr, err = publishedPort(ctx, t.work, "6379/tcp"); err != nil {
			return err
		}
		if t.tcprrAddr, err = publishedPort(ctx, t.work, tcprrPort+"/tcp"); err != nil {
			return err
		}
		if err := waitRedis(ctx, t.work); err != nil {
			return err
		}
		log.Printf("work container %s up (iperf3 %s, redis %s, tcprr %s)", t.work, t.iperfAddr, t.redisAddr, t.tcprrAddr)
	}
	return nil
}

// waitRedis waits until the redis-server in the container answers PING.
func waitRedis(ctx context.Context, container string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := docker(ctx, 20*time.Second, "exec", container, "redis-cli", "ping")
		if err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: redis not answering after 60s: %v", container, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// teardown removes every container and directory the run created (at the
// end of each repetition's work phase, and once more at exit). It uses a fresh context so
// it still runs after an interrupt or the overall timeout.
func (d *driver) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, rt := range d.runtimes {
		for _, prefix := range containerPrefixes {
			removeContainer(ctx, prefix+rt)
		}
	}
	if d.tmpDir != "" {
		// fio files written through the bind mount belong to root inside
		// the container, which is root here too, so this removes them.
		if err := os.RemoveAll(d.tmpDir); err != nil {
			log.Printf("cleanup: %v", err)
		}
	}
	d.targets, d.tmpDir = nil, ""
}
