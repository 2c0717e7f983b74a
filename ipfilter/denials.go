package ipfilter

import (
	"context"
	"net/netip"
	"strconv"
	"sync"

	"github.com/gdprkit/gdprkit"
)

func (f *Filter) record(ctx context.Context, e gdprkit.Event) {
	e.ID = gdprkit.NewID()
	e.Time = f.clock.Now()
	if err := f.audit.Record(ctx, e); err != nil {
		f.log.Warn("ipfilter: audit sink failed", "type", string(e.Type), "err", err)
	}
}

type limitKey struct {
	account gdprkit.AccountID
	surface gdprkit.Surface
}

type limiter struct {
	mu         sync.Mutex
	next       int64 // Unix ns before which events are suppressed
	suppressed int64
}

// reportDenial sends EventDenied unless one was sent for the same account
// and surface less than AuditInterval ago, in which case it is counted.
func (f *Filter) reportDenial(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, d Decision, ip netip.Addr) {
	k := limitKey{account, surface}
	v, ok := f.limits.Load(k)
	if !ok {
		v, _ = f.limits.LoadOrStore(k, &limiter{})
	}
	l := v.(*limiter)
	now := f.clock.Now()
	l.mu.Lock()
	if now.UnixNano() < l.next {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.suppressed = 0
	l.next = now.UnixNano() + f.auditGap
	l.mu.Unlock()

	e := gdprkit.Event{Account: account, Type: EventDenied, Attrs: map[string]string{
		"surface":    string(surface),
		"reason":     d.String(),
		"suppressed": strconv.FormatInt(suppressed, 10),
	}}
	if ip.IsValid() {
		ip = ip.Unmap().WithZone("")
		if ip.Is4() {
			e.Attrs["family"] = "ipv4"
		} else {
			e.Attrs["family"] = "ipv6"
		}
		if f.pseudo != nil {
			e.Subject = f.pseudo.Pseudonym(account, "ip", ip.String())
		}
	}
	f.record(ctx, e)
}
