// Package result holds what one benchmark run measured, as it is stored in
// bench/results/*.json, and the statistics the report shows (median, min,
// max per runtime, and the ratios of athena's median to the others').
//
// The JSON carries the raw samples and every benchmark's description, unit
// and direction, so a report can be rendered again from the file alone and
// a later reader can recompute any statistic.
//
// Imports: the standard library only.
package result
