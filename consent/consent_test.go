package consent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var key = []byte("0123456789abcdef0123456789abcdef")

const acct = gdprkit.AccountID("acme")

func newService(t testing.TB) (*consent.Service, consent.Store, *fakeclock.Clock) {
	t.Helper()
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st := memstore.New().Consent()
	svc, err := consent.New(consent.Config{Store: st, Pseudonymizer: ps, Clock: clock})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = svc.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat", Name: "Live-chat support", Label: "Yes, store my chat so an agent can answer."})
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, acct, "chat", "We keep chat transcripts for 12 months. <b>Not</b> HTML.", false, "owner")
	require.NoError(t, err)
	_, err = svc.DefinePurpose(ctx, acct, consent.Purpose{Key: "marketing", Name: "Marketing e-mail"})
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, acct, "marketing", "Monthly newsletter.", false, "owner")
	require.NoError(t, err)
	return svc, st, clock
}

func TestNewNeedsAStoreAndAPseudonymizer(t *testing.T) {
	_, err := consent.New(consent.Config{Store: memstore.New().Consent()})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.ErrorContains(t, err, "Pseudonymizer")
	ps, err := gdprkit.NewPseudonymizer([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	_, err = consent.New(consent.Config{Pseudonymizer: ps})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	require.ErrorContains(t, err, "Store")
}

func TestDefinePurposeRejectsBadInput(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	for name, p := range map[string]consent.Purpose{
		"upper-case key": {Key: "Chat", Name: "x"},
		"empty key":      {Key: "", Name: "x"},
		"long key":       {Key: strings.Repeat("a", 65), Name: "x"},
		"empty name":     {Key: "ok", Name: " "},
		"negative life":  {Key: "ok", Name: "x", Lifetime: -time.Second},
		"bad utf8 name":  {Key: "ok", Name: "\xff"},
	} {
		_, err := svc.DefinePurpose(ctx, acct, p)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	_, err := svc.DefinePurpose(ctx, "", consent.Purpose{Key: "ok", Name: "x"})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "empty account")
	_, err = svc.PublishPolicy(ctx, acct, "chat", strings.Repeat("x", consent.MaxPolicyText+1), false, "owner")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "oversized policy text")
	ps, err := svc.Purposes(ctx, acct)
	require.NoError(t, err)
	assert.Len(t, ps, 2, "nothing was created")
}

// tamperStore hands Verify and VerifyProof doctored records, as an attacker
// with write access to storage would.
type tamperStore struct {
	consent.Store
	edit func([]consent.Record) []consent.Record
}

func (s tamperStore) Records(ctx context.Context, a gdprkit.AccountID, after int64, limit int) ([]consent.Record, error) {
	rs, err := s.Store.Records(ctx, a, after, limit)
	return s.edit(rs), err
}

func (s tamperStore) SubjectRecords(ctx context.Context, a gdprkit.AccountID, sub gdprkit.Pseudonym) ([]consent.Record, error) {
	rs, err := s.Store.SubjectRecords(ctx, a, sub)
	return s.edit(rs), err
}

func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer(key)
	cases := map[string]func([]consent.Record) []consent.Record{
		"edited purpose": func(rs []consent.Record) []consent.Record { rs[1].Purpose = "marketing"; return rs },
		"edited time":    func(rs []consent.Record) []consent.Record { rs[1].At = rs[1].At.Add(time.Hour); return rs },
		"edited subject": func(rs []consent.Record) []consent.Record { rs[0].Subject = "mallory"; return rs },
		"edited ip":      func(rs []consent.Record) []consent.Record { rs[2].Evidence.IP = "198.51.100.1"; return rs },
		"edited action":  func(rs []consent.Record) []consent.Record { rs[2].Action = consent.Withdraw; return rs },
		"removed middle": func(rs []consent.Record) []consent.Record { return append(rs[:1:1], rs[2:]...) },
		"removed last":   func(rs []consent.Record) []consent.Record { return rs[:len(rs)-1] },
		"swapped":        func(rs []consent.Record) []consent.Record { rs[0], rs[1] = rs[1], rs[0]; return rs },
		"fake pseudonym": func(rs []consent.Record) []consent.Record { rs[0].Pseudonymized = true; return rs },
		"rehashed record": func(rs []consent.Record) []consent.Record {
			rs[1].Purpose = "marketing"
			rs[1].Hash = rs[0].Hash
			return rs
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			svc, st, _ := newService(t)
			for _, s := range []gdprkit.SubjectID{"a", "a", "a"} {
				_, err := svc.Grant(ctx, acct, consent.Decision{Subject: s, Purpose: "chat", Source: consent.SourcePortal, IP: netip.MustParseAddr("192.0.2.1")})
				require.NoError(t, err)
			}
			_, err := svc.Verify(ctx, acct)
			require.NoError(t, err)
			bad, err := consent.New(consent.Config{Store: tamperStore{st, edit}, Pseudonymizer: ps})
			require.NoError(t, err)
			_, err = bad.Verify(ctx, acct)
			require.ErrorIs(t, err, consent.ErrChainBroken)
			if name != "removed last" && name != "removed middle" && name != "swapped" {
				p, err := bad.ExportProof(ctx, acct, "a")
				require.NoError(t, err)
				require.ErrorIs(t, consent.VerifyProof(p), consent.ErrChainBroken)
			}
		})
	}
}

