package cmdutil

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/protocol"
	"golang.org/x/time/rate"
)

// badFlagValue matches pflag's error for a value a flag refused.
var badFlagValue = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: (.*)$`)

// FlagError rewrites pflag's error for a refused value in the words of
// the rest of stompest: `--count "x": want a whole number`.
func FlagError(err error) error {
	m := badFlagValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return fmt.Errorf("%s %q: %s", m[2], m[1], ValueReason(m[3]))
}

// ValueReason says why a flag refused a value without Go's parser names.
func ValueReason(reason string) string {
	switch {
	case strings.Contains(reason, "strconv.ParseInt"), strings.Contains(reason, "strconv.ParseUint"), strings.Contains(reason, "strconv.Atoi"):
		return "want a whole number"
	case strings.Contains(reason, "strconv.ParseFloat"):
		return "want a number"
	case strings.Contains(reason, "strconv.ParseBool"):
		return "want true or false"
	case strings.HasPrefix(reason, "time: "):
		return "want a duration such as 10s or 500ms"
	}
	return reason
}

// ParseDuration parses a Go duration, or a plain number of milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	return time.ParseDuration(s)
}

// ParseVersions parses --stomp-version: a comma-separated list of 1.0, 1.1
// and 1.2.
func ParseVersions(s string) ([]protocol.Version, error) {
	var vs []protocol.Version
	for part := range strings.SplitSeq(s, ",") {
		v, err := protocol.ParseVersion(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("want a list of 1.0, 1.1 and 1.2")
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// ParseHeartBeat parses --heartbeat CX,CY, each a Go duration or a number
// of milliseconds.
func ParseHeartBeat(s string) (protocol.HeartBeatSpec, error) {
	cx, cy, ok := strings.Cut(s, ",")
	if !ok {
		return protocol.HeartBeatSpec{}, errors.New("want CX,CY such as 10s,10s")
	}
	x, err1 := ParseDuration(cx)
	y, err2 := ParseDuration(cy)
	if err1 != nil || err2 != nil || x < 0 || y < 0 {
		return protocol.HeartBeatSpec{}, errors.New("want CX,CY such as 10s,10s")
	}
	return protocol.HeartBeatSpec{Send: x, Receive: y}, nil
}

// ParseSize parses a byte size: a number with an optional unit (B, KiB,
// MiB, GiB, or K, M, G meaning the same).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// ParseHeaderFlags parses -H K:V flags: split at the first colon, taken
// literally, the last for a name wins.
func ParseHeaderFlags(flags []string) (protocol.Headers, error) {
	var hs protocol.Headers
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			return nil, UsageErrorf("-H %q: want NAME:VALUE", kv)
		}
		if k == protocol.HdrDestination || k == protocol.HdrContentLength {
			return nil, UsageErrorf("-H %q: %s is set by stompest", kv, k)
		}
		hs.Set(k, v)
	}
	return hs, nil
}

// ParseRate parses --rate N/s into a limiter allowing bursts of burst
// messages (at least one); "" is no limit.
func ParseRate(s string, burst int) (*rate.Limiter, error) {
	if s == "" {
		return nil, nil
	}
	n, err := ParsePerSecond(s)
	if err != nil {
		return nil, err
	}
	return rate.NewLimiter(rate.Limit(n), max(1, burst)), nil
}

// ParsePerSecond parses --rate N/s (the "/s" may be left out) into
// messages per second: a finite number above 0.
func ParsePerSecond(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSuffix(s, "/s"), 64)
	if err != nil || !(n > 0) || math.IsInf(n, 0) {
		return 0, UsageErrorf("--rate %q: want messages per second, such as 100/s", s)
	}
	return n, nil
}
