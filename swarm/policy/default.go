package policy

import (
	_ "embed"
	"fmt"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the built-in policy.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Default returns a fresh copy of the built-in policy (default.yaml): at
// least as strict as Docker's default seccomp profile for a container with
// Docker's default capabilities, in enforce mode. The reason for each rule is
// written next to it in default.yaml.
func Default() *Policy {
	p, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		// The file is embedded and tested; a failure is a build defect.
		panic(fmt.Sprintf("built-in policy: %v", err))
	}
	return p
}