func TestProofJSONRoundTrip(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	_, err := svc.Grant(ctx, acct, consent.Decision{Subject: "zoë@example.com", Purpose: "chat", Source: consent.SourcePreChat})
	require.NoError(t, err)
	p, err := svc.ExportProof(ctx, acct, "zoë@example.com")
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var back consent.Proof
	require.NoError(t, json.Unmarshal(b, &back))
	require.NoError(t, consent.VerifyProof(&back), "a proof verifies after a JSON round trip")
	assert.Contains(t, string(b), `"status":{"chat":"granted"}`)
	back.Records[0].Evidence.Wording = "I agree to everything"
	require.ErrorIs(t, consent.VerifyProof(&back), consent.ErrChainBroken)
	require.ErrorIs(t, consent.VerifyProof(nil), consent.ErrChainBroken)
}

func postForm(vals url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(vals.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	return r
}

func TestPreChatRendersEscapedWordingAndRecordsGrants(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	pc := &consent.PreChat{Consent: svc, Purposes: []string{"chat", "marketing"}, Required: []string{"chat"}}
	html, err := pc.Fields(ctx, acct)
	require.NoError(t, err)
	s := string(html)
	assert.Contains(t, s, `name="consent.chat"`)
	assert.Contains(t, s, `name="consent.chat.version" value="1"`)
	assert.Contains(t, s, "&lt;b&gt;Not&lt;/b&gt; HTML.", "policy text is escaped")
	assert.NotContains(t, s, "<b>Not</b>")
	assert.Contains(t, s, " required>", "required purposes are marked")

	sub := consent.Submission{Subject: "visitor@example.com", IP: netip.MustParseAddr("::ffff:203.0.113.9")}
	_, err = pc.Record(ctx, acct, postForm(url.Values{"consent.marketing": {"yes"}, "consent.marketing.version": {"1"}}), sub)
	require.ErrorIs(t, err, gdprkit.ErrInvalid, "the required box was not ticked")
	_, err = pc.Record(ctx, acct, postForm(url.Values{"consent.chat": {"yes"}, "consent.chat.version": {"7"}}), sub)
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "a version never published")
	_, err = pc.Record(ctx, acct, postForm(url.Values{"consent.chat": {"yes"}, "consent.chat.version": {"x"}}), sub)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	h, err := svc.History(ctx, acct, sub.Subject)
	require.NoError(t, err)
	require.Empty(t, h, "refused forms record nothing")

	// The policy changes while the form is open: the version shown is recorded.
	_, err = svc.PublishPolicy(ctx, acct, "chat", "New text", false, "owner")
	require.NoError(t, err)
	rs, err := pc.Record(ctx, acct, postForm(url.Values{"consent.chat": {"yes"}, "consent.chat.version": {"1"}}), sub)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	r := rs[0]
	assert.Equal(t, 1, r.PolicyVersion)
	assert.Equal(t, consent.SourcePreChat, r.Source)
	assert.Equal(t, "203.0.113.9", r.Evidence.IP, "IPv4-mapped addresses are unmapped")
	assert.Equal(t, "Mozilla/5.0 (X11; Linux x86_64)", r.Evidence.UserAgent)
	assert.Equal(t, "Yes, store my chat so an agent can answer.", r.Evidence.Wording)
	st, err := svc.Check(ctx, acct, sub.Subject, "marketing")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusNeverGiven, st, "an unticked box is no consent")
}

