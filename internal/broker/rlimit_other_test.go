//go:build !unix

package broker

import "errors"

// limitDescriptors has no portable equivalent outside Unix.
func limitDescriptors(uint64) error { return errors.New("descriptor limits are Unix's") }
