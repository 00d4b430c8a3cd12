package main

import (
	"bufio"
	"io"
	"regexp"
	"strings"

	"github.com/athenaos/athena/tests/internal/results"
)

// counts is one program's outcome under one runtime, as oci.json records it.
type counts = results.OCICount

// tapSummary is what the TAP output of one program contained.
type tapSummary struct {
	counts
	points    int // test points over all streams
	truncated int // streams with test points and no plan
	bailOut   bool
	emptyPlan bool // some stream declared "1..0"
}

var (
	pointRe = regexp.MustCompile(`^(not ok|ok)\b`)
	planRe  = regexp.MustCompile(`^1\.\.(\d+)`)
	// A directive follows an unescaped '#' in the description.
	directiveRe = regexp.MustCompile(`(?i)#\s*(skip|todo)\b`)
)

// parseTAP reads TAP 13 as runtime-tools emits it. Only lines starting in
// column 0 are TAP: the YAML diagnostics are indented, and they quote whole
// inner TAP streams (runtimetest's stdout) that must not be counted twice.
func parseTAP(r io.Reader) (tapSummary, error) {
	var s tapSummary
	streamPoints, streamPlan := 0, false
	endStream := func() {
		if streamPoints > 0 && !streamPlan {
			s.truncated++
		}
		streamPoints, streamPlan = 0, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "TAP version"):
			endStream()
		case strings.HasPrefix(line, "Bail out!"):
			s.bailOut = true
		case planRe.MatchString(line):
			streamPlan = true
			if planRe.FindStringSubmatch(line)[1] == "0" {
				s.emptyPlan = true
			}
		case pointRe.MatchString(line):
			streamPoints++
			s.points++
			switch {
			case directiveRe.MatchString(line):
				s.Skip++
			case strings.HasPrefix(line, "not ok"):
				s.Fail++
			default:
				s.Pass++
			}
		}
	}
	endStream()
	return s, sc.Err()
}

// verdict combines the TAP summary with how the program ended; see the
// package comment for the rules.
func verdict(s tapSummary, exitOK bool) counts {
	c := s.counts
	c.Fail += s.truncated
	if s.bailOut {
		c.Fail++
	}
	switch {
	case !exitOK:
		c.Fail++
	case s.points == 0 && s.emptyPlan:
		c.Skip++
	case s.points == 0:
		c.Pass++
	}
	return c
}
