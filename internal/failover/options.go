package failover

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Options are the failover options of a URI, every one resolved to its value
// or its default. The JSON names are the option names of the URI.
type Options struct {
	// InitialReconnectDelay is the delay in ms before the second attempt.
	InitialReconnectDelay int `json:"initialReconnectDelay"`
	// MaxReconnectDelay caps every delay, in ms.
	MaxReconnectDelay int `json:"maxReconnectDelay"`
	// UseExponentialBackOff multiplies the delay by BackOffMultiplier after
	// each attempt when true; the delay stays constant when false.
	UseExponentialBackOff bool `json:"useExponentialBackOff"`
	// BackOffMultiplier is the factor of the exponential back-off.
	BackOffMultiplier float64 `json:"backOffMultiplier"`
	// MaxReconnectAttempts limits the retries after the first attempt of
	// every reconnect: -1 without limit, 0 none.
	MaxReconnectAttempts int `json:"maxReconnectAttempts"`
	// StartupMaxReconnectAttempts limits the retries after the first attempt
	// of the first connect: -1 without limit, 0 none.
	StartupMaxReconnectAttempts int `json:"startupMaxReconnectAttempts"`
	// ReconnectDelayJitter is the upper bound in ms of the random jitter added
	// to each delay.
	ReconnectDelayJitter int `json:"reconnectDelayJitter"`
	// Randomize shuffles the broker list at the start of every pass.
	Randomize bool `json:"randomize"`
	// PriorityBackup moves the local brokers to the front of every pass.
	PriorityBackup bool `json:"priorityBackup"`
	// PriorityURIs are brokers of the list tried first in every pass, in this
	// order. Parse never leaves it nil.
	PriorityURIs []Broker `json:"priorityURIs"`
}

// DefaultOptions returns the options of a URI without a query.
func DefaultOptions() Options {
	return Options{
		InitialReconnectDelay:       10,
		MaxReconnectDelay:           30000,
		UseExponentialBackOff:       true,
		BackOffMultiplier:           2.0,
		MaxReconnectAttempts:        -1,
		StartupMaxReconnectAttempts: -1,
		ReconnectDelayJitter:        0,
		Randomize:                   true,
		PriorityBackup:              false,
		PriorityURIs:                []Broker{},
	}
}

// Names of the options.
const (
	optInitialReconnectDelay       = "initialReconnectDelay"
	optMaxReconnectDelay           = "maxReconnectDelay"
	optUseExponentialBackOff       = "useExponentialBackOff"
	optBackOffMultiplier           = "backOffMultiplier"
	optReconnectDelayExponent      = "reconnectDelayExponent"
	optMaxReconnectAttempts        = "maxReconnectAttempts"
	optStartupMaxReconnectAttempts = "startupMaxReconnectAttempts"
	optReconnectDelayJitter        = "reconnectDelayJitter"
	optRandomize                   = "randomize"
	optPriorityBackup              = "priorityBackup"
	optPriorityURIs                = "priorityURIs"
)

// option describes how to set one option from its text.
type option struct {
	name string
	set  func(o *Options, v string) string // returns what is wrong, or ""
}

// options lists the supported options in the order String writes them.
var options = []option{
	{optInitialReconnectDelay, func(o *Options, v string) string { return setMillis(&o.InitialReconnectDelay, v) }},
	{optMaxReconnectDelay, func(o *Options, v string) string { return setMillis(&o.MaxReconnectDelay, v) }},
	{optUseExponentialBackOff, func(o *Options, v string) string { return setBool(&o.UseExponentialBackOff, v) }},
	{optBackOffMultiplier, func(o *Options, v string) string { return setFloat(&o.BackOffMultiplier, v) }},
	{optReconnectDelayExponent, func(o *Options, v string) string { return setFloat(&o.BackOffMultiplier, v) }},
	{optMaxReconnectAttempts, func(o *Options, v string) string { return setAttempts(&o.MaxReconnectAttempts, v) }},
	{optStartupMaxReconnectAttempts, func(o *Options, v string) string { return setAttempts(&o.StartupMaxReconnectAttempts, v) }},
	{optReconnectDelayJitter, func(o *Options, v string) string { return setMillis(&o.ReconnectDelayJitter, v) }},
	{optRandomize, func(o *Options, v string) string { return setBool(&o.Randomize, v) }},
	{optPriorityBackup, func(o *Options, v string) string { return setBool(&o.PriorityBackup, v) }},
	{optPriorityURIs, setPriorityURIs},
}

// ignoredOptions are ActiveMQ failover options that mean nothing to a STOMP
// client. They are accepted with a warning; so is every nested.* option.
var ignoredOptions = []string{
	"backup",
	"timeout",
	"trackMessages",
	"maxCacheSize",
	"updateURIsSupported",
	"reconnectSupported",
	"warnAfterReconnectAttempts",
}

const nestedPrefix = "nested."

func lookupOption(name string) (option, bool) {
	for _, o := range options {
		if o.name == name {
			return o, true
		}
	}
	return option{}, false
}

func isIgnoredOption(name string) bool {
	if strings.HasPrefix(name, nestedPrefix) {
		return true
	}
	for _, n := range ignoredOptions {
		if n == name {
			return true
		}
	}
	return false
}

func setMillis(dst *int, v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		if isRange(err) {
			return "out of range"
		}
		return "want a whole number of milliseconds"
	}
	*dst = n
	return ""
}

func setAttempts(dst *int, v string) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		if isRange(err) {
			return "out of range"
		}
		return "want an integer"
	}
	// Any negative count means no limit, as in ActiveMQ's failover
	// transport (which tests "max > 0"): negative counts are accepted
	// alike negative delays, which are clamped to 0.
	*dst = n
	return ""
}

