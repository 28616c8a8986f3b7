package admission

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxRequestBytes bounds one AdmissionReview. The API server accepts request bodies of at most
// 3 MiB (kube-apiserver's --max-request-bytes default, MaxRequestBodyBytes), and a review carries
// at most two objects (object and oldObject) plus a few small fields: 7 MiB, as controller-runtime
// allows. A larger body is refused with 413 before it is read.
const MaxRequestBytes = 7 << 20

// freeBodyBytes is what any request may hold without charging the shared budget: an ordinary
// review is a few KB, so it never waits on large ones.
const freeBodyBytes = 64 << 10

// DefaultBodyBudget is the memory all request bodies beyond their first 64 KiB may hold at once:
// a few of the largest legitimate reviews. Past it a large body is answered 503 (the API server
// applies the failurePolicy) instead of being buffered, so stalled or oversized uploads from many
// connections cannot grow the heap past this bound plus 64 KiB per open request.
const DefaultBodyBudget = 24 << 20

var (
	errTooLarge = fmt.Errorf("request entity is too large; limit is %d bytes", MaxRequestBytes)
	errBudget   = errors.New("too many large requests in flight; try again")
)

// BodyBudget is the bytes that request bodies beyond their first freeBodyBytes may hold at once.
// A nil *BodyBudget only enforces MaxRequestBytes.
type BodyBudget struct {
	mu          sync.Mutex
	used, limit int64
}

// NewBodyBudget bounds large bodies to limit bytes together.
func NewBodyBudget(limit int64) *BodyBudget { return &BodyBudget{limit: limit} }

func (b *BodyBudget) take(n int64) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *BodyBudget) give(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// body is a request body read into memory; release returns its charge and buffer.
type body struct {
	data    []byte
	charged int64
	pooled  *[]byte
}

// smallBodies recycles the buffers of ordinary reviews, the bulk of the garbage per request.
var smallBodies = sync.Pool{New: func() any { b := make([]byte, 0, freeBodyBytes); return &b }}

// read reads r, charging every byte past freeBodyBytes to the budget before it is buffered.
// contentLength is the request's (-1 when unknown): a body announced too large is refused unread.
func (b *BodyBudget) read(r io.Reader, contentLength int64) (*body, error) {
	if contentLength > MaxRequestBytes {
		return nil, errTooLarge
	}
	out := &body{}
	if contentLength <= freeBodyBytes {
		out.pooled = smallBodies.Get().(*[]byte)
		out.data = (*out.pooled)[:0]
	}
	for {
		if len(out.data) == cap(out.data) {
			// Grow to what was announced, else double; past the free part only with budget.
			next := max(int64(cap(out.data))*2, freeBodyBytes, contentLength+1) // +1: the read that sees EOF
			next = min(next, MaxRequestBytes+1)
			if need := next - freeBodyBytes - out.charged; need > 0 {
				if !b.take(need) {
					b.release(out)
					return nil, errBudget
				}
				out.charged += need
			}
			grown := make([]byte, len(out.data), next)
			copy(grown, out.data)
			if out.pooled != nil {
				smallBodies.Put(out.pooled)
				out.pooled = nil
			}
			out.data = grown
		}
		n, err := r.Read(out.data[len(out.data):cap(out.data)])
		out.data = out.data[:len(out.data)+n]
		if len(out.data) > MaxRequestBytes {
			b.release(out)
			return nil, errTooLarge
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			b.release(out)
			return nil, err
		}
	}
}

func (b *BodyBudget) release(out *body) {
	if out == nil {
		return
	}
	b.give(out.charged)
	out.charged = 0
	if out.pooled != nil {
		smallBodies.Put(out.pooled)
		out.pooled = nil
	}
	out.data = nil
}