func FuzzPreChatRecord(f *testing.F) {
	f.Add("consent.chat=yes&consent.chat.version=1")
	f.Add("consent.chat=yes&consent.chat.version=-1&consent.marketing=yes")
	f.Add("%zz&&==")
	f.Fuzz(func(t *testing.T, body string) {
		svc, st, _ := newService(t)
		ctx := context.Background()
		pc := &consent.PreChat{Consent: svc, Purposes: []string{"chat", "marketing"}}
		r := httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rs, err := pc.Record(ctx, acct, r, consent.Submission{Subject: "v"})
		head, herr := st.Head(ctx, acct)
		require.NoError(t, herr)
		if err != nil {
			require.Equal(t, int64(0), head.Seq, "a refused form records nothing")
			return
		}
		require.Equal(t, int64(len(rs)), head.Seq)
		_, err = svc.Verify(ctx, acct)
		require.NoError(t, err)
	})
}

func TestStatusNames(t *testing.T) {
	assert.Equal(t, "needs_reconsent", consent.StatusNeedsReconsent.String())
	assert.Equal(t, "status(99)", consent.Status(99).String())
	assert.True(t, consent.StatusGranted.Granted())
	assert.False(t, consent.StatusExpired.Granted())
}

// Example shows the whole life of one consent: publish, grant, check,
// withdraw, verify and prove.
func Example() {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	clock := fakeclock.New(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	svc, _ := consent.New(consent.Config{Store: memstore.New().Consent(), Pseudonymizer: ps, Clock: clock})

	svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "chat", Name: "Live-chat support"})
	svc.PublishPolicy(ctx, "acme", "chat", "We keep your chat for 12 months to answer you.", false, "owner")

	d := consent.Decision{Subject: "ana@example.com", Purpose: "chat", Source: consent.SourcePreChat,
		IP: netip.MustParseAddr("198.51.100.4"), UserAgent: "Mozilla/5.0"}
	r, _ := svc.Grant(ctx, "acme", d)
	st, _ := svc.Check(ctx, "acme", "ana@example.com", "chat")
	fmt.Println("record", r.Seq, r.Action, "policy v", r.PolicyVersion, "->", st)

	svc.Withdraw(ctx, "acme", d)
	st, _ = svc.Check(ctx, "acme", "ana@example.com", "chat")
	fmt.Println("after withdrawal:", st)

	res, err := svc.Verify(ctx, "acme")
	fmt.Println("chain of", res.Records, "records verified:", err == nil)

	proof, _ := svc.ExportProof(ctx, "acme", "ana@example.com")
	fmt.Println("proof holds", len(proof.Records), "records and", len(proof.Policies), "policy text; valid:", consent.VerifyProof(proof) == nil)
	// Output:
	// record 1 grant policy v 1 -> granted
	// after withdrawal: withdrawn
	// chain of 2 records verified: true
	// proof holds 2 records and 1 policy text; valid: true
}

