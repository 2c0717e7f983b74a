package sqltarget_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// restrictHost is the restrict fixture bound the guide's way.
func restrictHost(t *testing.T, d sqldb.Dialect) (*host, sqltarget.Config) {
	h := newHost(t, d, hostfixture.Restrict)
	cfg := restrictBinding(h.db.DB, d, h.files)
	dir, err := restrictPeople(ctx, h.db.DB, d)
	require.NoError(t, err)
	h.bind(cfg, dir)
	return h, cfg
}

// The naive binding of a schema where every foreign key is NO ACTION is
// refused before any write: each delete the database would refuse, and
// each table the graph forgot, is named.
func TestRestrictNaiveBindingIsRefused(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHost(t, d, hostfixture.Restrict)
			before := h.snapshot()
			_, err := sqltarget.Bind(ctx, sqltarget.Config{DB: h.db.DB, Dialect: d, Specs: []sqltarget.Spec{
				{Kind: erasure.KindEndUser, Table: "customer_user", Key: "login", SubjectColumn: "login"},
				{Kind: erasure.KindTicket, Parent: erasure.KindEndUser, Table: "ticket", Key: "id", ParentColumn: "customer_user_id"},
				{Kind: erasure.KindMessage, Parent: erasure.KindTicket, Table: "article", Key: "id", ParentColumn: "ticket_id"},
				{Kind: "history", Parent: erasure.KindTicket, Table: "ticket_history", Key: "id", ParentColumn: "ticket_id"},
				{Kind: erasure.KindAgentProfile, Table: "users", Key: "id", SubjectColumn: "id"},
			}})
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			got := classes(err)
			for _, want := range []string{
				"refused article_data_mime.article_id",   // deleting articles: their MIME rows are bound by nobody
				"refused ticket_history.article_id",      // history lines point at articles: bound under tickets only
				"refused article_search_index.ticket_id", // the search index
				"refused ticket_watcher.ticket_id",
				"refused group_user.user_id", // deleting an agent: 67 foreign keys refuse it
				"refused ticket.user_id",
				"coverage user_preferences.user_id", // you forgot table user_preferences
			} {
				assert.Contains(t, got, want)
			}
			assert.True(t, hostfixture.Compare(before, h.snapshot()).Empty(), "nothing was written")
		})
	}
}

// Erasing the subject customer (keyed by login, in a table of its own):
// plan = receipt = what changed; his tickets with all they hold — MIME
// rows, raw mail and search index rows without keys, history, files kept
// on disk — go; his session (key/value rows) goes as a group; other
// people's text loses his name and addresses; his wife's login, which
// starts with his, is untouched.
func TestRestrictCustomerErasure(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h, cfg := restrictHost(t, d)
			bernd, rs := h.seed.SubjectCustomer, h.seed.Restrict
			plan, rc, diff := h.erase("atlas", gdprkit.SubjectID("customer:"+bernd.Login), "agent:1", "")
			assertPlanReceiptActual(t, cfg, plan, rc, diff)
			assert.False(t, rc.Partial)
			assert.Equal(t, strs(rs.CustomerTickets), idsOf(diff.Table("ticket").Deleted))
			assert.Equal(t, []string{"login=" + bernd.Login}, func() []string {
				var out []string
				for _, r := range diff.Table("customer_user").Deleted {
					out = append(out, "login="+r.Get("login").Text)
				}
				return out
			}())
			sessions := diff.Table("sessions")
			for _, r := range sessions.Deleted {
				assert.Contains(t, rs.CustomerSessions, r.Get("session_id").Text, "only his session's rows go")
			}
			assert.NotEmpty(t, sessions.Deleted)
			var files []string
			for _, f := range diff.Files {
				assert.Equal(t, "deleted", f.Change)
				files = append(files, f.Path)
			}
			want := h.seed.SubjectCustomerFiles()
			sort.Strings(want)
			sort.Strings(files)
			assert.Equal(t, want, files, "the files of his old articles, kept on disk")
			for _, td := range diff.ByTable {
				for _, c := range td.Changed {
					for _, col := range c.Columns {
						assert.NotContains(t, strings.ToLower(col.After.Text), strings.ToLower(bernd.Email))
						assert.NotContains(t, col.After.Text, bernd.Name)
						assert.Equal(t, strings.Count(col.Before.Text, "bkrause2"), strings.Count(col.After.Text, "bkrause2"), "his wife's login stays whole")
					}
				}
			}
			left, err := h.svc.FindResidue(ctx, "atlas", []erasure.Identifier{{Kind: "email", Value: bernd.Email}, {Kind: "name", Value: bernd.Name}, {Kind: "login", Value: bernd.Login}})
			require.NoError(t, err)
			assert.Empty(t, left, "nothing of him is left")
		})
	}
}

