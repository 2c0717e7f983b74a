package erasure_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// The intake records the channel and the identity evidence on the request,
// Request and Requests return them, and the receipt shows channel and
// method by category only, never the notes or who checked; on every store.
func TestIntakeChannelAndIdentityEvidence(t *testing.T) {
	for name, mk := range rightsStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newRightsEnv(t, mk(t), false)
			const a = gdprkit.AccountID("acct-intake")
			e.seed(a)

			// An erasure mailed in, verified later by an agent who saw a
			// passport.
			r := e.submit(a, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin",
				Channel: erasure.ChannelEmail, ChannelNote: "the privacy mailbox"})
			assert.Equal(t, erasure.ChannelEmail, r.Channel)
			assert.Zero(t, r.Identity)
			ev := erasure.Evidence{Method: erasure.IdentityDocument, Note: "passport seen at the desk, not copied"}
			require.NoError(t, e.svc.VerifyIdentityWith(ctx, a, r.ID, "agent1", ev))
			got, err := e.svc.Request(ctx, a, r.ID)
			require.NoError(t, err)
			assert.True(t, got.Verified)
			assert.Equal(t, erasure.ChannelEmail, got.Channel)
			assert.Equal(t, "the privacy mailbox", got.ChannelNote)
			assert.Equal(t, erasure.Evidence{Method: erasure.IdentityDocument, Note: ev.Note, By: "agent1"}, got.Identity, "By defaults to the verifier")
			list, err := e.svc.Requests(ctx, a, erasure.RequestFilter{OpenOnly: true})
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, got.Identity, list[0].Identity)
			assert.Equal(t, got.Channel, list[0].Channel)
			verified := e.events(a, "erasure.verified")
			require.Len(t, verified, 1)
			assert.Equal(t, string(erasure.IdentityDocument), verified[0].Attrs["method"])

			// A logged-in customer's own restriction, verified by the session.
			own := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "bob", By: "bob", Verified: true,
				Channel: erasure.ChannelWeb, Identity: erasure.Evidence{Method: erasure.IdentitySession}})
			// A request with no intake at all: its receipt keeps the old form.
			plain := e.submit(a, erasure.Submission{Type: erasure.TypeRestriction, Subject: "ana", By: "admin", Verified: true})
			require.Empty(t, e.drain())

			rc, err := e.svc.Receipt(ctx, a, r.ID) // an erasure's receipt keeps Type ""
			require.NoError(t, err)
			require.NotNil(t, rc.Intake)
			assert.Equal(t, erasure.ChannelEmail, rc.Intake.Channel)
			assert.Equal(t, erasure.IdentityDocument, rc.Intake.IdentityMethod)
			assert.True(t, rc.Intake.DueAt.Equal(got.DueAt))
			assert.True(t, rc.Intake.VerifiedAt.Equal(got.VerifiedAt))
			body, err := json.Marshal(rc)
			require.NoError(t, err)
			for _, s := range []string{"passport", "privacy mailbox", "agent1"} {
				assert.NotContains(t, string(body), s, "the receipt shows categories, never notes or who checked")
			}
			closed, err := e.svc.Request(ctx, a, r.ID)
			require.NoError(t, err)
			assert.Equal(t, got.Identity, closed.Identity, "the evidence stays with the closed request")

			rc = e.completed(a, own.ID)
			require.NotNil(t, rc.Intake)
			assert.Equal(t, erasure.Intake{Channel: erasure.ChannelWeb, IdentityMethod: erasure.IdentitySession, VerifiedAt: own.VerifiedAt, DueAt: own.DueAt}, *rc.Intake)
			rc = e.completed(a, plain.ID)
			assert.Nil(t, rc.Intake)
			body, err = json.Marshal(rc)
			require.NoError(t, err)
			assert.NotContains(t, string(body), "intake")

			// Portability, closed by Export, carries its intake too.
			port := e.submit(a, erasure.Submission{Type: erasure.TypePortability, Subject: "bob", By: "bob", Verified: true,
				Channel: erasure.ChannelAPI, Identity: erasure.Evidence{Method: erasure.IdentitySession}})
			var out bytes.Buffer
			require.NoError(t, e.svc.Export(ctx, a, port.ID, &out))
			rc = e.completed(a, port.ID)
			require.NotNil(t, rc.Intake)
			assert.Equal(t, erasure.ChannelAPI, rc.Intake.Channel)
		})
	}
}

