package filter

import (
	"context"

	"gvisor.dev/gvisor/pkg/state"
)

// Checkpoints. gVisor saves the network stack's tables with the sandbox,
// and with them our matcher and target, which its state package must
// know. They save as empty placeholders: a restored sandbox installs a
// fresh filter of its own (with the host's current policy) moments after
// the restore, and until then the restored placeholder accepts every
// packet (Match on a Filter without a table) and refuses nothing.

func init() {
	state.Register((*Filter)(nil))
	state.Register((*refuse)(nil))
}

// StateTypeName implements state.Type.
func (*Filter) StateTypeName() string { return "athena/net/filter.Filter" }

// StateFields implements state.Type: nothing is saved.
func (*Filter) StateFields() []string { return nil }

// StateSave implements state.SaverLoader.
func (*Filter) StateSave(state.Sink) {}

// StateLoad implements state.SaverLoader.
func (*Filter) StateLoad(context.Context, state.Source) {}

// StateTypeName implements state.Type.
func (*refuse) StateTypeName() string { return "athena/net/filter.refuse" }

// StateFields implements state.Type: nothing is saved.
func (*refuse) StateFields() []string { return nil }

// StateSave implements state.SaverLoader.
func (*refuse) StateSave(state.Sink) {}

// StateLoad implements state.SaverLoader.
func (*refuse) StateLoad(context.Context, state.Source) {}
