package memstore

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
)

// Consent returns the consent store.
func (s *Store) Consent() consent.Store { return domain(s, "consent", newConsentMem) }

type consentMem struct {
	mu       sync.RWMutex
	accounts map[gdprkit.AccountID]*consentAcct
}

type stateKey struct {
	subject gdprkit.Pseudonym
	purpose string
}

type consentAcct struct {
	purposes  map[string]consent.Purpose
	policies  map[string][]consent.Policy // purpose -> versions 1..n
	records   []consent.Record            // records[i].Seq == i+1
	bySubject map[gdprkit.Pseudonym][]int
	state     map[stateKey]int // index into records of the latest record
}

func newConsentMem() *consentMem {
	return &consentMem{accounts: map[gdprkit.AccountID]*consentAcct{}}
}

func (m *consentMem) acct(a gdprkit.AccountID, create bool) *consentAcct {
	c := m.accounts[a]
	if c == nil && create {
		c = &consentAcct{purposes: map[string]consent.Purpose{}, policies: map[string][]consent.Policy{},
			bySubject: map[gdprkit.Pseudonym][]int{}, state: map[stateKey]int{}}
		m.accounts[a] = c
	}
	return c
}

func (m *consentMem) CreatePurpose(ctx context.Context, a gdprkit.AccountID, p consent.Purpose) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, true)
	if _, ok := c.purposes[p.Key]; ok {
		return fmt.Errorf("purpose %q exists: %w", p.Key, gdprkit.ErrConflict)
	}
	p.CurrentVersion, p.MaterialVersion = 0, 0
	c.purposes[p.Key] = p
	return nil
}

