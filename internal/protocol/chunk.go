package protocol

import (
	"sync"
	"sync/atomic"
)

// A Chunk is a read buffer of a Reader whose chunks are recycled (see
// Reader.RecycleChunks): frames read by ReadTo alias it, and it goes back
// to the Reader for reuse once the Reader has moved on from it and every
// holder of a frame in it has released it.
//
// The references are counted without an atomic operation per frame: while
// the chunk is the Reader's buffer, its count holds readerRef, standing for
// the Reader and for the holds it counts on its own (Reader.holds); a
// release subtracts at once. When the Reader moves on, it adds its holds
// and takes readerRef away in one step, which leaves the references not
// yet released.
type Chunk struct {
	buf  []byte
	refs atomic.Int32
	pool *chunkPool
}

// readerRef is the count of a chunk that is the Reader's buffer: more
// than all the frames a chunk can hold.
const readerRef = 1 << 30

// Release drops one reference to c, taken by Reader.HoldChunk. The caller
// no longer refers to anything in it: header strings and bodies of the
// frames read into it. A nil Chunk is a no-op.
func (c *Chunk) Release() { c.ReleaseN(1) }

// ReleaseN drops n references to c at once, as Release n times does.
func (c *Chunk) ReleaseN(n int) {
	if c == nil || n == 0 {
		return
	}
	c.drop(int32(n))
}

// drop takes n from the count, and puts c back into its pool once no
// reference is left.
func (c *Chunk) drop(n int32) {
	switch left := c.refs.Add(-n); {
	case left == 0:
		c.pool.put(c)
	case left < 0:
		panic("protocol: Chunk released more often than held")
	}
}

// chunkPool holds chunks no frame refers to any more.
type chunkPool struct {
	mu   sync.Mutex
	free []*Chunk
}

// maxFreeChunks bounds the chunks a pool keeps; more go to the collector.
const maxFreeChunks = 16

func (p *chunkPool) put(c *Chunk) {
	p.mu.Lock()
	if len(p.free) < maxFreeChunks {
		p.free = append(p.free, c)
	}
	p.mu.Unlock()
}

// get returns a chunk counting readerRef: a free one, or a new one.
func (p *chunkPool) get() *Chunk {
	p.mu.Lock()
	var c *Chunk
	if n := len(p.free); n > 0 {
		c = p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
	}
	p.mu.Unlock()
	if c == nil {
		c = &Chunk{buf: make([]byte, chunkSize), pool: p}
	}
	c.refs.Store(readerRef)
	return c
}

// RecycleChunks makes the Reader reuse its read buffers: each holder of
// frames read by ReadTo takes a reference to the buffer they alias with
// HoldChunk and releases it when done with them, and the buffer is read
// into again once every reference is released. Without it (and for
// frames whose holder takes no reference) buffers are left to the
// collector, as the frames alias them.
func (r *Reader) RecycleChunks() {
	if r.pool == nil {
		r.pool = &chunkPool{}
	}
}

// HoldChunk returns the chunk the frame read last by ReadTo aliases, with
// a reference taken for the caller, who releases it (Chunk.Release) once
// nothing refers to the frame any more; nil when the frame aliases no
// recycled chunk (a body of OwnBody bytes or more is read into a buffer
// of its own, a frame larger than a chunk into a larger buffer).
func (r *Reader) HoldChunk() *Chunk {
	if r.chunk == nil || !r.aliased {
		return nil
	}
	r.holds++
	return r.chunk
}
