package gdprkit

import (
	"context"
	"sync"
	"time"
)

// EventType names what happened, as "<package>.<what>", for example
// "consent.granted" or "authn.login_failed".
type EventType string

// Event is one audit record: a lifecycle transition, an erasure, a consent
// change, a denied login or a denied IP. Events carry no secret and no direct
// identifier of a data subject: Subject holds a keyed pseudonym (or is empty),
// and Attrs hold only non-personal detail (counts, versions, reasons).
type Event struct {
	ID      string            `json:"id"`
	Account AccountID         `json:"account"`
	Type    EventType         `json:"type"`
	Time    time.Time         `json:"time"`
	Actor   ActorID           `json:"actor,omitempty"`
	Subject Pseudonym         `json:"subject,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// AuditSink receives events. Implementations must be safe for concurrent use.
// The library treats a sink error as non-fatal: the action already happened,
// so it is logged, not undone. A host that needs events and writes to commit
// together can store them in the same database from its sink.
type AuditSink interface {
	// Record delivers one event.
	Record(ctx context.Context, e Event) error
}

// AuditFunc adapts a function to AuditSink.
type AuditFunc func(ctx context.Context, e Event) error

// Record calls f.
func (f AuditFunc) Record(ctx context.Context, e Event) error { return f(ctx, e) }

// DiscardAudit is the default sink: it drops every event.
type DiscardAudit struct{}

// Record does nothing.
func (DiscardAudit) Record(context.Context, Event) error { return nil }

// SinkOrDiscard returns s, or DiscardAudit when s is nil.
func SinkOrDiscard(s AuditSink) AuditSink {
	if s == nil {
		return DiscardAudit{}
	}
	return s
}

// MemoryAudit keeps events in memory, for tests, demos and small hosts that
// page through recent activity. It is safe for concurrent use.
type MemoryAudit struct {
	mu     sync.Mutex
	events []Event
}

// Record appends e.
func (m *MemoryAudit) Record(_ context.Context, e Event) error {
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
	return nil
}

// Events returns a copy of the events recorded so far, oldest first.
func (m *MemoryAudit) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.events...)
}

// OfType returns the recorded events of type t, oldest first.
func (m *MemoryAudit) OfType(t EventType) []Event {
	var out []Event
	for _, e := range m.Events() {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}
