// Command startup times whole processes, start to exit: each command line
// given as NAME=COMMAND (split on spaces) is run -runs times, the commands
// taking turns so that a noisy minute hurts them alike, after -warmup runs
// of each. It prints, per command, the median, the 10th and 90th
// percentiles of the wall time, the median user and system CPU time and
// the median of minor page faults, and the ratio of each median to the
// first command's.
//
//	startup -runs 200 hello=./hello 'version=./stompest version'
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type sample struct {
	wall, user, sys time.Duration
	faults          int64
}

func main() {
	runs := flag.Int("runs", 100, "timed runs of each command")
	warmup := flag.Int("warmup", 5, "untimed runs of each command first")
	flag.Parse()
	type job struct {
		name    string
		argv    []string
		samples []sample
	}
	var jobs []*job
	for _, arg := range flag.Args() {
		name, line, ok := strings.Cut(arg, "=")
		if !ok || strings.TrimSpace(line) == "" {
			fmt.Fprintf(os.Stderr, "startup: %q: want NAME=COMMAND\n", arg)
			os.Exit(64)
		}
		jobs = append(jobs, &job{name: name, argv: strings.Fields(line)})
	}
	if len(jobs) == 0 {
		fmt.Fprintln(os.Stderr, "startup: no command given")
		os.Exit(64)
	}
	for i := 0; i < *warmup+*runs; i++ {
		for _, j := range jobs {
			s, err := run(j.argv)
			if err != nil {
				fmt.Fprintf(os.Stderr, "startup: %s: %v\n", j.name, err)
				os.Exit(1)
			}
			if i >= *warmup {
				j.samples = append(j.samples, s)
			}
		}
	}
	fmt.Printf("%-28s %9s %9s %9s %9s %9s %8s %7s\n", "command", "median", "p10", "p90", "user", "system", "faults", "ratio")
	var base time.Duration
	for i, j := range jobs {
		wall := pick(j.samples, func(s sample) time.Duration { return s.wall })
		if i == 0 {
			base = wall[len(wall)/2]
		}
		fmt.Printf("%-28s %9s %9s %9s %9s %9s %8d %6.2fx\n", j.name,
			ms(wall[len(wall)/2]), ms(wall[len(wall)/10]), ms(wall[len(wall)*9/10]),
			ms(median(j.samples, func(s sample) time.Duration { return s.user })),
			ms(median(j.samples, func(s sample) time.Duration { return s.sys })),
			int64(median(j.samples, func(s sample) time.Duration { return time.Duration(s.faults) })),
			float64(wall[len(wall)/2])/float64(base))
	}
}

// run starts argv with its output discarded and waits for it.
func run(argv []string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{
		wall:   wall,
		user:   cmd.ProcessState.UserTime(),
		sys:    cmd.ProcessState.SystemTime(),
		faults: ru.Minflt,
	}, nil
}

func pick(ss []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	slices.Sort(out)
	return out
}

func median(ss []sample, f func(sample) time.Duration) time.Duration {
	v := pick(ss, f)
	return v[len(v)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
