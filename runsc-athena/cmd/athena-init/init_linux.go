package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/swarm/restart"
)

// killAfter is how long the services have between SIGTERM and SIGKILL
// once main is over.
const killAfter = 5 * time.Second

// forwarded are the signals init passes on to main; terminating ones
// also go to the services and end restarts.
var forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH}

func terminating(sig unix.Signal) bool {
	return sig == unix.SIGTERM || sig == unix.SIGINT || sig == unix.SIGQUIT || sig == unix.SIGHUP
}

// proc is main or a service.
type proc struct {
	name    string
	argv    []string
	main    bool
	tracker *restart.Tracker
	// pid is the running process; 0 when there is none.
	pid int
	// timer is the pending restart, if any.
	timer *time.Timer
	// over: the process will not be started again.
	over bool
	// status is the exit status of its last run, as a shell gives it.
	status int
}

// exitEvent is one wait4 return.
type exitEvent struct {
	pid int
	ws  unix.WaitStatus
}

// supervisor owns all the state; only its run goroutine touches it. The
// reaper goroutine and the timers talk to it over channels.
type supervisor struct {
	procs []*proc // main first
	byPid map[int]*proc
	env   []string
	files []uintptr
	tty   bool

	exits   chan exitEvent
	sigs    chan os.Signal
	due     chan *proc
	started chan struct{} // a child was started (wakes the reaper after ECHILD)

	shutdown bool // a terminating signal came: nothing is restarted
	finished bool // main is over: stop the services, then exit
	status   int  // init's exit status once finished
	killAt   <-chan time.Time
}

func run(cfg *config) int {
	if os.Getpid() != 1 {
		// Natively (tests), orphans come to us as they would to PID 1.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	s := &supervisor{
		byPid:   map[int]*proc{},
		env:     os.Environ(),
		files:   inheritedFiles(),
		tty:     controllingTTY(),
		exits:   make(chan exitEvent, 16),
		sigs:    make(chan os.Signal, 16),
		started: make(chan struct{}, 1),
	}
	s.procs = append(s.procs, &proc{name: mainName, argv: cfg.argv, main: true, tracker: restart.NewTracker(cfg.main)})
	for _, sv := range cfg.services {
		p := cfg.main
		p.Mode = sv.mode
		s.procs = append(s.procs, &proc{name: sv.name, argv: sv.argv, tracker: restart.NewTracker(p)})
	}
	s.due = make(chan *proc, len(s.procs))
	signal.Notify(s.sigs, forwarded...)
	// A write to a closed stderr must not kill init. A Go handler, unlike
	// SIG_IGN, is not inherited by the children.
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)
	go s.reap()
	return s.run()
}

func (s *supervisor) run() int {
	if err := s.start(s.procs[0]); err != nil {
		logf("cannot start %s: %v", mainName, err)
		return startStatus(err)
	}
	for _, p := range s.procs[1:] {
		if err := s.start(p); err != nil {
			logf("cannot start %s: %v; not restarted", p.name, err)
			p.over = true
		}
	}
	for !s.finished || s.running() > 0 {
		select {
		case e := <-s.exits:
			s.reaped(e)
		case sig := <-s.sigs:
			s.signal(sig.(unix.Signal))
		case p := <-s.due:
			s.restartDue(p)
		case <-s.killAt:
			s.killAt = nil
			for _, p := range s.procs[1:] {
				if p.pid != 0 {
					logf("%s (pid %d) still running %s after SIGTERM: SIGKILL", p.name, p.pid, killAfter)
					_ = unix.Kill(p.pid, unix.SIGKILL)
				}
			}
		}
	}
	logf("exiting with status %d", s.status)
	return s.status
}

// reap is the only place init waits for children: a blocking
// wait4(-1, ..., 0) per exit, for the sentry to observe.
func (s *supervisor) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECHILD:
			// No child at all: none can exit before the next start.
			<-s.started
			continue
		case err != nil:
			logf("wait4: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.exits <- exitEvent{pid: pid, ws: ws}
	}
}

// start starts p; the error is a *startError.
func (s *supervisor) start(p *proc) error {
	path, err := lookPath(p.argv[0])
	if err != nil {
		return err
	}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if p.main && s.tty {
		// Main's group takes the terminal, set by the child before exec
		// while its signals are blocked (no SIGTTOU).
		sys.Foreground, sys.Ctty = true, 0
	}
	attr := &syscall.ProcAttr{Env: s.env, Files: s.files, Sys: sys}
	pid, err := syscall.ForkExec(path, p.argv, attr)
	if err == syscall.ENOTTY && sys.Foreground {
		sys.Foreground = false
		pid, err = syscall.ForkExec(path, p.argv, attr)
	}
	if err != nil {
		return &startError{path: path, err: err}
	}
	p.pid = pid
	s.byPid[pid] = p
	p.tracker.Started(time.Now())
	select {
	case s.started <- struct{}{}:
	default:
	}
	return nil
}

