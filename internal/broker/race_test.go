//go:build race

package broker

// raceEnabled: the race detector's shadow memory makes a process's RSS
// meaningless against a memory budget.
const raceEnabled = true
