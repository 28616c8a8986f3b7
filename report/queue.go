package report

import "github.com/prometheus/client_golang/prometheus"

// queue is a bounded FIFO between producers that must never wait (an admission handler on its hot
// path) and one consumer. A buffered channel is the whole mechanism: Offer never blocks, and what
// does not fit is dropped and counted.
type queue[T any] struct {
	items   chan T
	dropped prometheus.Counter
	length  prometheus.Gauge
}

func newQueue[T any](sink string, capacity int) *queue[T] {
	return &queue[T]{
		items:   make(chan T, capacity),
		dropped: droppedTotal.WithLabelValues(sink),
		length:  queueLength.WithLabelValues(sink),
	}
}

// Offer enqueues v if there is room, and otherwise drops it and counts the drop. It never blocks.
func (q *queue[T]) Offer(v T) bool {
	// Counted before the send so that the consumer's Took can never take the gauge below zero.
	q.length.Inc()
	select {
	case q.items <- v:
		return true
	default:
		q.length.Dec()
		q.dropped.Inc()
		return false
	}
}

// Items is the consumer's end; call Took after every receive so the length gauge stays right.
func (q *queue[T]) Items() <-chan T { return q.items }

// Took records that the consumer received one item.
func (q *queue[T]) Took() { q.length.Dec() }

// DropRemaining empties the queue without blocking and counts what it held as dropped; the
// consumer calls it when it stops.
func (q *queue[T]) DropRemaining() {
	for {
		select {
		case <-q.items:
			q.length.Dec()
			q.dropped.Inc()
		default:
			return
		}
	}
}
