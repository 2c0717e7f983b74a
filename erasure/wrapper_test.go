package erasure_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
)

// forward is the plainest wrapper a host writes (for metrics, logging,
// fault injection): it embeds the one erasure.Target interface and
// overrides nothing.
type forward struct{ erasure.Target }

// A forwarding wrapper around every built-in target — the declarative SQL
// tables, the blob target, gdprkit's own consent and credentials — plans,
// erases, counts and exports exactly as the bare targets do, on every
// database: capabilities are data, so no wrapper can lose one.
func TestForwardingWrapperKeepsEveryCapability(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			type outcome struct {
				caps     []string
				plan     string
				receipt  string
				export   string
				rows     string
				files    int
				consents int
			}
			run := func(wrap bool) outcome {
				st, db := testdb.OpenStore(t, d)
				h := newSQLHost(t, db.DB, d)
				ps, err := gdprkit.NewPseudonymizer(key)
				require.NoError(t, err)
				clock := fakeclock.New(t0)
				cs, err := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Clock: clock})
				require.NoError(t, err)
				keys, err := authn.NewKeyRing("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
				require.NoError(t, err)
				auth, err := authn.New(authn.Config{Store: st.Authn(), Keys: keys, Clock: clock, Argon2: authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
				require.NoError(t, err)
				targets := append(h.targets, kitdata.ConsentTarget(cs), kitdata.CredentialsTarget(auth.Credentials()))
				var out outcome
				for _, x := range targets {
					if wrap {
						x = forward{x}
					}
					info := x.Info()
					b, _ := json.Marshal(info.Caps)
					out.caps = append(out.caps, string(info.Kind)+string(b))
				}
				if wrap {
					for i := range targets {
						targets[i] = forward{targets[i]}
					}
				}
				g, err := erasure.NewGraph(targets...)
				require.NoError(t, err)
				svc, err := erasure.New(erasure.Config{Store: st.Erasure(), Graph: g, Directory: h, Pseudonymizer: ps, Clock: clock, BatchSize: 3})
				require.NoError(t, err)

				const acct = gdprkit.AccountID("acme")
				h.seedSubject(t, acct, "ana", 4, 3)
				h.seedSubject(t, acct, "bob", 2, 2)
				_, err = h.db.Exec(h.rebind("UPDATE hd_messages SET author_id = ? WHERE account_id = ? AND id = (SELECT MIN(id) FROM hd_messages WHERE account_id = ? AND author_id = ?)"),
					"ana", string(acct), string(acct), "bob")
				require.NoError(t, err)
				_, err = cs.DefinePurpose(ctx, acct, consent.Purpose{Key: "chat", Name: "Chat"})
				require.NoError(t, err)
				_, err = cs.PublishPolicy(ctx, acct, "chat", "We keep chats.", false, "admin")
				require.NoError(t, err)
				for range 4 {
					_, err = cs.Grant(ctx, acct, consent.Decision{Subject: "ana", Purpose: "chat", Source: consent.SourcePreChat, IP: netip.MustParseAddr("192.0.2.7")})
					require.NoError(t, err)
				}
				require.NoError(t, auth.CreateUser(ctx, acct, "ana", "ana-login", "a long enough passphrase 42"))

				p, err := svc.Plan(ctx, acct, "ana", "", nil)
				require.NoError(t, err)
				b, _ := json.Marshal(p.Targets)
				out.plan = string(b)
				var buf bytes.Buffer
				_, err = svc.ExportSubject(ctx, acct, "ana", &buf)
				require.NoError(t, err)
				var doc struct {
					Data map[string][]json.RawMessage `json:"data"`
				}
				require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
				// Consent records carry random IDs and salts: compare
				// how many there are.
				out.consents = len(doc.Data["consent"])
				delete(doc.Data, "consent")
				b, _ = json.Marshal(doc.Data)
				out.export = string(b)

				r, err := svc.Submit(ctx, acct, erasure.Submission{Type: erasure.TypeErasure, Subject: "ana", By: "admin", Verified: true})
				require.NoError(t, err)
				_, errs := svc.RunUntilIdle(ctx, "w")
				require.Empty(t, errs)
				rc, err := svc.Receipt(ctx, acct, r.ID)
				require.NoError(t, err)
				b, _ = json.Marshal(rc.Targets)
				out.receipt = string(b)
				var rows []string
				for _, tb := range []string{"hd_users", "hd_tickets", "hd_messages", "hd_attachments"} {
					rows = append(rows, tb+":"+strings.Repeat("x", h.count(t, "SELECT COUNT(*) FROM "+tb+" WHERE account_id = ?", "acme")))
				}
				rows = append(rows, "former:"+strings.Repeat("x", h.count(t, "SELECT COUNT(*) FROM hd_messages WHERE account_id = ? AND author_name = ?", "acme", "Former user")))
				out.rows = strings.Join(rows, " ")
				require.NoError(t, h.blobs.Walk(ctx, acct, "", func(string, int64) error { out.files++; return nil }))
				return out
			}
			bare, wrapped := run(false), run(true)
			assert.Equal(t, bare.caps, wrapped.caps, "capabilities")
			assert.Equal(t, bare.plan, wrapped.plan, "plan")
			assert.Equal(t, bare.export, wrapped.export, "export")
			assert.Equal(t, bare.receipt, wrapped.receipt, "receipt")
			assert.Equal(t, bare.rows, wrapped.rows, "rows left")
			assert.Equal(t, bare.files, wrapped.files, "files left")
			assert.Equal(t, 4, bare.consents)
			assert.Equal(t, bare.consents, wrapped.consents)
			assert.Contains(t, bare.receipt, `"kind":"consent","action":"anonymize","deleted":0,"anonymized":4`)
			assert.Contains(t, bare.receipt, `"kind":"credentials","action":"delete","deleted":1`)
			assert.Equal(t, 2, bare.files, "bob's files stay")
		})
	}
}