// Erasing the subject agent: her users row, referenced by 67 NO ACTION
// foreign keys, is anonymised in place and marked invalid; her open
// tickets go to the agent named (through a predicate on the state's type),
// closed ones keep their now-anonymous owner; her session, preferences,
// groups and drafts go.
func TestRestrictAgentErasure(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h, cfg := restrictHost(t, d)
			nina, mia, rs := h.seed.SubjectAgent, h.seed.ReassignTo, h.seed.Restrict
			plan, rc, diff := h.erase("atlas", gdprkit.SubjectID(fmt.Sprint("agent:", nina.ID)), "agent:1", gdprkit.SubjectID(fmt.Sprint("agent:", mia.ID)))
			assertPlanReceiptActual(t, cfg, plan, rc, diff)
			assert.Empty(t, diff.Table("users").Deleted)
			assert.Empty(t, diff.Table("ticket").Deleted)
			assert.Empty(t, diff.Table("article").Deleted, "her articles in other people's tickets stay")
			var ninaRow hostfixture.RowChange
			for _, c := range diff.Table("users").Changed {
				if c.Key == fmt.Sprint("id=", nina.ID) {
					ninaRow = c
				}
			}
			assert.Equal(t, "2", ninaRow.After.Get("valid_id").Text, "marked invalid")
			assert.NotEqual(t, nina.Login, ninaRow.After.Get("login").Text)
			tickets := map[string]hostfixture.RowChange{}
			for _, c := range diff.Table("ticket").Changed {
				tickets[strings.TrimPrefix(c.Key, "id=")] = c
			}
			for _, id := range rs.AgentOpenTickets {
				assert.Equal(t, fmt.Sprint(mia.ID), tickets[fmt.Sprint(id)].After.Get("user_id").Text, "open ticket %d goes to the agent named", id)
			}
			for _, id := range rs.AgentClosedTickets {
				_, changed := tickets[fmt.Sprint(id)]
				assert.False(t, changed && tickets[fmt.Sprint(id)].After.Get("user_id").Text != fmt.Sprint(nina.ID), "closed ticket %d keeps its owner", id)
			}
			for _, r := range diff.Table("sessions").Deleted {
				assert.Contains(t, rs.AgentSessions, r.Get("session_id").Text)
			}
			left, err := h.svc.FindResidue(ctx, "atlas", []erasure.Identifier{{Kind: "email", Value: nina.Email}, {Kind: "name", Value: nina.Name}, {Kind: "login", Value: nina.Login}})
			require.NoError(t, err)
			assert.Empty(t, left, "nothing of her is left")
		})
	}
}

// Coverage is what a host's CI runs: the restrict binding has no problem,
// every kind acts after the rows that reference it, and the report says
// why, foreign key by foreign key.
func TestRestrictCoverageReport(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHost(t, d, hostfixture.Restrict)
			rep, err := sqltarget.Coverage(ctx, restrictBinding(h.db.DB, d, h.files))
			require.NoError(t, err)
			require.NoError(t, rep.Err())
			at := map[erasure.Kind]int{}
			for i, k := range rep.Kinds {
				at[k] = i
			}
			for _, pair := range [][2]erasure.Kind{{"mime", "article"}, {"article_index", "article"}, {"article_history", "article"},
				{"article", "ticket"}, {"ticket_index", "ticket"}, {"ticket", "customer"}, {"agent_prefs", "agent"}} {
				assert.Less(t, at[pair[0]], at[pair[1]], "%s acts before %s", pair[0], pair[1])
			}
			assert.NotEmpty(t, rep.Order)
			ignored := 0
			for _, r := range rep.References {
				if r.Ignored {
					ignored++
					assert.Empty(t, r.By)
				}
			}
			assert.Positive(t, ignored, "the create_by/change_by keys the binding ignores are reported as ignored")
		})
	}
}
