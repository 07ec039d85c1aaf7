package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds, from 1 ns to an hour, to three
// significant digits (a recorded value is within 0.1% of the latency);
// a longer latency is recorded as an hour.
const (
	latencyLowest  = 1
	latencyHighest = int64(time.Hour)
	latencyDigits  = 3
)

// newLatencies returns an empty histogram of latencies.
func newLatencies() *hdrhistogram.Histogram {
	return hdrhistogram.New(latencyLowest, latencyHighest, latencyDigits)
}

// record adds one latency to h, kept within the histogram's range.
func record(h *hdrhistogram.Histogram, ns int64) {
	h.RecordValue(min(max(ns, 0), latencyHighest)) // within range: it cannot fail
}

// writeHistogramLog writes h in the HdrHistogram interval log format
// (version 1.3): the header lines, then one interval, from the run's
// start plus from to its start plus to; values are nanoseconds, and the
// interval's maximum is shown in milliseconds as the format's tools
// expect. Interval times are relative to the base time, the run's start
// in whole seconds (the header's unit).
func writeHistogramLog(w io.Writer, h *hdrhistogram.Histogram, runStart time.Time, from, to time.Duration, comment string) error {
	lw := hdrhistogram.NewHistogramLogWriter(w)
	base := runStart.Truncate(time.Second).UnixMilli()
	lw.SetBaseTime(base)
	h = h.Clone()
	h.SetStartTimeMs(runStart.Add(from).UnixMilli())
	h.SetEndTimeMs(runStart.Add(max(to, from)).UnixMilli())
	for _, step := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputComment("[" + comment + "]") },
		func() error { return lw.OutputStartTime(base) },
		func() error { return lw.OutputBaseTime(base) },
		lw.OutputLegend,
		func() error { return lw.OutputIntervalHistogram(h) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// printDistribution draws the latencies of h as a few rows of bars, one
// per range of a 1-2-5 sequence (a decade at a time when that would make
// more than twelve rows), each with its share of the messages.
func printDistribution(w io.Writer, h *hdrhistogram.Histogram) {
	total := h.TotalCount()
	if total == 0 {
		return
	}
	bounds := distributionBounds(h.Min(), h.Max())
	counts := make([]int64, len(bounds))
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		i := 0
		for i < len(bounds)-1 && b.To > bounds[i] {
			i++
		}
		counts[i] += b.Count
	}
	var most int64
	for _, c := range counts {
		most = max(most, c)
	}
	const width = 40
	for i, c := range counts {
		label := "≤ " + showDuration(float64(bounds[i]))
		n := int(math.Round(float64(c) * width / float64(most)))
		if c > 0 && n == 0 {
			n = 1
		}
		share := fmt.Sprintf("%5.1f%%", 100*float64(c)/float64(total))
		if c > 0 && strings.TrimSpace(share) == "0.0%" {
			share = "<0.1%"
		}
		fmt.Fprintf(w, "  %s%s  %s%s %s\n", strings.Repeat(" ", max(0, 9-utf8.RuneCountInString(label))), label,
			strings.Repeat("█", n), strings.Repeat(" ", width-n), share)
	}
}

// distributionBounds returns the upper bounds of the rows that cover lo
// to hi (nanoseconds): steps of 1, 2 and 5 per decade, or one per decade
// when that gives more than twelve rows.
func distributionBounds(lo, hi int64) []int64 {
	lo, hi = max(lo, 1), max(hi, 1)
	for _, steps := range [][]int64{{1, 2, 5}, {1}} {
		var bounds []int64
		for decade := int64(1); len(bounds) == 0 || bounds[len(bounds)-1] < hi; decade *= 10 {
			for _, s := range steps {
				if b := s * decade; b >= lo && (len(bounds) == 0 || bounds[len(bounds)-1] < hi) {
					bounds = append(bounds, b)
				}
			}
		}
		if len(bounds) <= 12 || len(steps) == 1 {
			return bounds
		}
	}
	return nil
}