func isRange(err error) bool {
	return errors.Is(err, strconv.ErrRange)
}

func setBool(dst *bool, v string) string {
	switch v {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		return "want true or false"
	}
	return ""
}

func setFloat(dst *float64, v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !isRange(err) {
		return "want a number"
	}
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "want a finite number"
	}
	*dst = f
	return ""
}

// setPriorityURIs parses a comma-separated list of brokers. An empty value is
// an empty list; a broker listed twice is kept once.
func setPriorityURIs(o *Options, v string) string {
	list := []Broker{}
	if v != "" {
		for _, s := range strings.Split(v, ",") {
			if s == "" {
				return "empty entry in the list"
			}
			b, detail := parseBroker(s)
			if detail != "" {
				return (&URIError{Err: ErrInvalidBroker, Part: s, Detail: detail}).Error()
			}
			if !containsBroker(list, b) {
				list = append(list, b)
			}
		}
	}
	o.PriorityURIs = list
	return ""
}

// containsBroker reports whether list holds the broker at b's address,
// whatever their credentials.
func containsBroker(list []Broker, b Broker) bool {
	for _, x := range list {
		if x.String() == b.String() {
			return true
		}
	}
	return false
}

// rawOption is one name=value element of a query.
type rawOption struct {
	name, value string
	hasValue    bool
}

// splitQuery splits a query into its options: at "&" when it holds one,
// else at "," with an element without "=" continuing the previous value.
func splitQuery(query string) ([]rawOption, error) {
	sep := ","
	if strings.Contains(query, "&") {
		sep = "&"
	}
	var opts []rawOption
	for _, elem := range strings.Split(query, sep) {
		if elem == "" {
			return nil, &URIError{Err: ErrInvalidURI, Part: "?" + query, Detail: "empty option"}
		}
		name, value, hasValue := strings.Cut(elem, "=")
		if sep == "," && !hasValue && len(opts) > 0 && opts[len(opts)-1].hasValue {
			opts[len(opts)-1].value += "," + elem
			continue
		}
		opts = append(opts, rawOption{name: name, value: value, hasValue: hasValue})
	}
	return opts, nil
}

// applyOptions sets the options of a query on o and returns the warnings.
func applyOptions(o *Options, query string) ([]string, error) {
	raw, err := splitQuery(query)
	if err != nil {
		return nil, err
	}
	var warnings []string
	warned := map[string]bool{}
	for _, r := range raw {
		if r.name == "" {
			return nil, &URIError{Err: ErrInvalidOption, Part: "=" + r.value, Detail: "missing option name"}
		}
		if isIgnoredOption(r.name) {
			if !warned[r.name] {
				warned[r.name] = true
				warnings = append(warnings, fmt.Sprintf("failover option %s is ignored: it means nothing to a STOMP client", r.name))
			}
			continue
		}
		opt, ok := lookupOption(r.name)
		if !ok {
			e := &URIError{Err: ErrUnknownOption, Part: r.name}
			if s := suggestOption(r.name); s != "" {
				e.Hint = "did you mean " + s + "?"
			}
			return nil, e
		}
		if !r.hasValue {
			return nil, &URIError{Err: ErrInvalidOption, Part: r.name, Detail: "missing =value"}
		}
		if detail := opt.set(o, r.value); detail != "" {
			return nil, &URIError{Err: ErrInvalidOption, Part: r.name + "=" + r.value, Detail: detail}
		}
	}
	return warnings, nil
}

// suggestOption returns the known option name nearest to name, or "" when
// none is near enough to be a likely typo.
func suggestOption(name string) string {
	candidates := make([]string, 0, len(options)+len(ignoredOptions))
	for _, o := range options {
		candidates = append(candidates, o.name)
	}
	candidates = append(candidates, ignoredOptions...)
	best, bestDist := "", math.MaxInt
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist <= 2+len(name)/5 && bestDist < len(name) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance of two strings, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// encode writes the options that differ from the defaults as a query, in a
// fixed order, without the "?".
func (o Options) encode() string {
	d := DefaultOptions()
	var parts []string
	addInt := func(name string, v, def int) {
		if v != def {
			parts = append(parts, name+"="+strconv.Itoa(v))
		}
	}
	addBool := func(name string, v, def bool) {
		if v != def {
			parts = append(parts, name+"="+strconv.FormatBool(v))
		}
	}
	addInt(optInitialReconnectDelay, o.InitialReconnectDelay, d.InitialReconnectDelay)
	addInt(optMaxReconnectDelay, o.MaxReconnectDelay, d.MaxReconnectDelay)
	addBool(optUseExponentialBackOff, o.UseExponentialBackOff, d.UseExponentialBackOff)
	if o.BackOffMultiplier != d.BackOffMultiplier {
		parts = append(parts, optBackOffMultiplier+"="+strconv.FormatFloat(o.BackOffMultiplier, 'g', -1, 64))
	}
	addInt(optMaxReconnectAttempts, o.MaxReconnectAttempts, d.MaxReconnectAttempts)
	addInt(optStartupMaxReconnectAttempts, o.StartupMaxReconnectAttempts, d.StartupMaxReconnectAttempts)
	addInt(optReconnectDelayJitter, o.ReconnectDelayJitter, d.ReconnectDelayJitter)
	addBool(optRandomize, o.Randomize, d.Randomize)
	addBool(optPriorityBackup, o.PriorityBackup, d.PriorityBackup)
	if len(o.PriorityURIs) > 0 {
		uris := make([]string, len(o.PriorityURIs))
		for i, b := range o.PriorityURIs {
			uris[i] = b.String()
		}
		parts = append(parts, optPriorityURIs+"="+strings.Join(uris, ","))
	}
	return strings.Join(parts, "&")
}
