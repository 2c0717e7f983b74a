package hostfixture

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// The fixtures exist to carry hazards; these tests keep every one of them
// in the data, so a later edit cannot quietly make the fixtures easy. They
// read the SQLite snapshot: TestSeedIsTheSameOnEveryDialect shows the
// other dialects hold the same rows.

func filter(t *Table, keep func(Row) bool) []Row {
	var out []Row
	for _, r := range t.Sorted() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func one(t *testing.T, tb *Table, col, v string) Row {
	t.Helper()
	rs := tb.Where(col, v)
	require.Len(t, rs, 1, "%s.%s = %s", tb.Name, col, v)
	return rs[0]
}

func jsonInts(t *testing.T, v Value) []int64 {
	t.Helper()
	if v.Null {
		return nil
	}
	var out []int64
	require.NoError(t, json.Unmarshal([]byte(v.Text), &out))
	return out
}

func in(id string, want []int64) bool {
	for _, w := range want {
		if itoa(w) == id {
			return true
		}
	}
	return false
}

func TestConvoCarriesItsHazards(t *testing.T) {
	d := sqlstore.SQLite
	db, s := seeded(t, d, Convo)
	snapshot := snap(t, db.DB, d, s.BlobDir)
	cs := s.Convo
	ann, sam := s.SubjectCustomer, s.SubjectAgent
	users, msgs, convs, atts := snapshot.Table("users"), snapshot.Table("messages"), snapshot.Table("conversations"), snapshot.Table("attachments")

	t.Run("people are who Seeded says", func(t *testing.T) {
		for _, p := range s.People() {
			r := one(t, users, "id", itoa(p.ID))
			assert.Equal(t, Text(p.Name), r.Get("name"))
			assert.Equal(t, Text(p.Role), r.Get("role"))
			assert.Equal(t, Text(itoa(p.AccountID)), r.Get("account_id"))
			if p.Email != "" {
				assert.Equal(t, Text(p.Email), r.Get("email"))
			}
		}
		assert.Len(t, s.People(), users.Len())
		assert.Equal(t, ann.Email, cs.OtherAccountCustomer.Email, "the other account holds a copy with the same address")
		assert.Equal(t, sam.Email, cs.OtherAccountAgent.Email)
		assert.NotEqual(t, ann.AccountID, cs.OtherAccountCustomer.AccountID)
		assert.Equal(t, s.ReassignTo.AccountID, sam.AccountID)
		assert.Len(t, filter(users, func(r Row) bool { return r.Get("account_id").Text == itoa(cs.TrialAccount) }), 1)
	})

	t.Run("message ids equal other users' ids", func(t *testing.T) {
		require.NotEmpty(t, cs.MessageIDsEqualToUserIDs)
		for _, m := range cs.MessageIDsEqualToUserIDs {
			msg := one(t, msgs, "id", itoa(m))
			assert.True(t, in(msg.Get("conversation_id").Text, cs.CustomerConversations))
			files := filter(atts, func(r Row) bool { return r.Get("model_type").Text == "message" && r.Get("model_id").Text == itoa(m) })
			assert.NotEmpty(t, files, "message %d has a file", m)
			assert.NotEqual(t, ann.ID, m)
			avatar := filter(atts, func(r Row) bool { return r.Get("model_type").Text == "user" && r.Get("model_id").Text == itoa(m) })
			assert.Len(t, avatar, 1, "user %d, a bystander, has an avatar", m)
			for _, f := range avatar {
				assert.Contains(t, s.BystanderFiles(), f.Get("file_key").Text)
			}
		}
		m := cs.UserIDEqualToMessageID
		assert.Equal(t, ann.ID, m)
		msg := one(t, msgs, "id", itoa(m))
		assert.False(t, in(msg.Get("conversation_id").Text, cs.CustomerConversations))
		files := filter(atts, func(r Row) bool { return r.Get("model_type").Text == "message" && r.Get("model_id").Text == itoa(m) })
		require.Len(t, files, 1)
		assert.Contains(t, s.BystanderFiles(), files[0].Get("file_key").Text)
	})

	t.Run("the subject customer inside other people's rows", func(t *testing.T) {
		others := func(r Row) bool { return !in(r.Get("conversation_id").Text, cs.CustomerConversations) }
		inEnvelope := filter(msgs, func(r Row) bool { return others(r) && strings.Contains(r.Get("content_attributes").Text, ann.Email) })
		assert.GreaterOrEqual(t, len(inEnvelope), 3, "cc and bcc of other conversations")
		var bcc bool
		for _, r := range inEnvelope {
			var env struct{ BCC []string }
			require.NoError(t, json.Unmarshal([]byte(r.Get("content_attributes").Text), &env))
			bcc = bcc || slices.Contains(env.BCC, ann.Email)
		}
		assert.True(t, bcc, "in a bcc list")
		named := filter(msgs, func(r Row) bool { return others(r) && strings.Contains(r.Get("content").Text, ann.Name) })
		assert.GreaterOrEqual(t, len(named), 4, "named in bodies, quoted replies and notes others wrote")
		quoted := filter(msgs, func(r Row) bool {
			return others(r) && strings.Contains(r.Get("content").Text, "Ann Weber <ann.weber@mailbox.example> wrote:")
		})
		assert.GreaterOrEqual(t, len(quoted), 2, "quoted replies")
		ccLine := filter(msgs, func(r Row) bool {
			return others(r) && strings.Contains(r.Get("content").Text, "\nCc: Ann Weber <"+ann.Email+">")
		})
		assert.NotEmpty(t, ccLine, "a Cc line inside a quoted mail")
		signed := filter(msgs, func(r Row) bool {
			return others(r) && r.Get("sender_id").Text != itoa(sam.ID) && strings.Contains(r.Get("content").Text, sam.Name)
		})
		assert.NotEmpty(t, signed, "the agent named in text others wrote")
		sigs := filter(msgs, func(r Row) bool {
			return r.Get("sender_id").Text == itoa(sam.ID) && strings.Contains(r.Get("content").Text, "Sam Carter\nBrightwater Bikes support")
		})
		assert.GreaterOrEqual(t, len(sigs), 4, "his signature inside message bodies")
		watching := filter(convs, func(r Row) bool {
			return !in(r.Get("id").Text, cs.CustomerConversations) && slices.Contains(jsonInts(t, r.Get("watcher_ids")), ann.ID)
		})
		assert.GreaterOrEqual(t, len(watching), 2, "in other conversations' watcher lists")
		joann := filter(users, func(r Row) bool { return r.Get("name").Text == "Joann Weber" })[0]
		assert.True(t, strings.HasSuffix(joann.Get("email").Text, ann.Email), "a bystander's address ends with the subject's")
		assert.Contains(t, joann.Get("custom_attributes").Text, ann.Name)
		assert.NotEmpty(t, filter(snapshot.Table("notifications"), func(r Row) bool { return r.Get("actor_id").Text == itoa(ann.ID) }))
		assert.NotEmpty(t, snapshot.Table("audits").Where("auditable_id", itoa(ann.ID)))
	})

	t.Run("the subject customer's own data", func(t *testing.T) {
		me := itoa(ann.ID)
		for table, col := range map[string]string{"contact_identities": "user_id", "contact_inboxes": "contact_id", "sessions": "user_id",
			"notes": "contact_id", "csat_survey_responses": "contact_id", "conversations": "contact_id", "messages": "sender_id"} {
			assert.NotEmpty(t, snapshot.Table(table).Where(col, me), table)
		}
		assert.NotEmpty(t, one(t, users, "id", me).Get("avatar_key").Text)
		assert.Len(t, cs.CustomerConversations, 3)
		for _, c := range cs.CustomerConversations {
			assert.Equal(t, Text(me), one(t, convs, "id", itoa(c)).Get("contact_id"))
		}
		for _, id := range cs.OtherDraftsInCustomerConversations {
			r := one(t, snapshot.Table("drafts"), "id", itoa(id))
			assert.True(t, in(r.Get("conversation_id").Text, cs.CustomerConversations))
			assert.NotEqual(t, Text(me), r.Get("user_id"))
		}
		for _, id := range cs.AssistantPromptsInCustomerConversations {
			r := one(t, snapshot.Table("assistant_prompts"), "id", itoa(id))
			assert.True(t, in(r.Get("conversation_id").Text, cs.CustomerConversations))
		}
		assert.NotEmpty(t, filter(msgs, func(r Row) bool {
			return in(r.Get("conversation_id").Text, cs.CustomerConversations) && r.Get("private").Text == "true"
		}), "private notes in her conversations")
	})

	t.Run("the subject agent's work", func(t *testing.T) {
		me := itoa(sam.ID)
		for _, c := range cs.AgentOpenConversations {
			r := one(t, convs, "id", itoa(c))
			assert.Equal(t, Text(me), r.Get("assignee_id"))
			assert.Contains(t, []string{"open", "pending"}, r.Get("status").Text)
		}
		for _, c := range cs.AgentClosedConversations {
			r := one(t, convs, "id", itoa(c))
			assert.Equal(t, Text(me), r.Get("assignee_id"))
			assert.Equal(t, Text("resolved"), r.Get("status"))
		}
		require.NotEmpty(t, cs.AgentOpenConversations)
		require.NotEmpty(t, cs.AgentClosedConversations)
		for _, m := range cs.AgentRepliesElsewhere {
			r := one(t, msgs, "id", itoa(m))
			assert.Equal(t, Text(me), r.Get("sender_id"))
			assert.False(t, in(r.Get("conversation_id").Text, cs.CustomerConversations))
		}
		for _, m := range cs.AgentPrivateNotes {
			r := one(t, msgs, "id", itoa(m))
			assert.Equal(t, Text(me), r.Get("sender_id"))
			assert.Equal(t, Text("true"), r.Get("private"))
		}
		for _, id := range cs.AgentDrafts {
			assert.Equal(t, Text(me), one(t, snapshot.Table("drafts"), "id", itoa(id)).Get("user_id"))
		}
		// Several user columns on one table point at him.
		assert.NotEmpty(t, convs.Where("created_by_id", me))
		assert.NotEmpty(t, convs.Where("resolved_by_id", me))
		assert.NotEmpty(t, users.Where("invited_by_id", me), "he invited a colleague")
		assert.NotEmpty(t, snapshot.Table("canned_responses").Where("created_by_id", me), "a NO ACTION reference holds his row")
		assert.NotEmpty(t, snapshot.Table("mentions").Where("user_id", me))
		assert.NotEmpty(t, filter(msgs, func(r Row) bool { return slices.Contains(jsonInts(t, r.Get("mentioned_user_ids")), sam.ID) }))
		assert.NotEmpty(t, filter(snapshot.Table("csat_survey_responses"), func(r Row) bool { return strings.Contains(r.Get("feedback_message").Text, sam.Name) }))
		assert.NotEmpty(t, snapshot.Table("audits").Where("user_id", me), "a plain integer reference")
	})

	t.Run("files", func(t *testing.T) {
		require.Len(t, snapshot.Files, len(s.Files))
		for _, f := range s.Files {
			assert.Contains(t, snapshot.Files, f.Path)
		}
		for _, r := range atts.Rows {
			key := r.Get("file_key").Text
			assert.Contains(t, snapshot.Files, key)
			assert.Equal(t, Text(snapshot.Files[key]), r.Get("checksum"))
			assert.Regexp(t, `^uploads/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f-]{36}-`, key)
		}
		for _, r := range users.Rows {
			if k := r.Get("avatar_key"); !k.Null {
				assert.Contains(t, snapshot.Files, k.Text)
			}
		}
		subject := s.SubjectCustomerFiles()
		assert.Len(t, subject, 4, "her avatar, its variant, the two files of her conversation")
		assert.Equal(t, len(s.Files), len(subject)+len(s.BystanderFiles()))
	})
}

func TestRestrictCarriesItsHazards(t *testing.T) {
	d := sqlstore.SQLite
	db, s := seeded(t, d, Restrict)
	snapshot := snap(t, db.DB, d, s.BlobDir)
	rs := s.Restrict
	bernd, nina := s.SubjectCustomer, s.SubjectAgent
	tickets, mime := snapshot.Table("ticket"), snapshot.Table("article_data_mime")
	articles := snapshot.Table("article")
	ticketOf := map[string]string{}
	for _, r := range articles.Rows {
		ticketOf[r.Get("id").Text] = r.Get("ticket_id").Text
	}
	othersTicket := func(id string) bool { return !in(id, rs.CustomerTickets) }

	t.Run("schema shape", func(t *testing.T) {
		fks, err := ForeignKeys(Restrict)
		require.NoError(t, err)
		audit := 0
		for _, k := range fks {
			assert.Equal(t, "NO ACTION", k.OnDelete, "%s", k)
			if k.RefTable == "users" && (k.Column == "create_by" || k.Column == "change_by") {
				audit++
			}
		}
		assert.GreaterOrEqual(t, audit, 25, "create_by/change_by references to users")
		defs, err := Tables(Restrict)
		require.NoError(t, err)
		var noPK []string
		for _, td := range defs {
			if len(td.PrimaryKey) == 0 {
				noPK = append(noPK, td.Name)
			}
		}
		assert.GreaterOrEqual(t, len(noPK), 5, "%v", noPK)
		for _, k := range fks {
			assert.NotEqual(t, "customer_user", k.RefTable, "customers are referenced by login only")
		}
	})

	t.Run("people are who Seeded says", func(t *testing.T) {
		for _, p := range s.People() {
			r := one(t, snapshot.Table(p.Table), "id", itoa(p.ID))
			assert.Equal(t, Text(p.Login), r.Get("login"))
			if p.Table == "customer_user" {
				assert.Equal(t, Text(p.Email), r.Get("email"))
			} else if p.Email != "" {
				prefs := filter(snapshot.Table("user_preferences"), func(x Row) bool {
					return x.Get("user_id").Text == itoa(p.ID) && x.Get("preferences_key").Text == "UserEmail"
				})
				require.Len(t, prefs, 1)
				assert.Equal(t, Text(p.Email), prefs[0].Get("preferences_value"))
			}
		}
		assert.Len(t, s.People(), snapshot.Table("users").Len()+snapshot.Table("customer_user").Len())
		assert.Regexp(t, `^[0-9]+$`, rs.NumericLoginCustomer.Login)
		assert.True(t, strings.HasPrefix("bkrause2", bernd.Login), "a bystander's login starts with the subject's")
	})

	t.Run("the subject customer inside other people's rows", func(t *testing.T) {
		inCc := filter(mime, func(r Row) bool {
			return othersTicket(ticketOf[r.Get("article_id").Text]) && strings.Contains(r.Get("a_cc").Text, bernd.Email)
		})
		assert.NotEmpty(t, inCc, "a_cc of other customers' articles")
		named := filter(mime, func(r Row) bool {
			return othersTicket(ticketOf[r.Get("article_id").Text]) && strings.Contains(r.Get("a_body").Text, bernd.Name)
		})
		assert.GreaterOrEqual(t, len(named), 4, "bodies and notes others wrote")
		plain := filter(snapshot.Table("article_data_mime_plain"), func(r Row) bool {
			return othersTicket(ticketOf[r.Get("article_id").Text]) && strings.Contains(r.Get("body").Text, bernd.Email)
		})
		assert.NotEmpty(t, plain, "raw mail")
		index := filter(snapshot.Table("article_search_index"), func(r Row) bool {
			return othersTicket(r.Get("ticket_id").Text) && strings.Contains(r.Get("article_value").Text, bernd.Email)
		})
		assert.NotEmpty(t, index, "search index")
		history := filter(snapshot.Table("ticket_history"), func(r Row) bool {
			return othersTicket(r.Get("ticket_id").Text) && strings.Contains(r.Get("name").Text, bernd.Email)
		})
		assert.NotEmpty(t, history, "history lines")
		queue := filter(snapshot.Table("mail_queue"), func(r Row) bool {
			return othersTicket(ticketOf[r.Get("article_id").Text]) && strings.Contains(r.Get("recipient").Text, bernd.Email)
		})
		assert.NotEmpty(t, queue, "outgoing mail to others, Cc him")
	})

	t.Run("the subject customer's own data", func(t *testing.T) {
		for _, id := range rs.CustomerTickets {
			assert.Equal(t, Text(bernd.Login), one(t, tickets, "id", itoa(id)).Get("customer_user_id"))
		}
		assert.Len(t, tickets.Where("customer_user_id", bernd.Login), len(rs.CustomerTickets))
		assert.NotEmpty(t, snapshot.Table("customer_preferences").Where("user_id", bernd.Login))
		for _, sid := range rs.CustomerSessions {
			group := snapshot.Table("sessions").Where("session_id", sid)
			assert.Greater(t, len(group), 5)
			owner := filter(snapshot.Table("sessions"), func(r Row) bool { return r.Get("session_id").Text == sid && r.Get("data_key").Text == "UserLogin" })
			require.Len(t, owner, 1)
			assert.Equal(t, Text(bernd.Login), owner[0].Get("data_value"))
		}
		var attached int
		for _, r := range snapshot.Table("article_data_mime_attachment").Rows {
			if !othersTicket(ticketOf[r.Get("article_id").Text]) {
				attached++
				_, err := base64.StdEncoding.DecodeString(r.Get("content").Text)
				assert.NoError(t, err)
			}
		}
		assert.Equal(t, 1, attached, "an attachment stored as base64 in the database")
		for _, a := range rs.FSArticles {
			assert.Empty(t, snapshot.Table("article_data_mime_plain").Where("article_id", itoa(a)), "stored as a file instead")
			var n int
			for p := range snapshot.Files {
				if regexp.MustCompile(`^var/article/\d{4}/\d{2}/\d{2}/` + itoa(a) + `/`).MatchString(p) {
					n++
				}
			}
			assert.NotZero(t, n, "article %d has files", a)
		}
		assert.ElementsMatch(t, s.SubjectCustomerFiles(), func() []string {
			var out []string
			for p := range snapshot.Files {
				out = append(out, p)
			}
			return out
		}(), "every file on disk belongs to his old ticket")
		dfv := snapshot.Table("dynamic_field_value")
		assert.NotEmpty(t, filter(dfv, func(r Row) bool { return strings.Contains(r.Get("value_text").Text, bernd.Name) }),
			"an article field value (object_id an article id) names him")
	})

	t.Run("the subject agent's work", func(t *testing.T) {
		me := itoa(nina.ID)
		closedStates := map[string]bool{}
		for _, st := range snapshot.Table("ticket_state").Rows {
			typ := one(t, snapshot.Table("ticket_state_type"), "id", st.Get("type_id").Text).Get("name").Text
			if typ == "closed" || typ == "merged" || typ == "removed" {
				closedStates[st.Get("id").Text] = true
			}
		}
		for _, id := range rs.AgentOpenTickets {
			r := one(t, tickets, "id", itoa(id))
			assert.Equal(t, Text(me), r.Get("user_id"))
			assert.False(t, closedStates[r.Get("ticket_state_id").Text])
		}
		for _, id := range rs.AgentClosedTickets {
			r := one(t, tickets, "id", itoa(id))
			assert.Equal(t, Text(me), r.Get("user_id"))
			assert.True(t, closedStates[r.Get("ticket_state_id").Text])
		}
		for _, a := range rs.AgentArticlesElsewhere {
			r := one(t, articles, "id", itoa(a))
			assert.Equal(t, Text(me), r.Get("create_by"))
			assert.True(t, othersTicket(r.Get("ticket_id").Text))
		}
		for _, a := range rs.AgentNotes {
			assert.Equal(t, Text("0"), one(t, articles, "id", itoa(a)).Get("is_visible_for_customer"))
		}
		for _, id := range rs.AgentDrafts {
			assert.Equal(t, Text(me), one(t, snapshot.Table("form_draft"), "id", itoa(id)).Get("create_by"))
		}
		// His row is held by many references: count the foreign keys into
		// users that at least one row uses to name him.
		fks, err := ForeignKeys(Restrict)
		require.NoError(t, err)
		holding := 0
		for _, k := range fks {
			if k.RefTable == "users" && len(snapshot.Table(k.Table).Where(k.Column, me)) > 0 {
				holding++
			}
		}
		assert.GreaterOrEqual(t, holding, 25)
		dup := filter(snapshot.Table("group_user"), func(r Row) bool { return r.Get("user_id").Text == me && r.Count == 2 })
		assert.Len(t, dup, 1, "a duplicated row of his")
	})
}