// startError is a command that could not be started.
type startError struct {
	path string
	err  error
}

func (e *startError) Error() string { return e.path + ": " + e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// startStatus is a shell's exit status for a command it cannot start:
// 127 when it does not exist, 126 otherwise.
func startStatus(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// lookPath resolves a command without a slash in PATH.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	if err != nil {
		return "", &startError{path: name, err: exec.ErrNotFound}
	}
	return path, nil
}

func (s *supervisor) running() int {
	n := 0
	for _, p := range s.procs {
		if p.pid != 0 {
			n++
		}
	}
	return n
}

func (s *supervisor) reaped(e exitEvent) {
	p := s.byPid[e.pid]
	if p == nil {
		return // an orphan, or a child that failed to exec
	}
	delete(s.byPid, e.pid)
	p.pid = 0
	exited, code, sig := e.ws.Exited(), e.ws.ExitStatus(), int(e.ws.Signal())
	p.status = code
	how := "exited with status " + strconv.Itoa(code)
	if !exited {
		p.status = 128 + sig
		how = "killed by " + restart.SignalName(sig)
		if e.ws.CoreDump() {
			how += " (core dumped)"
		}
	}
	if s.finished || s.shutdown || p.over {
		logf("%s (pid %d) %s; not restarted: stopping", p.name, e.pid, how)
		p.over = true
		if p.main {
			s.finish(p.status)
		}
		return
	}
	d := p.tracker.Exit(time.Now(), exited, code, sig)
	switch {
	case d.Restart:
		logf("%s (pid %d) %s; restart %d in %s", p.name, e.pid, how, d.Count, restart.FormatDuration(d.Delay))
		p.timer = time.AfterFunc(d.Delay, func() { s.due <- p })
		return
	case d.GiveUp:
		logf("%s (pid %d) %s; %s", p.name, e.pid, how, d.Reason)
	default:
		logf("%s (pid %d) %s; %s", p.name, e.pid, how, strings.TrimPrefix(d.Reason, restart.Describe(exited, code, sig)+": "))
	}
	p.over = true
	if p.main {
		s.finish(p.status)
	}
}

func (s *supervisor) restartDue(p *proc) {
	p.timer = nil
	if s.finished || s.shutdown || p.over {
		return
	}
	if err := s.start(p); err != nil {
		logf("cannot restart %s: %v; giving up", p.name, err)
		p.over = true
		if p.main {
			s.finish(startStatus(err))
		}
		return
	}
	logf("%s restarted (pid %d)", p.name, p.pid)
}

func (s *supervisor) signal(sig unix.Signal) {
	main := s.procs[0]
	if terminating(sig) && !s.shutdown && !s.finished {
		s.shutdown = true
		logf("%s: shutting down, nothing is restarted any more", restart.SignalName(int(sig)))
		s.stopTimers()
	}
	if main.pid != 0 {
		_ = unix.Kill(main.pid, sig)
	}
	if !terminating(sig) {
		return
	}
	for _, p := range s.procs[1:] {
		if p.pid != 0 {
			_ = unix.Kill(p.pid, sig)
		}
	}
	if main.pid == 0 && !s.finished {
		// Main was waiting for a restart: it is over with its last status.
		s.finish(main.status)
	}
}

func (s *supervisor) stopTimers() {
	for _, p := range s.procs {
		if p.timer != nil {
			p.timer.Stop()
			p.timer = nil
		}
	}
}

// finish ends main's supervision: init exits with status once the
// services are gone.
func (s *supervisor) finish(status int) {
	s.finished, s.status = true, status
	s.stopTimers()
	n := 0
	for _, p := range s.procs[1:] {
		p.over = true
		if p.pid != 0 {
			logf("stopping %s (pid %d): SIGTERM", p.name, p.pid)
			_ = unix.Kill(p.pid, unix.SIGTERM)
			n++
		}
	}
	if n > 0 {
		s.killAt = time.After(killAfter)
	}
}

// inheritedFiles lists the descriptors the children get: 0, 1, 2 and any
// other init inherited without close-on-exec (OCI preserve_fds, systemd
// socket activation), at the same numbers. A closed one stays closed.
func inheritedFiles() []uintptr {
	const closed = ^uintptr(0) // -1: closed in the child
	open := func(fd int) bool {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		return err == nil && flags&unix.FD_CLOEXEC == 0
	}
	files := []uintptr{closed, closed, closed}
	for fd := range files {
		if open(fd) {
			files[fd] = uintptr(fd)
		}
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return files
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 || fd > 1024 || !open(fd) {
			continue
		}
		for len(files) <= fd {
			files = append(files, closed)
		}
		files[fd] = uintptr(fd)
	}
	return files
}

// controllingTTY reports whether stdin is init's controlling terminal.
func controllingTTY() bool {
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
		return false
	}
	_, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "athena-init: "+format+"\n", args...)
}