func (m *consentMem) Purpose(ctx context.Context, a gdprkit.AccountID, key string) (consent.Purpose, error) {
	if err := live(ctx); err != nil {
		return consent.Purpose{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.acct(a, false); c != nil {
		if p, ok := c.purposes[key]; ok {
			return p, nil
		}
	}
	return consent.Purpose{}, fmt.Errorf("purpose %q: %w", key, gdprkit.ErrNotFound)
}

func (m *consentMem) Purposes(ctx context.Context, a gdprkit.AccountID) ([]consent.Purpose, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []consent.Purpose
	if c := m.acct(a, false); c != nil {
		for _, p := range c.purposes {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *consentMem) PublishPolicy(ctx context.Context, a gdprkit.AccountID, p consent.Policy) (consent.Policy, error) {
	if err := live(ctx); err != nil {
		return consent.Policy{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, false)
	if c == nil {
		return consent.Policy{}, fmt.Errorf("purpose %q: %w", p.Purpose, gdprkit.ErrNotFound)
	}
	pu, ok := c.purposes[p.Purpose]
	if !ok {
		return consent.Policy{}, fmt.Errorf("purpose %q: %w", p.Purpose, gdprkit.ErrNotFound)
	}
	pu.CurrentVersion++
	p.Version = pu.CurrentVersion
	if p.Material {
		pu.MaterialVersion = p.Version
	}
	c.purposes[p.Purpose] = pu
	c.policies[p.Purpose] = append(c.policies[p.Purpose], p)
	return p, nil
}

func (m *consentMem) Policy(ctx context.Context, a gdprkit.AccountID, purpose string, version int) (consent.Policy, error) {
	if err := live(ctx); err != nil {
		return consent.Policy{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.acct(a, false); c != nil {
		ps := c.policies[purpose]
		if version >= 1 && version <= len(ps) {
			return ps[version-1], nil
		}
	}
	return consent.Policy{}, fmt.Errorf("policy %q version %d: %w", purpose, version, gdprkit.ErrNotFound)
}

func (m *consentMem) Append(ctx context.Context, a gdprkit.AccountID, drafts []consent.Record, seal func(consent.ChainHead, *consent.Record) error) ([]consent.Record, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, true)
	head := c.head()
	out := make([]consent.Record, len(drafts))
	for i := range drafts {
		r := drafts[i]
		if err := seal(head, &r); err != nil {
			return nil, err
		}
		if r.Seq != head.Seq+1 {
			return nil, fmt.Errorf("seal returned seq %d after head %d: %w", r.Seq, head.Seq, gdprkit.ErrConflict)
		}
		out[i] = r
		head = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
	}
	for _, r := range out {
		c.records = append(c.records, r)
		idx := len(c.records) - 1
		c.bySubject[r.SubjectPS] = append(c.bySubject[r.SubjectPS], idx)
		c.state[stateKey{r.SubjectPS, r.Purpose}] = idx
	}
	return out, nil
}

func (c *consentAcct) head() consent.ChainHead {
	if len(c.records) == 0 {
		return consent.ChainHead{}
	}
	r := c.records[len(c.records)-1]
	return consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
}

func (m *consentMem) Lookup(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, purpose string) (consent.Lookup, error) {
	if err := live(ctx); err != nil {
		return consent.Lookup{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil {
		return consent.Lookup{}, fmt.Errorf("purpose %q: %w", purpose, gdprkit.ErrNotFound)
	}
	pu, ok := c.purposes[purpose]
	if !ok {
		return consent.Lookup{}, fmt.Errorf("purpose %q: %w", purpose, gdprkit.ErrNotFound)
	}
	l := consent.Lookup{Purpose: pu}
	if idx, ok := c.state[stateKey{subject, purpose}]; ok {
		l.Found, l.Seq, l.Record = true, c.records[idx].Seq, c.records[idx]
	}
	return l, nil
}

func (m *consentMem) States(ctx context.Context, a gdprkit.AccountID, after consent.StateKey, limit int) ([]consent.State, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil || limit <= 0 {
		return nil, nil
	}
	less := func(x, y stateKey) bool {
		return x.subject < y.subject || (x.subject == y.subject && x.purpose < y.purpose)
	}
	from := stateKey{after.SubjectPS, after.Purpose}
	var keys []stateKey
	for k := range c.state {
		if less(from, k) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	keys = keys[:min(limit, len(keys))]
	out := make([]consent.State, len(keys))
	for i, k := range keys {
		r := c.records[c.state[k]]
		out[i] = consent.State{StateKey: consent.StateKey{SubjectPS: k.subject, Purpose: k.purpose},
			Seq: r.Seq, Action: r.Action, PolicyVersion: r.PolicyVersion, At: r.At}
	}
	return out, nil
}

func (m *consentMem) SubjectRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym) ([]consent.Record, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil {
		return nil, nil
	}
	idx := c.bySubject[subject]
	out := make([]consent.Record, 0, len(idx))
	for _, i := range idx {
		out = append(out, c.records[i])
	}
	return out, nil
}

func (m *consentMem) Records(ctx context.Context, a gdprkit.AccountID, afterSeq int64, limit int) ([]consent.Record, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil || afterSeq < 0 || afterSeq >= int64(len(c.records)) || limit <= 0 {
		return nil, nil
	}
	end := min(afterSeq+int64(limit), int64(len(c.records)))
	return append([]consent.Record(nil), c.records[afterSeq:end]...), nil
}

func (m *consentMem) Head(ctx context.Context, a gdprkit.AccountID) (consent.ChainHead, error) {
	if err := live(ctx); err != nil {
		return consent.ChainHead{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c := m.acct(a, false); c != nil {
		return c.head(), nil
	}
	return consent.ChainHead{}, nil
}

func (m *consentMem) RecordsByID(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) ([]consent.Record, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil {
		return nil, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []consent.Record
	for _, i := range c.bySubject[subject] {
		if want[c.records[i].ID] {
			out = append(out, c.records[i])
		}
	}
	return out, nil
}

func (m *consentMem) LiveRecordIDs(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, afterID string, limit int) ([]string, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.acct(a, false)
	if c == nil || limit <= 0 {
		return nil, nil
	}
	var ids []string
	for _, i := range c.bySubject[subject] {
		if r := &c.records[i]; !r.Pseudonymized && r.ID > afterID {
			ids = append(ids, r.ID)
		}
	}
	sort.Strings(ids)
	return ids[:min(limit, len(ids))], nil
}

func (m *consentMem) PseudonymizeRecords(ctx context.Context, a gdprkit.AccountID, subject gdprkit.Pseudonym, ids []string) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, false)
	if c == nil {
		return 0, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	n := 0
	for _, i := range c.bySubject[subject] {
		r := &c.records[i]
		if r.Pseudonymized || !want[r.ID] {
			continue
		}
		*r = consent.StripIdentifiers(*r)
		n++
	}
	return n, nil
}

func (m *consentMem) Rewrite(ctx context.Context, a gdprkit.AccountID, fromSeq int64, rewrite func(consent.ChainHead, *consent.Record) error) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, false)
	if c == nil || fromSeq < 1 || fromSeq > int64(len(c.records)) {
		return 0, nil
	}
	var head consent.ChainHead
	if fromSeq > 1 {
		prev := c.records[fromSeq-2]
		head = consent.ChainHead{Seq: prev.Seq, Hash: prev.Hash}
	}
	out := make([]consent.Record, 0, int64(len(c.records))-fromSeq+1)
	for _, r := range c.records[fromSeq-1:] {
		old := r
		if err := rewrite(head, &r); err != nil {
			return 0, err
		}
		if r.Seq != old.Seq || r.ID != old.ID || r.SubjectPS != old.SubjectPS || r.Purpose != old.Purpose ||
			r.Action != old.Action || r.PolicyVersion != old.PolicyVersion || !r.At.Equal(old.At) {
			return 0, fmt.Errorf("rewrite changed the identity of record %d: %w", old.Seq, gdprkit.ErrConflict)
		}
		out = append(out, r)
		head = consent.ChainHead{Seq: r.Seq, Hash: r.Hash}
	}
	copy(c.records[fromSeq-1:], out)
	return len(out), nil
}

func (m *consentMem) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.acct(a, false)
	if c == nil {
		return 0, nil
	}
	delete(m.accounts, a)
	return len(c.records), nil
}