// Bad intake input is refused with gdprkit.ErrInvalid and records
// nothing: no request, no verification.
func TestIntakeRefusesBadInput(t *testing.T) {
	for name, mk := range rightsStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newRightsEnv(t, mk(t), false)
			const a = gdprkit.AccountID("acct-intake-bad")
			e.seed(a)
			base := erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin"}
			for _, c := range []struct {
				name string
				edit func(s *erasure.Submission)
			}{
				{"unknown channel", func(s *erasure.Submission) { s.Channel = "fax" }},
				{"other channel without a note", func(s *erasure.Submission) { s.Channel = erasure.ChannelOther }},
				{"a note without a channel", func(s *erasure.Submission) { s.ChannelNote = "front desk" }},
				{"a channel note with an e-mail address", func(s *erasure.Submission) {
					s.Channel, s.ChannelNote = erasure.ChannelEmail, "from ana@example.com"
				}},
				{"evidence on an unverified submission", func(s *erasure.Submission) { s.Identity = erasure.Evidence{Method: erasure.IdentitySession} }},
				{"a document number in the note", func(s *erasure.Submission) {
					s.Verified, s.Identity = true, erasure.Evidence{Method: erasure.IdentityDocument, Note: "passport X1234567"}
				}},
				{"a phone number in the note", func(s *erasure.Submission) {
					s.Verified, s.Identity = true, erasure.Evidence{Method: erasure.IdentityPhoneCallback, Note: "called +351 900 000"}
				}},
				{"unknown method", func(s *erasure.Submission) { s.Verified, s.Identity = true, erasure.Evidence{Method: "vibes"} }},
				{"a note without a method", func(s *erasure.Submission) { s.Verified, s.Identity = true, erasure.Evidence{Note: "checked"} }},
				{"other method without a note", func(s *erasure.Submission) {
					s.Verified, s.Identity = true, erasure.Evidence{Method: erasure.IdentityOther}
				}},
				{"a control character", func(s *erasure.Submission) { s.Channel, s.ChannelNote = erasure.ChannelOther, "desk\nB" }},
				{"a long note", func(s *erasure.Submission) {
					s.Channel, s.ChannelNote = erasure.ChannelOther, strings.Repeat("x", erasure.MaxNote+1)
				}},
			} {
				sub := base
				c.edit(&sub)
				_, err := e.svc.Submit(ctx, a, sub)
				assert.ErrorIs(t, err, gdprkit.ErrInvalid, c.name)
			}
			rs, err := e.svc.Requests(ctx, a, erasure.RequestFilter{})
			require.NoError(t, err)
			assert.Empty(t, rs, "nothing was recorded")

			r := e.submit(a, base)
			for name, ev := range map[string]erasure.Evidence{
				"no method":             {Note: "checked"},
				"a document number":     {Method: erasure.IdentityDocument, Note: "ID card 987654"},
				"other without a note":  {Method: erasure.IdentityOther},
				"an e-mail address":     {Method: erasure.IdentityEmailLink, Note: "sent to ana＠example.com"},
				"an invalid checker ID": {Method: erasure.IdentityDocument, By: "bad\x00id"},
			} {
				assert.ErrorIs(t, e.svc.VerifyIdentityWith(ctx, a, r.ID, "agent1", ev), gdprkit.ErrInvalid, name)
			}
			got, err := e.svc.Request(ctx, a, r.ID)
			require.NoError(t, err)
			assert.False(t, got.Verified, "a refused verification verifies nothing")
			assert.Zero(t, got.Identity)
			assert.ErrorIs(t, e.svc.VerifyIdentityWith(ctx, a, "missing", "agent1", erasure.Evidence{Method: erasure.IdentitySession}), gdprkit.ErrNotFound)
			require.NoError(t, e.svc.Reject(ctx, a, r.ID, "admin"))
			assert.ErrorIs(t, e.svc.VerifyIdentityWith(ctx, a, r.ID, "agent1", erasure.Evidence{Method: erasure.IdentitySession}), gdprkit.ErrConflict,
				"a closed request cannot be verified")
		})
	}
}

// CheckNote never accepts a note that could carry an identifier: more than
// three digits, an at sign, a control character, more than MaxNote bytes.
func FuzzCheckNote(f *testing.F) {
	for _, s := range []string{"", "passport seen", "ID 1234", "a@b", "Ｘ１２３４", "desk\x00", strings.Repeat("é", 120)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, note string) {
		err := erasure.CheckNote(note)
		if err != nil {
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			return
		}
		digits := 0
		for _, r := range note {
			if unicode.IsDigit(r) {
				digits++
			}
			require.False(t, unicode.IsControl(r) || r == '@', "accepted %q", note)
		}
		require.LessOrEqual(t, digits, 3, "accepted %q", note)
		require.LessOrEqual(t, len(note), erasure.MaxNote)
	})
}