// ExampleService_Pseudonymize shows what erasure leaves of a subject's
// consent: the proof that it existed, without the identifier.
func ExampleService_Pseudonymize() {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(consent.Config{Store: memstore.New().Consent(), Pseudonymizer: ps})
	svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "news", Name: "Newsletter"})
	svc.PublishPolicy(ctx, "acme", "news", "One e-mail a month.", false, "owner")
	svc.Grant(ctx, "acme", consent.Decision{Subject: "bo@example.com", Purpose: "news", Source: consent.SourcePortal})

	n, _ := svc.Pseudonymize(ctx, "acme", "bo@example.com", "system:erasure")
	h, _ := svc.History(ctx, "acme", "bo@example.com")
	_, err := svc.Verify(ctx, "acme")
	fmt.Printf("pseudonymised %d; subject now %q; chain valid: %v\n", n, h[0].Subject, err == nil)
	// Output:
	// pseudonymised 1; subject now ""; chain valid: true
}

// ExamplePreChat renders the consent boxes of a pre-chat form and records
// what the visitor ticked.
func ExamplePreChat() {
	ctx := context.Background()
	ps, _ := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	svc, _ := consent.New(consent.Config{Store: memstore.New().Consent(), Pseudonymizer: ps})
	svc.DefinePurpose(ctx, "acme", consent.Purpose{Key: "chat", Name: "Live chat", Label: "Store my chat."})
	svc.PublishPolicy(ctx, "acme", "chat", "Kept 12 months.", false, "owner")
	pc := &consent.PreChat{Consent: svc, Purposes: []string{"chat"}, Required: []string{"chat"}}

	html, _ := pc.Fields(ctx, "acme")
	fmt.Println(strings.Contains(string(html), `<input type="checkbox" name="consent.chat" value="yes" required>`))

	form := url.Values{"consent.chat": {"yes"}, "consent.chat.version": {"1"}}
	req := httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rs, _ := pc.Record(ctx, "acme", req, consent.Submission{Subject: "visitor-42"})
	fmt.Println(rs[0].Action, rs[0].Source, rs[0].Evidence.Wording)
	// Output:
	// true
	// grant prechat Store my chat.
}

// A proof relabelled with another subject must not verify: every record that
// is not pseudonymised commits to the subject the proof names.
func TestVerifyProofRejectsRelabelledSubject(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	_, err := svc.Grant(ctx, acct, consent.Decision{Subject: "alice@example.com", Purpose: "marketing", Source: consent.SourcePortal})
	require.NoError(t, err)
	p, err := svc.ExportProof(ctx, acct, "alice@example.com")
	require.NoError(t, err)
	require.NoError(t, consent.VerifyProof(p))

	for _, forged := range []gdprkit.SubjectID{"bob@example.com", ""} {
		q := *p
		q.Subject = forged
		require.ErrorIs(t, consent.VerifyProof(&q), consent.ErrChainBroken, "relabelled as %q", forged)
	}
}

