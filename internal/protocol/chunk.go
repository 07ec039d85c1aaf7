package protocol

import (
	"sync"
	"sync/atomic"
)

// A Chunk is a read buffer of a Reader whose chunks are recycled (see
// Reader.RecycleChunks): frames read by ReadTo alias it, and it goes back
// to the Reader for reuse once the Reader has moved on from it and every
// holder of a frame in it has released it.
type Chunk struct {
	buf  []byte
	refs atomic.Int32
	pool *chunkPool
}

// Release drops one reference to c, taken by Reader.HoldChunk. The caller
// no longer refers to anything in it: header strings and bodies of the
// frames read into it. A nil Chunk is a no-op.
func (c *Chunk) Release() {
	if c == nil {
		return
	}
	switch n := c.refs.Add(-1); {
	case n == 0:
		c.pool.put(c)
	case n < 0:
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

// get returns a chunk with one reference, the Reader's: a free one, or a
// new one.
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
	c.refs.Store(1)
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
	r.chunk.refs.Add(1)
	return r.chunk
}
