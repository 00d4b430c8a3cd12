// Command athena-init is the first process of a container that asks to be
// healed (the policy's heal: section, docs/policy.md): it starts the
// container's command (the "main" process) and the named services beside
// it, reaps every child including orphans, restarts the ones that crash or
// fail under their restart mode, with backoff and a maximum intensity
// (swarm/restart), and forwards signals. Restarts happen inside the same
// sandbox: same network identity, same files.
//
// The runtime bind-mounts this binary read-only at /.athena/init and
// prepends it to the OCI process.args:
//
//	/.athena/init [FLAGS] -- CMD [ARG]...
//
// where the flags are policy.Heal.InitArgs() (docs/policy.md, "The heal
// section"):
//
//	--restart=no|on-failure|always   main's restart mode (default no)
//	--backoff=FIRST..MAX             restart delays, doubling (default 100ms..10s)
//	--intensity=RESTARTS/WINDOW      give up after more than RESTARTS restarts
//	                                 within WINDOW (default 5/60s)
//	--service=NAME:RESTART:ARGV      a service: NAME matches [a-z0-9_-]{1,32}
//	                                 and is not "main"; RESTART is no,
//	                                 on-failure or always (empty: on-failure);
//	                                 ARGV a JSON array of strings, e.g.
//	                                 --service='worker:always:["/bin/worker","-x"]'
//	                                 (repeatable; backoff and intensity apply
//	                                 to each service on its own)
//
// Flags may be written -flag or --flag, with "=VALUE" or as the next
// argument. "--" ends the flags; it is needed only when CMD begins with
// "-". A bad flag, or no command, prints a message and exits 127 before
// anything is started.
//
// # Behaviour
//
// Main and the services run with init's environment, working directory and
// standard streams (and any other file descriptor init inherited without
// close-on-exec), each in a process group of its own. When stdin is init's
// controlling terminal, main's group is made the terminal's foreground
// group (as tini does), by the child itself before it execs with its
// signals blocked, so SIGTTOU does not stop it. A command without a slash
// is looked up in PATH.
//
// Every exit of main or a service, and what follows, is one line on
// stderr:
//
//	athena-init: main (pid 7) exited with status 1; restart 2 in 200ms
//	athena-init: worker (pid 9) killed by SIGSEGV; restart 1 in 100ms
//	athena-init: main (pid 12) exited with status 1; 5 restarts within 1m: giving up
//	athena-init: main (pid 14) exited with status 0; not restarted under on-failure
//
// SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are
// forwarded to main; SIGTERM, SIGINT, SIGQUIT and SIGHUP to the services
// too. After SIGTERM, SIGINT, SIGQUIT or SIGHUP nothing is restarted any
// more (docker stop stops the container). When main is over (not
// restarted: a clean exit under on-failure, restart no, giving up, or
// shutdown), init sends SIGTERM to the services still running, SIGKILL 5
// seconds later to those still there, reaps them and exits with main's
// status: its exit code, or 128+N when killed by signal N. A service that
// gives up stays down; main runs on. When main cannot be started (not
// found, not executable) init exits 127 (not found) or 126 (any other
// exec error), like a shell, without restarting it.
//
// # Reaping
//
// One goroutine reaps with wait4(-1, &status, 0, NULL) in a loop, blocking,
// and nothing else in init waits for children: the sentry observes the
// wait4 returns of a container's init to report its restarts. Orphans are
// reaped silently; outside a PID namespace (tests) init makes itself a
// child subreaper so that orphans come to it. Backoff delays are timers in
// the supervising goroutine, which owns all state; restart decisions come
// from a swarm/restart Tracker per process.
//
// It is built static (CGO_ENABLED=0) and small: it runs inside the
// container's root filesystem, whatever libc it has or lacks.
//
// Imports: the standard library, golang.org/x/sys/unix and swarm/restart
// only (tests may import swarm/policy).
package main
