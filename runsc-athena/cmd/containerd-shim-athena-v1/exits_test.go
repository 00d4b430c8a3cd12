package main

import (
	"context"
	"testing"
	"time"
)

func TestSandboxExitsFix(t *testing.T) {
	ctx := context.Background()
	x := newSandboxExits()
	x.watch(100, "c1")
	if got := x.fix(ctx, "c1", 3); got != 3 {
		t.Errorf("a status other than 128 is kept: got %d", got)
	}
	if got := x.fix(ctx, "other", internalError); got != internalError {
		t.Errorf("an unfollowed container keeps 128: got %d", got)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		x.record(100, 7)
	}()
	if got := x.fix(ctx, "c1", internalError); got != 7 {
		t.Errorf("128 replaced by the sandbox's status when it comes: got %d", got)
	}
	x.record(200, 9) // not followed: ignored
	x.watch(200, "c2")
	start := time.Now()
	if got := x.fix(ctx, "c2", internalError); got != internalError {
		t.Errorf("no reaped status: 128 stays, got %d", got)
	}
	if d := time.Since(start); d < lateExit {
		t.Errorf("fix gave up after %v, before lateExit", d)
	}
}

func TestSandboxExitsReaped(t *testing.T) {
	x := newSandboxExits()
	x.watch(100, "c1")
	ch := x.reaped(100)
	x.record(100, 137)
	select {
	case st, ok := <-ch:
		if !ok || st != 137 {
			t.Errorf("got %d, %v; want 137", st, ok)
		}
	case <-time.After(time.Second):
		t.Fatal("no status")
	}
	x.watch(300, "c3")
	ch = x.reaped(300)
	x.forget("c3")
	select {
	case _, ok := <-ch:
		if ok {
			t.Error("a forgotten pid must close the channel without a value")
		}
	case <-time.After(time.Second):
		t.Fatal("channel not closed after forget")
	}
	if _, ok := x.pidOf("c3"); ok {
		t.Error("c3 still followed after forget")
	}
}