// The status map must agree with each purpose's latest record in the proof.
func TestVerifyProofRejectsForgedStatus(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	d := consent.Decision{Subject: "alice@example.com", Purpose: "marketing", Source: consent.SourcePortal}
	_, err := svc.Grant(ctx, acct, d)
	require.NoError(t, err)
	_, err = svc.Withdraw(ctx, acct, d)
	require.NoError(t, err)
	_, err = svc.Grant(ctx, acct, consent.Decision{Subject: "alice@example.com", Purpose: "chat", Source: consent.SourcePortal})
	require.NoError(t, err)
	p, err := svc.ExportProof(ctx, acct, "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, map[string]consent.Status{"marketing": consent.StatusWithdrawn, "chat": consent.StatusGranted}, p.Status)
	require.NoError(t, consent.VerifyProof(p))

	for name, status := range map[string]map[string]consent.Status{
		"withdrawn shown as granted": {"marketing": consent.StatusGranted, "chat": consent.StatusGranted},
		"granted shown as withdrawn": {"marketing": consent.StatusWithdrawn, "chat": consent.StatusWithdrawn},
		"granted shown as never":     {"marketing": consent.StatusWithdrawn, "chat": consent.StatusNeverGiven},
		"purpose without records":    {"marketing": consent.StatusWithdrawn, "chat": consent.StatusGranted, "other": consent.StatusGranted},
		"purpose left out":           {"chat": consent.StatusGranted},
		"empty map":                  {},
	} {
		q := *p
		q.Status = status
		require.ErrorIs(t, consent.VerifyProof(&q), consent.ErrChainBroken, name)
	}
	q := *p
	q.Status = nil
	require.NoError(t, consent.VerifyProof(&q), "a proof without a status map claims no status")
}

// After erasure the records no longer carry the identifier: the proof still
// verifies, names no subject, and cannot be relabelled with one. A later
// grant carries the identifier again and vouches for the whole proof.
func TestVerifyProofAfterPseudonymize(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	d := consent.Decision{Subject: "alice@example.com", Purpose: "marketing", Source: consent.SourcePortal}
	_, err := svc.Grant(ctx, acct, d)
	require.NoError(t, err)
	_, err = svc.Pseudonymize(ctx, acct, d.Subject, "system:erasure")
	require.NoError(t, err)

	p, err := svc.ExportProof(ctx, acct, d.Subject)
	require.NoError(t, err)
	require.Len(t, p.Records, 1)
	assert.Empty(t, p.Subject, "no record can vouch for the identifier")
	require.NoError(t, consent.VerifyProof(p), "the proof that consent existed survives erasure")
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "alice")
	q := *p
	q.Subject = "bob@example.com"
	require.ErrorIs(t, consent.VerifyProof(&q), consent.ErrChainBroken, "an erased proof relabelled")

	d.Purpose = "chat"
	_, err = svc.Grant(ctx, acct, d)
	require.NoError(t, err)
	p, err = svc.ExportProof(ctx, acct, d.Subject)
	require.NoError(t, err)
	require.Len(t, p.Records, 2)
	assert.Equal(t, d.Subject, p.Subject)
	require.NoError(t, consent.VerifyProof(p), "pseudonymised and identified records together")
	p.Subject = "bob@example.com"
	require.ErrorIs(t, consent.VerifyProof(p), consent.ErrChainBroken)
}

// Purpose "chat.version"'s checkbox would be named like purpose "chat"'s
// version field, so a ticked box would read as unticked: such a Purposes
// list (and a key offered twice) is refused, while "chat.version" alone works.
func TestPreChatRejectsCollidingFieldNames(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	_, err := svc.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat.version", Name: "Versioned chat"})
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, acct, "chat.version", "text", false, "owner")
	require.NoError(t, err)
	// What the browser posts for the rendered form with both boxes ticked,
	// in document order.
	form := "consent.chat.version=1&consent.chat=yes&consent.chat.version.version=1&consent.chat.version=yes"
	vals, err := url.ParseQuery(form)
	require.NoError(t, err)
	sub := consent.Submission{Subject: "v@example.com"}
	for _, purposes := range [][]string{{"chat", "chat.version"}, {"chat.version", "chat"}, {"chat", "chat"}} {
		pc := &consent.PreChat{Consent: svc, Purposes: purposes, Required: []string{"chat.version"}}
		_, err = pc.Fields(ctx, acct)
		require.ErrorIs(t, err, gdprkit.ErrInvalid, "Fields %v", purposes)
		_, err = pc.Record(ctx, acct, postForm(vals), sub)
		require.ErrorIs(t, err, gdprkit.ErrInvalid, "Record %v", purposes)
	}
	head, err := st.Head(ctx, acct)
	require.NoError(t, err)
	require.Zero(t, head.Seq, "refused forms record nothing")

	pc := &consent.PreChat{Consent: svc, Purposes: []string{"marketing", "chat.version"}, Required: []string{"chat.version"}}
	html, err := pc.Fields(ctx, acct)
	require.NoError(t, err)
	assert.Contains(t, string(html), `name="consent.chat.version" value="yes" required>`)
	assert.Contains(t, string(html), `name="consent.chat.version.version" value="1"`)
	rs, err := pc.Record(ctx, acct, postForm(url.Values{"consent.chat.version": {"yes"}, "consent.chat.version.version": {"1"}}), sub)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "chat.version", rs[0].Purpose)
}
