package hostfixture

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// ConvoSeed names the rows of the Convo fixture a test needs, all in the
// subjects' account unless named otherwise.
type ConvoSeed struct {
	// Account is the subjects' account; OtherAccount holds copies of both
	// subjects (same e-mail addresses, same phone); TrialAccount is a fresh
	// account with only its owner.
	Account, OtherAccount, TrialAccount int64
	// OtherAccountCustomer and OtherAccountAgent are the subjects' copies
	// in OtherAccount: bystanders whom an erasure in Account must not touch.
	OtherAccountCustomer, OtherAccountAgent Person
	// CustomerConversations are the subject customer's conversations.
	CustomerConversations []int64
	// CustomerMessages are the messages the subject customer sent.
	CustomerMessages []int64
	// AgentOpenConversations and AgentClosedConversations are assigned to
	// the subject agent (open or pending; resolved).
	AgentOpenConversations, AgentClosedConversations []int64
	// AgentRepliesElsewhere are the subject agent's messages in other
	// contacts' conversations (a cascade on messages.sender_id deletes
	// them).
	AgentRepliesElsewhere []int64
	// AgentPrivateNotes are the subject agent's private notes (messages
	// with private = true).
	AgentPrivateNotes []int64
	// AgentDrafts are the subject agent's drafts (drafts.id).
	AgentDrafts []int64
	// OtherDraftsInCustomerConversations are drafts other agents keep in
	// the subject customer's conversations: internal, never exported to the
	// customer.
	OtherDraftsInCustomerConversations []int64
	// AssistantPromptsInCustomerConversations are assistant_prompts rows in
	// the subject customer's conversations (written by agents; internal).
	AssistantPromptsInCustomerConversations []int64
	// MessageIDsEqualToUserIDs are IDs of messages with attachments in
	// the subject customer's conversations that equal the IDs of other
	// users with an avatar: an attachments binding without a model_type
	// filter deletes those users' avatar files.
	MessageIDsEqualToUserIDs []int64
	// UserIDEqualToMessageID is a message ID, of another contact's message
	// with an attachment, equal to the subject customer's user ID: an
	// avatar binding without a model_type filter deletes that file.
	UserIDEqualToMessageID int64
}

// convoStart is Monday 4 March 2024, 09:00 UTC.
var convoStart = time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)

// at is convoStart plus days, hours and minutes.
func at(days, hours, minutes int) time.Time {
	return convoStart.Add(time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour + time.Duration(minutes)*time.Minute)
}

type convoBuilder struct {
	*builder
	ids     map[string]int64 // last id per table
	users   map[int64]Person
	inboxOf map[int64]int64 // inbox -> account
	ci      map[[2]int64]int64
	seed    ConvoSeed
	people  []Person
}

func (c *convoBuilder) next(table string) int64 {
	c.ids[table]++
	return c.ids[table]
}

var (
	userCols = []string{"id", "account_id", "role", "name", "display_name", "email", "phone_number", "signature", "avatar_key",
		"custom_attributes", "encrypted_password", "availability", "invited_by_id", "last_seen_at", "created_at", "updated_at",
		"deleted_at", "erased_at"}
	attachmentCols = []string{"id", "account_id", "model_type", "model_id", "file_type", "file_key", "file_name", "content_type",
		"byte_size", "checksum", "created_at"}
	conversationCols = []string{"id", "account_id", "inbox_id", "display_id", "contact_id", "contact_inbox_id", "assignee_id",
		"created_by_id", "resolved_by_id", "status", "priority", "subject", "watcher_ids", "additional_attributes",
		"last_activity_at", "created_at", "updated_at"}
	messageCols = []string{"id", "account_id", "conversation_id", "inbox_id", "sender_id", "message_type", "content_type", "private",
		"status", "content", "content_attributes", "mentioned_user_ids", "source_id", "created_at", "updated_at"}
)

// ConvoVariantKey is where the Convo app keeps the resized variant of the
// image stored at key ("uploads/ab/cd/<uuid>-<name>"):
// "uploads/variants/<uuid>/thumb-64.jpg". No row names it; a binding finds
// it from the original's key, as the app does.
func ConvoVariantKey(key string) string {
	base := path.Base(key)
	if len(base) < 36 {
		return ""
	}
	return path.Join("uploads", "variants", base[:36], "thumb-64.jpg")
}

// uploadKey is the host's own upload layout: uploads/ab/cd/<uuid>-<name>.
func uploadKey(seed, name string) string {
	u := stableUUID("convo|" + seed)
	return path.Join("uploads", u[0:2], u[2:4], u+"-"+name)
}

type userSpec struct {
	account             int64
	role, name, display string
	email, phone        string
	signature           string
	avatar              string // avatar file name; "" for none
	custom              map[string]any
	invitedBy           int64
	created             time.Time
	lastSeen            time.Time
	deleted             bool
	// subject marks the subject customer, whose avatar erasure removes.
	subject bool
}

func (c *convoBuilder) user(u userSpec) Person {
	id := c.next("users")
	var avatarKey any
	if u.avatar != "" {
		key := uploadKey(fmt.Sprintf("avatar|%d", id), u.avatar)
		avatarKey = key
		content := fileContent(u.avatar, fmt.Sprintf("avatar of %s", u.name))
		c.attachment(u.account, "user", id, "image", key, u.avatar, "image/jpeg", content, u.created.Add(time.Hour), u.subject)
		// The app keeps a resized variant beside the original; no row
		// names it: it is found only from the original's key (the UUID in
		// it), as ActiveStorage-style variants are.
		vkey := ConvoVariantKey(key)
		c.files = append(c.files, seedFile{File: File{Path: vkey, Of: fmt.Sprintf("variant of user %d", id), SubjectCustomer: u.subject},
			content: fileContent("thumb.jpg", fmt.Sprintf("64px avatar of %s", u.name))})
	}
	var pw, avail, sig any
	if u.role != "contact" {
		pw = "$2a$11$" + stableHex("pw|"+u.email, 53)
		avail = "offline"
	}
	if u.signature != "" {
		sig = u.signature
	}
	var custom any
	if u.custom != nil {
		custom = jsonDoc{u.custom}
	}
	var deleted any
	if u.deleted {
		deleted = at(-3, 0, 0)
	}
	c.add("users", userCols, id, u.account, u.role, u.name, nullable(u.display), nullable(u.email), nullable(u.phone), sig, avatarKey,
		custom, pw, avail, nullID(u.invitedBy), nullTime(u.lastSeen), u.created, u.created, deleted, nil)
	p := Person{Table: "users", ID: id, Name: u.name, Email: u.email, Phone: u.phone, Role: u.role, AccountID: u.account}
	c.users[id] = p
	c.people = append(c.people, p)
	return p
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (c *convoBuilder) attachment(account int64, modelType string, modelID int64, fileType, key, name, ctype string, content []byte, when time.Time, subject bool) {
	id := c.next("attachments")
	c.add("attachments", attachmentCols, id, account, modelType, modelID, fileType, key, name, ctype, int64(len(content)), sha256Hex(content), when)
	c.files = append(c.files, seedFile{File: File{Path: key, Of: fmt.Sprintf("%s %d", modelType, modelID), SubjectCustomer: subject}, content: content})
}

// contactInbox returns (creating once) the contact_inboxes row of a contact
// in an inbox.
func (c *convoBuilder) contactInbox(contact Person, inbox int64, source string, when time.Time) int64 {
	k := [2]int64{contact.ID, inbox}
	if id, ok := c.ci[k]; ok {
		return id
	}
	id := c.next("contact_inboxes")
	c.add("contact_inboxes", []string{"id", "contact_id", "inbox_id", "source_id", "hmac_verified", "created_at"}, id, contact.ID, inbox, source, false, when)
	c.ci[k] = id
	return id
}

type convSpec struct {
	inbox                         int64
	display                       int
	contact                       Person
	source                        string // contact_inboxes.source_id
	assignee, createdBy, resolver Person
	status, priority, subject     string
	watchers                      []int64
	attrs                         map[string]any
	at                            time.Time
}

func (c *convoBuilder) conversation(s convSpec) int64 {
	id := c.next("conversations")
	ci := c.contactInbox(s.contact, s.inbox, s.source, s.at)
	var subject, priority any
	if s.subject != "" {
		subject = s.subject
	}
	if s.priority != "" {
		priority = s.priority
	}
	var attrs any
	if s.attrs != nil {
		attrs = jsonDoc{s.attrs}
	}
	c.add("conversations", conversationCols, id, s.contact.AccountID, s.inbox, s.display, s.contact.ID, ci, nullID(s.assignee.ID),
		nullID(s.createdBy.ID), nullID(s.resolver.ID), s.status, priority, subject, ints(s.watchers), attrs, s.at.Add(2*24*time.Hour), s.at, s.at.Add(2*24*time.Hour))
	return id
}

type msgSpec struct {
	conv, inbox int64
	sender      Person // zero for activity and template messages
	typ         string // incoming, outgoing, activity, template
	private     bool
	content     string
	to, cc, bcc []string
	inReplyTo   string
	subject     string
	mentioned   []int64
	sourceID    string
	at          time.Time
	files       []string // attachment file names
	// subject marks attachments that erasing the subject customer removes.
	subjectFiles bool
}

func (c *convoBuilder) message(account int64, m msgSpec) int64 {
	id := c.next("messages")
	var attrs any
	if m.to != nil || m.cc != nil || m.bcc != nil {
		env := map[string]any{"to": strs(m.to), "cc": strs(m.cc), "bcc": strs(m.bcc), "in_reply_to": nil}
		if m.inReplyTo != "" {
			env["in_reply_to"] = m.inReplyTo
		}
		if m.subject != "" {
			env["subject"] = m.subject
		}
		attrs = jsonDoc{env}
	}
	var mentioned any
	if m.mentioned != nil {
		mentioned = ints(m.mentioned)
	}
	contentType := "text"
	if m.to != nil && m.typ == "incoming" {
		contentType = "incoming_email"
	}
	c.add("messages", messageCols, id, account, m.conv, m.inbox, nullID(m.sender.ID), m.typ, contentType, m.private, "sent",
		m.content, attrs, mentioned, nullable(m.sourceID), m.at, m.at)
	for i, name := range m.files {
		key := uploadKey(fmt.Sprintf("message|%d|%d", id, i), name)
		ctype, ftype := "application/pdf", "file"
		if strings.HasSuffix(name, ".jpg") {
			ctype, ftype = "image/jpeg", "image"
		}
		c.attachment(account, "message", id, ftype, key, name, ctype, fileContent(name, fmt.Sprintf("%s attached to message %d", name, id)), m.at, m.subjectFiles)
	}
	for _, u := range m.mentioned {
		c.add("mentions", []string{"id", "account_id", "message_id", "user_id", "conversation_id", "mentioned_at"},
			c.next("mentions"), account, id, u, m.conv, m.at)
	}
	return id
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// buildConvo writes the Convo story: a bike shop's support inbox (account
// 1) where the contact Ann Weber and the agent Sam Carter are the
// subjects, a dental practice (account 2) where both have copies, and a
// fresh trial account.
func buildConvo() *seedData {
	c := &convoBuilder{builder: newBuilder(), ids: map[string]int64{}, users: map[int64]Person{}, inboxOf: map[int64]int64{}, ci: map[[2]int64]int64{}}
	accCols := []string{"id", "name", "domain", "support_email", "locale", "status", "created_at", "updated_at"}
	founded := time.Date(2023, 6, 1, 8, 0, 0, 0, time.UTC)
	c.add("accounts", accCols, int64(1), "Brightwater Bikes", "brightwater.example", "support@brightwater.example", "en", "active", founded, founded)
	c.add("accounts", accCols, int64(2), "Harbor Dental", "harbordental.example", "hello@harbordental.example", "en", "active", founded.AddDate(0, 2, 0), founded.AddDate(0, 2, 0))
	c.add("accounts", accCols, int64(3), "Quill & Co", "quill.example", nil, "en", "active", at(-1, 0, 0), at(-1, 0, 0))
	c.seed.Account, c.seed.OtherAccount, c.seed.TrialAccount = 1, 2, 3

	hired := founded.Add(24 * time.Hour)
	// Account 1: staff.
	olivia := c.user(userSpec{account: 1, role: "owner", name: "Olivia Brandt", display: "Olivia", email: "olivia.brandt@brightwater.example",
		phone: "+44 7700 900101", signature: "Olivia Brandt\nFounder, Brightwater Bikes", avatar: "olivia.jpg", created: founded, lastSeen: at(4, 8, 0)})
	marcus := c.user(userSpec{account: 1, role: "admin", name: "Marcus Lee", email: "marcus.lee@brightwater.example", invitedBy: olivia.ID,
		signature: "Marcus Lee\nBrightwater Bikes", created: hired, lastSeen: at(4, 9, 0)})
	sam := c.user(userSpec{account: 1, role: "agent", name: "Sam Carter", display: "Sam", email: "sam.carter@carter-support.example",
		phone: "+44 7700 900456", signature: "Sam Carter\nBrightwater Bikes support · +44 7700 900456", avatar: "sam.jpg",
		invitedBy: marcus.ID, created: hired.Add(24 * time.Hour), lastSeen: at(4, 17, 30)})
	priya := c.user(userSpec{account: 1, role: "agent", name: "Priya Nair", email: "priya.nair@brightwater.example",
		signature: "Priya Nair · Brightwater Bikes", avatar: "priya.jpg", invitedBy: marcus.ID, created: hired.Add(48 * time.Hour), lastSeen: at(4, 16, 0)})
	tom := c.user(userSpec{account: 1, role: "agent", name: "Tom Becker", email: "tom.becker@brightwater.example",
		signature: "Tom Becker\nWorkshop, Brightwater Bikes", avatar: "tom.jpg", invitedBy: sam.ID, created: hired.AddDate(0, 3, 0), lastSeen: at(4, 12, 0)})
	// Account 1: contacts.
	ann := c.user(userSpec{account: 1, role: "contact", name: "Ann Weber", email: "ann.weber@mailbox.example", phone: "+44 7700 900123",
		avatar: "ann.jpg", custom: map[string]any{"city": "Bristol", "bike": "Roadster 2", "newsletter": true}, created: at(-200, 0, 0), lastSeen: at(4, 10, 0), subject: true})
	joann := c.user(userSpec{account: 1, role: "contact", name: "Joann Weber", email: "joann.weber@mailbox.example", phone: "+44 7700 900124",
		custom: map[string]any{"city": "Bristol", "note": "Ann Weber's sister"}, created: at(-150, 0, 0)})
	jonas := c.user(userSpec{account: 1, role: "contact", name: "Jonas Fischer", email: "jonas.fischer@post.example", avatar: "jonas.jpg", created: at(-90, 0, 0)})
	lucy := c.user(userSpec{account: 1, role: "contact", name: "Lucy Chen", email: "lucy@chen-cycling.example", avatar: "lucy.jpg",
		custom: map[string]any{"company": "Chen Cycling Club"}, created: at(-60, 0, 0)})
	ravi := c.user(userSpec{account: 1, role: "contact", name: "Ravi Patel", email: "ravi.patel@post.example", created: at(-30, 0, 0)})
	hugo := c.user(userSpec{account: 1, role: "contact", name: "Hugo Martin", phone: "+44 7700 900131", created: at(-20, 0, 0)})
	emma := c.user(userSpec{account: 1, role: "contact", name: "Emma Novak", email: "emma.novak@post.example", created: at(-100, 0, 0), deleted: true})
	// Account 2: the same two people, and others.
	grace := c.user(userSpec{account: 2, role: "owner", name: "Grace Hall", email: "grace@harbordental.example", created: founded.AddDate(0, 2, 0)})
	sam2 := c.user(userSpec{account: 2, role: "agent", name: "Sam Carter", email: "sam.carter@carter-support.example", phone: "+44 7700 900456",
		signature: "Sam Carter\nHarbor Dental front desk", invitedBy: grace.ID, created: founded.AddDate(0, 3, 0)})
	ann2 := c.user(userSpec{account: 2, role: "contact", name: "Ann Weber", email: "ann.weber@mailbox.example", phone: "+44 7700 900123",
		avatar: "ann-profile.jpg", created: at(-80, 0, 0)})
	omar := c.user(userSpec{account: 2, role: "contact", name: "Omar Haddad", email: "omar.haddad@post.example", created: at(-40, 0, 0)})
	// Account 3: a trial that has just started.
	nadia := c.user(userSpec{account: 3, role: "owner", name: "Nadia Quill", email: "nadia@quill.example", created: at(-1, 0, 0)})

	// Inboxes and who works them.
	inboxCols := []string{"id", "account_id", "name", "channel_type", "email_address", "greeting_message", "created_at", "updated_at"}
	c.add("inboxes", inboxCols, int64(1), int64(1), "Support e-mail", "email", "support@brightwater.example", nil, founded, founded)
	c.add("inboxes", inboxCols, int64(2), int64(1), "Website chat", "web_widget", nil, "Hi! Ask us anything about your bike.", founded, founded)
	c.add("inboxes", inboxCols, int64(3), int64(2), "Front desk", "email", "hello@harbordental.example", nil, founded, founded)
	c.add("inboxes", inboxCols, int64(4), int64(3), "Quill support", "email", "help@quill.example", nil, at(-1, 0, 0), at(-1, 0, 0))
	const mail1, chat1, mail2 = 1, 2, 3
	for _, m := range [][2]int64{{1, olivia.ID}, {1, marcus.ID}, {1, sam.ID}, {1, priya.ID}, {1, tom.ID}, {2, sam.ID}, {2, priya.ID}, {3, grace.ID}, {3, sam2.ID}, {4, nadia.ID}} {
		c.add("inbox_members", []string{"id", "inbox_id", "user_id", "created_at"}, c.next("inbox_members"), m[0], m[1], hired)
	}

	// Identities of contacts.
	idCols := []string{"id", "account_id", "user_id", "provider", "identifier", "verified_at", "created_at"}
	for _, p := range []Person{ann, joann, jonas, lucy, ravi, hugo, emma, ann2, omar} {
		if p.Email != "" {
			c.add("contact_identities", idCols, c.next("contact_identities"), p.AccountID, p.ID, "email", p.Email, at(-10, 0, 0), at(-10, 0, 0))
		}
		if p.Phone != "" {
			c.add("contact_identities", idCols, c.next("contact_identities"), p.AccountID, p.ID, "phone", p.Phone, nil, at(-10, 0, 0))
		}
	}
	c.add("contact_identities", idCols, c.next("contact_identities"), int64(1), lucy.ID, "google", "108274551920347716220", at(-60, 0, 0), at(-60, 0, 0))

	sig := func(p Person) string {
		var s string
		for _, x := range c.sets["users"].rows {
			if x[0] == p.ID && x[7] != nil {
				s = x[7].(string)
			}
		}
		return s
	}
	support := "support@brightwater.example"

	// C1: Ann's warranty question, handled and resolved by Sam.
	c1 := c.conversation(convSpec{inbox: mail1, display: 1, contact: ann, source: ann.Email, assignee: sam, resolver: sam, status: "resolved",
		subject: "Gears slipping on my Roadster 2", watchers: []int64{joann.ID}, attrs: map[string]any{"source": "email", "mail_subject": "Gears slipping on my Roadster 2"}, at: at(0, 0, 0)})
	c.message(1, msgSpec{conv: c1, inbox: mail1, sender: ann, typ: "incoming", at: at(0, 0, 0), subject: "Gears slipping on my Roadster 2",
		to: []string{support}, cc: []string{joann.Email}, sourceID: "<CAF1a2b3c4@mailbox.example>",
		content: "Hi,\n\nthe gears on my Roadster 2 keep slipping since the service last week. Could you have a look?\n\nThanks,\nAnn Weber\n+44 7700 900123"})
	c.message(1, msgSpec{conv: c1, inbox: mail1, sender: sam, typ: "outgoing", at: at(0, 1, 0), to: []string{ann.Email}, cc: []string{joann.Email},
		inReplyTo: "<CAF1a2b3c4@mailbox.example>", sourceID: "<conversation/1/messages/2@brightwater.example>",
		content: "Hi Ann,\n\nsorry to hear that! Could you send us a photo of the rear derailleur?\n\nBest,\n" + sig(sam) +
			"\n\nOn Mon, 4 Mar 2024 at 09:00, Ann Weber <ann.weber@mailbox.example> wrote:\n> the gears on my Roadster 2 keep slipping since the service last week."})
	m3 := c.message(1, msgSpec{conv: c1, inbox: mail1, sender: sam, typ: "outgoing", private: true, at: at(0, 1, 5), mentioned: []int64{priya.ID},
		content: "@Priya Nair can you check whether Ann's frame is still under warranty? Bought in March 2022."})
	m4 := c.message(1, msgSpec{conv: c1, inbox: mail1, sender: ann, typ: "incoming", at: at(0, 3, 0), to: []string{support}, cc: []string{joann.Email},
		inReplyTo: "<conversation/1/messages/2@brightwater.example>", sourceID: "<CAF9z8y7x6@mailbox.example>", files: []string{"derailleur.jpg"}, subjectFiles: true,
		content: "Here you go, photo attached.\n\nAnn"})
	m5 := c.message(1, msgSpec{conv: c1, inbox: mail1, sender: sam, typ: "outgoing", at: at(1, 0, 0), to: []string{ann.Email}, cc: []string{joann.Email},
		inReplyTo: "<CAF9z8y7x6@mailbox.example>", sourceID: "<conversation/1/messages/5@brightwater.example>", files: []string{"warranty-terms.pdf"}, subjectFiles: true,
		content: "Thanks Ann, it is covered by the warranty (terms attached). Bring it in any weekday.\n\n" + sig(sam)})

	// C2: Jonas's receipt; Sam answered once in a colleague's conversation.
	c2 := c.conversation(convSpec{inbox: mail1, display: 2, contact: jonas, source: jonas.Email, assignee: priya, resolver: priya, status: "resolved",
		subject: "Receipt for my order #4471", watchers: []int64{}, at: at(1, 2, 0)})
	m6 := c.message(1, msgSpec{conv: c2, inbox: mail1, sender: jonas, typ: "incoming", at: at(1, 2, 0), to: []string{support}, sourceID: "<20240305110000.1@post.example>",
		files: []string{"receipt-4471.pdf"}, content: "Hello, please find my receipt attached; the order arrived without the bell.\nJonas Fischer"})
	m7 := c.message(1, msgSpec{conv: c2, inbox: mail1, sender: sam, typ: "outgoing", at: at(1, 3, 0), to: []string{jonas.Email}, inReplyTo: "<20240305110000.1@post.example>",
		content: "Hi Jonas,\n\nthe bell is on its way.\n\n" + sig(sam)})
	c.message(1, msgSpec{conv: c2, inbox: mail1, sender: priya, typ: "outgoing", at: at(1, 5, 0), to: []string{jonas.Email},
		content: "Hi Jonas, the tracking number is BW-2231.\n\n" + sig(priya)})
	c.message(1, msgSpec{conv: c2, inbox: mail1, typ: "activity", at: at(1, 5, 1), content: "Conversation was marked resolved by Priya Nair"})

	// C3: Joann writes for herself and her sister Ann (cc), watched by Ann.
	c3 := c.conversation(convSpec{inbox: mail1, display: 3, contact: joann, source: joann.Email, assignee: priya, status: "open",
		subject: "Re: Gears slipping on my Roadster 2", watchers: []int64{ann.ID}, at: at(1, 1, 12)})
	c.message(1, msgSpec{conv: c3, inbox: mail1, sender: joann, typ: "incoming", at: at(1, 1, 12), to: []string{support}, cc: []string{ann.Email},
		sourceID: "<CAJ0w1e2r3@mailbox.example>",
		content: "Hi, I'm writing for my sister Ann Weber too: we both bought Roadsters, and mine slips as well.\n\nJoann Weber\n\n" +
			"On Mon, 4 Mar 2024 at 09:00, Ann Weber <ann.weber@mailbox.example> wrote:\n" +
			"> the gears on my Roadster 2 keep slipping since the service last week. Could you have a look?\n>\n> Thanks,\n> Ann Weber\n> +44 7700 900123"})
	m11 := c.message(1, msgSpec{conv: c3, inbox: mail1, sender: priya, typ: "outgoing", private: true, at: at(1, 2, 0), mentioned: []int64{sam.ID},
		content: "@Sam Carter you handled Ann Weber's bike, can you take this one?"})
	m12 := c.message(1, msgSpec{conv: c3, inbox: mail1, sender: sam, typ: "outgoing", at: at(1, 4, 0), to: []string{joann.Email}, cc: []string{ann.Email},
		inReplyTo: "<CAJ0w1e2r3@mailbox.example>",
		content: "Hi Joann,\n\nhappy to help you both: bring both bikes on Friday.\n\n" + sig(sam) +
			"\n\n-----Original Message-----\nFrom: Joann Weber <joann.weber@mailbox.example>\nSent: Tuesday, 5 March 2024 10:12\n" +
			"To: support@brightwater.example\nCc: Ann Weber <ann.weber@mailbox.example>\nSubject: Re: Gears slipping on my Roadster 2\n\n" +
			"Hi, I'm writing for my sister Ann Weber too: we both bought Roadsters, and mine slips as well.\n\n" +
			"On Mon, 4 Mar 2024 at 09:00, Ann Weber <ann.weber@mailbox.example> wrote:\n> the gears on my Roadster 2 keep slipping since the service last week."})

	// C4: Lucy's club booking; members (Ann among them) in bcc and watching.
	c4 := c.conversation(convSpec{inbox: mail1, display: 4, contact: lucy, source: lucy.Email, assignee: tom, status: "pending", priority: "high",
		subject: "Group booking for the Chen Cycling Club", watchers: []int64{ann.ID, jonas.ID}, at: at(2, 0, 0)})
	c.message(1, msgSpec{conv: c4, inbox: mail1, sender: lucy, typ: "incoming", at: at(2, 0, 0), to: []string{support}, bcc: []string{ann.Email, jonas.Email},
		sourceID: "<club-2024-03@chen-cycling.example>",
		content:  "Hi! I'd like to book a service day for six club members in April. Bcc'ing the members so they know.\n\nLucy Chen\nChen Cycling Club"})
	m14 := c.message(1, msgSpec{conv: c4, inbox: mail1, sender: sam, typ: "outgoing", private: true, at: at(2, 1, 0), mentioned: []int64{tom.ID},
		content: "Lucy's club gets 10%, agreed with Olivia. @Tom Becker please send the quote; Ann Weber and Jonas Fischer are members."})
	c.message(1, msgSpec{conv: c4, inbox: mail1, sender: tom, typ: "outgoing", at: at(2, 3, 0), to: []string{lucy.Email}, files: []string{"quote-club.pdf"},
		content: "Hi Lucy, the quote is attached.\n\n" + sig(tom)})

	// C5: Ravi on the website chat, assigned to Sam and still open.
	c5 := c.conversation(convSpec{inbox: chat1, display: 5, contact: ravi, source: stableUUID("widget|ravi"), assignee: sam, status: "open",
		attrs: map[string]any{"browser": "Firefox 123", "referer": "https://brightwater.example/bikes/roadster-2", "initiated_at": "2024-03-06T14:00:00Z"}, at: at(2, 5, 0)})
	c.message(1, msgSpec{conv: c5, inbox: chat1, sender: ravi, typ: "incoming", at: at(2, 5, 0), content: "Do you have the Roadster 2 in 56cm?"})
	m17 := c.message(1, msgSpec{conv: c5, inbox: chat1, sender: sam, typ: "outgoing", at: at(2, 5, 3),
		content: "Hi Ravi, yes: Ann Weber just picked up the last blue one, but black is in stock."})

	// C6: Sam opened an outbound mail to Emma (since soft-deleted); Marcus resolved it.
	c6 := c.conversation(convSpec{inbox: mail1, display: 6, contact: emma, source: emma.Email, assignee: marcus, createdBy: sam, resolver: marcus, status: "resolved",
		subject: "Your repair is ready", watchers: []int64{}, at: at(-5, 0, 0)})
	m18 := c.message(1, msgSpec{conv: c6, inbox: mail1, sender: sam, typ: "outgoing", at: at(-5, 0, 0), to: []string{emma.Email}, subject: "Your repair is ready",
		content: "Hi Emma, your repair is ready for pickup.\n\n" + sig(sam)})
	c.message(1, msgSpec{conv: c6, inbox: mail1, sender: emma, typ: "incoming", at: at(-5, 2, 0), to: []string{support}, content: "Thanks Sam! I'll pick it up on Saturday.\nEmma"})
	c.message(1, msgSpec{conv: c6, inbox: mail1, typ: "activity", at: at(-4, 0, 0), content: "Conversation was marked resolved by Marcus Lee"})

	// C7: Ann's address change, handled by Priya (open).
	c7 := c.conversation(convSpec{inbox: mail1, display: 7, contact: ann, source: ann.Email, assignee: priya, status: "open",
		subject: "Invoice address change", watchers: []int64{}, at: at(3, 0, 0)})
	c.message(1, msgSpec{conv: c7, inbox: mail1, sender: ann, typ: "incoming", at: at(3, 0, 0), to: []string{support}, sourceID: "<CAF5t6y7u8@mailbox.example>",
		content: "Please change my invoice address to 12 Elm Road, Bristol BS1 4DJ.\n\nAnn Weber"})
	c.message(1, msgSpec{conv: c7, inbox: mail1, sender: priya, typ: "outgoing", at: at(3, 1, 0), to: []string{ann.Email}, inReplyTo: "<CAF5t6y7u8@mailbox.example>",
		content: "Done, Ann!\n\n" + sig(priya) + "\n\nOn Thu, 7 Mar 2024 at 09:00, Ann Weber <ann.weber@mailbox.example> wrote:\n> Please change my invoice address to 12 Elm Road, Bristol BS1 4DJ."})

	// C8: Ann on the website chat, assigned to Sam, open.
	c8 := c.conversation(convSpec{inbox: chat1, display: 8, contact: ann, source: stableUUID("widget|ann"), assignee: sam, status: "open",
		attrs: map[string]any{"browser": "Safari 17", "referer": "https://brightwater.example/opening-hours", "initiated_at": "2024-03-08T10:00:00Z"}, at: at(4, 1, 0)})
	c.message(1, msgSpec{conv: c8, inbox: chat1, sender: ann, typ: "incoming", at: at(4, 1, 0), content: "Is the shop open on Sunday?"})
	c.message(1, msgSpec{conv: c8, inbox: chat1, sender: sam, typ: "outgoing", at: at(4, 1, 2), content: "Hi Ann, yes, 10 to 4 on Sundays!"})

	// Account 2: Ann's copy writes to the dental practice; Sam's copy answers.
	c9 := c.conversation(convSpec{inbox: mail2, display: 1, contact: ann2, source: ann2.Email, assignee: sam2, status: "open",
		subject: "Appointment for a check-up", watchers: []int64{}, at: at(2, 0, 0)})
	c.message(2, msgSpec{conv: c9, inbox: mail2, sender: ann2, typ: "incoming", at: at(2, 0, 0), to: []string{"hello@harbordental.example"},
		sourceID: "<CAF7h8j9k0@mailbox.example>", files: []string{"xray-referral.pdf"},
		content: "Dear Harbor Dental,\n\nmy GP's referral is attached. Could I come in next week?\n\nAnn Weber\n+44 7700 900123"})
	c.message(2, msgSpec{conv: c9, inbox: mail2, sender: sam2, typ: "outgoing", at: at(2, 2, 0), to: []string{ann2.Email}, inReplyTo: "<CAF7h8j9k0@mailbox.example>",
		content: "Hi Ann, Tuesday at 10:00 works.\n\n" + sig(sam2)})
	c10 := c.conversation(convSpec{inbox: mail2, display: 2, contact: omar, source: omar.Email, assignee: grace, resolver: grace, status: "resolved",
		subject: "Moving my appointment", watchers: []int64{}, at: at(3, 0, 0)})
	c.message(2, msgSpec{conv: c10, inbox: mail2, sender: omar, typ: "incoming", at: at(3, 0, 0), to: []string{"hello@harbordental.example"}, content: "Can I move my appointment to Thursday?\nOmar"})
	c.message(2, msgSpec{conv: c10, inbox: mail2, sender: grace, typ: "outgoing", at: at(3, 1, 0), to: []string{omar.Email}, content: "Of course, Thursday 9:30.\nGrace"})

	// Satisfaction surveys: a template message, then the rating.
	csatCols := []string{"id", "account_id", "conversation_id", "message_id", "contact_id", "assigned_agent_id", "rating", "feedback_message", "created_at"}
	s1 := c.message(1, msgSpec{conv: c1, inbox: mail1, typ: "template", at: at(1, 1, 0), content: "Please rate the conversation"})
	c.add("csat_survey_responses", csatCols, c.next("csat_survey_responses"), int64(1), c1, s1, ann.ID, sam.ID, 2, "Sam Carter took two days to answer.", at(1, 6, 0))
	s2 := c.message(1, msgSpec{conv: c2, inbox: mail1, typ: "template", at: at(1, 6, 0), content: "Please rate the conversation"})
	c.add("csat_survey_responses", csatCols, c.next("csat_survey_responses"), int64(1), c2, s2, jonas.ID, priya.ID, 5, "Priya and Sam were great.", at(1, 7, 0))

	// Who follows which conversation.
	for _, p := range [][2]int64{{c1, sam.ID}, {c1, priya.ID}, {c2, priya.ID}, {c2, sam.ID}, {c3, priya.ID}, {c3, sam.ID}, {c4, tom.ID}, {c4, sam.ID},
		{c5, sam.ID}, {c6, marcus.ID}, {c6, sam.ID}, {c7, priya.ID}, {c7, tom.ID}, {c8, sam.ID}, {c9, sam2.ID}, {c10, grace.ID}} {
		acc := int64(1)
		if p[0] >= c9 {
			acc = 2
		}
		c.add("conversation_participants", []string{"id", "account_id", "conversation_id", "user_id", "created_at"}, c.next("conversation_participants"), acc, p[0], p[1], at(0, 0, 0))
	}

	// Notes about contacts.
	noteCols := []string{"id", "account_id", "contact_id", "author_id", "content", "created_at", "updated_at"}
	c.add("notes", noteCols, c.next("notes"), int64(1), ann.ID, priya.ID, "Prefers phone calls after 5pm.", at(0, 4, 0), at(0, 4, 0))
	c.add("notes", noteCols, c.next("notes"), int64(1), ann.ID, sam.ID, "Ann's Roadster 2: frame no. BW-22-0193, bought March 2022.", at(1, 0, 30), at(1, 0, 30))
	c.add("notes", noteCols, c.next("notes"), int64(1), jonas.ID, sam.ID, "Jonas asked for a callback about the bell.", at(1, 3, 5), at(1, 3, 5))
	c.add("notes", noteCols, c.next("notes"), int64(1), lucy.ID, olivia.ID, "Club discount 10% agreed with Lucy.", at(2, 0, 30), at(2, 0, 30))
	c.add("notes", noteCols, c.next("notes"), int64(2), ann2.ID, grace.ID, "Nervous patient; prefers morning appointments.", at(2, 3, 0), at(2, 3, 0))

	// Tokens and sessions.
	for _, p := range []Person{olivia, marcus, sam, priya, tom, grace, sam2} {
		c.add("access_tokens", []string{"id", "owner_id", "token", "scopes", "last_used_at", "created_at"}, c.next("access_tokens"), p.ID,
			stableHex("token|"+fmt.Sprint(p.ID), 40), "api", at(4, 0, 0), hired)
	}
	sessCols := []string{"id", "user_id", "token_digest", "ip_address", "user_agent", "created_at", "expires_at"}
	for i, s := range []struct {
		p      Person
		ip, ua string
	}{
		{sam, "198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0"},
		{sam, "2001:db8::23", "Chatwoot/3.4 (iPhone; iOS 17.3)"},
		{priya, "198.51.100.24", "Mozilla/5.0 (Macintosh) Safari/17.3"},
		{tom, "198.51.100.25", "Mozilla/5.0 (Windows NT 10.0) Edge/122.0"},
		{olivia, "198.51.100.20", "Mozilla/5.0 (Macintosh) Firefox/123.0"},
		{ann, "203.0.113.77", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3) Safari/604.1"},
		{ravi, "203.0.113.90", "Mozilla/5.0 (Android 14) Chrome/122.0"},
		{sam2, "198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0"},
	} {
		c.add("sessions", sessCols, c.next("sessions"), s.p.ID, stableHex(fmt.Sprintf("session|%d", i), 64), s.ip, s.ua, at(4, 0, 0), at(18, 0, 0))
	}

	// Notifications.
	nCols := []string{"id", "account_id", "user_id", "notification_type", "primary_actor_type", "primary_actor_id", "actor_id", "snippet", "read_at", "created_at"}
	c.add("notifications", nCols, c.next("notifications"), int64(1), priya.ID, "conversation_mention", "message", m3, sam.ID,
		"Sam Carter mentioned you: can you check whether Ann's frame is still under warranty?", at(0, 2, 0), at(0, 1, 5))
	c.add("notifications", nCols, c.next("notifications"), int64(1), sam.ID, "conversation_mention", "message", m11, priya.ID,
		"Priya Nair mentioned you: you handled Ann Weber's bike, can you take this one?", nil, at(1, 2, 0))
	c.add("notifications", nCols, c.next("notifications"), int64(1), tom.ID, "conversation_mention", "message", m14, sam.ID,
		"Sam Carter mentioned you: please send the quote", at(2, 2, 0), at(2, 1, 0))
	c.add("notifications", nCols, c.next("notifications"), int64(1), sam.ID, "conversation_assignment", "conversation", c1, marcus.ID,
		"Marcus Lee assigned you: Gears slipping on my Roadster 2", at(0, 0, 30), at(0, 0, 10))
	c.add("notifications", nCols, c.next("notifications"), int64(1), sam.ID, "conversation_assignment", "conversation", c5, nil,
		"New conversation assigned to you on Website chat", nil, at(2, 5, 0))
	c.add("notifications", nCols, c.next("notifications"), int64(1), priya.ID, "assigned_conversation_new_message", "conversation", c7, ann.ID,
		"Ann Weber: Please change my invoice address to 12 Elm Road, Bristol BS1 4DJ.", nil, at(3, 0, 0))
	c.add("notifications", nCols, c.next("notifications"), int64(2), sam2.ID, "conversation_assignment", "conversation", c9, grace.ID,
		"Grace Hall assigned you: Appointment for a check-up", nil, at(2, 0, 5))

	// Drafts, including another agent's in Ann's conversation.
	dCols := []string{"id", "account_id", "conversation_id", "user_id", "content", "content_attributes", "updated_at"}
	d1 := c.next("drafts")
	c.add("drafts", dCols, d1, int64(1), c5, sam.ID, "Hi Ravi, the black one is reserved for you until Friday.\n\nSam", nil, at(2, 6, 0))
	d2 := c.next("drafts")
	c.add("drafts", dCols, d2, int64(1), c7, tom.ID, "Hi Ann, we also noticed your Roadster is due for its yearly service. Tom",
		jsonDoc{map[string]any{"to": []string{ann.Email}, "cc": []string{}, "bcc": []string{}}}, at(3, 2, 0))
	c.add("drafts", dCols, c.next("drafts"), int64(1), c3, priya.ID, "Hi Joann, Sam will look at both bikes on Friday.", nil, at(1, 3, 0))

	// Assistant prompts: internal, never for the contact's eyes.
	pCols := []string{"id", "account_id", "conversation_id", "user_id", "prompt", "response", "model", "created_at"}
	p1 := c.next("assistant_prompts")
	c.add("assistant_prompts", pCols, p1, int64(1), c1, sam.ID, "Draft a reply to Ann Weber about the warranty; she is upset about the repeat repair.",
		"Hi Ann, I'm sorry the problem came back...", "assistant-small", at(0, 23, 50))
	c.add("assistant_prompts", pCols, c.next("assistant_prompts"), int64(1), c2, sam.ID, "Summarise Jonas Fischer's complaint in one line.",
		"Order #4471 arrived without the bell.", "assistant-small", at(1, 2, 50))
	p3 := c.next("assistant_prompts")
	c.add("assistant_prompts", pCols, p3, int64(1), c7, priya.ID, "Rewrite politely: tell Ann Weber her new invoice address 12 Elm Road is saved.",
		"Dear Ann, your new invoice address has been saved.", "assistant-small", at(3, 0, 50))

	// Reporting events.
	rCols := []string{"id", "account_id", "name", "value", "user_id", "conversation_id", "inbox_id", "created_at"}
	for _, r := range []struct {
		acc        int64
		name       string
		value      int
		user, conv int64
		inbox      int64
		when       time.Time
	}{
		{1, "first_response", 3600, sam.ID, c1, mail1, at(0, 1, 0)},
		{1, "conversation_resolved", 86400, sam.ID, c1, mail1, at(1, 0, 0)},
		{1, "first_response", 3600, sam.ID, c2, mail1, at(1, 3, 0)},
		{1, "conversation_resolved", 10800, priya.ID, c2, mail1, at(1, 5, 1)},
		{1, "first_response", 2880, sam.ID, c3, mail1, at(1, 4, 0)},
		{1, "first_response", 180, sam.ID, c5, chat1, at(2, 5, 3)},
		{1, "conversation_resolved", 86400, marcus.ID, c6, mail1, at(-4, 0, 0)},
		{1, "first_response", 3600, priya.ID, c7, mail1, at(3, 1, 0)},
		{2, "first_response", 7200, sam2.ID, c9, mail2, at(2, 2, 0)},
	} {
		c.add("reporting_events", rCols, c.next("reporting_events"), r.acc, r.name, r.value, r.user, r.conv, r.inbox, r.when)
	}

	// Canned responses (their author reference does not cascade).
	cCols := []string{"id", "account_id", "short_code", "content", "created_by_id", "created_at", "updated_at"}
	c.add("canned_responses", cCols, c.next("canned_responses"), int64(1), "thanks", "Thanks for reaching out! We'll get back to you within one business day.\n\nSam Carter, Brightwater Bikes", sam.ID, hired, hired)
	c.add("canned_responses", cCols, c.next("canned_responses"), int64(1), "warranty", "All our frames carry a five-year warranty.", priya.ID, hired, hired)
	c.add("canned_responses", cCols, c.next("canned_responses"), int64(1), "hours", "We are open 9 to 6 on weekdays and 10 to 4 on Sundays.", olivia.ID, hired, hired)

	// Labels.
	lCols := []string{"id", "account_id", "title", "color", "created_at", "updated_at"}
	for _, l := range []struct {
		acc          int64
		title, color string
	}{{1, "warranty", "#1f93ff"}, {1, "billing", "#ff8c00"}, {1, "vip", "#c026d3"}, {2, "appointments", "#16a34a"}} {
		c.add("labels", lCols, c.next("labels"), l.acc, l.title, l.color, hired, hired)
	}
	for _, cl := range [][2]int64{{c1, 1}, {c3, 1}, {c4, 3}, {c7, 2}, {c9, 4}} {
		c.add("conversation_labels", []string{"conversation_id", "label_id", "created_at"}, cl[0], cl[1], at(4, 0, 0))
	}

	// The auditing library's log (no foreign keys).
	aCols := []string{"id", "account_id", "auditable_type", "auditable_id", "user_id", "username", "action", "audited_changes", "remote_address", "created_at"}
	c.add("audits", aCols, c.next("audits"), int64(1), "User", ann.ID, priya.ID, "Priya Nair", "update",
		jsonDoc{map[string]any{"phone_number": []any{"+44 7700 900100", ann.Phone}}}, "198.51.100.24", at(0, 4, 0))
	c.add("audits", aCols, c.next("audits"), int64(1), "User", jonas.ID, sam.ID, "Sam Carter", "create",
		jsonDoc{map[string]any{"email": []any{nil, jonas.Email}, "name": []any{nil, jonas.Name}}}, "198.51.100.23", at(-90, 0, 0))
	c.add("audits", aCols, c.next("audits"), int64(1), "Conversation", c1, sam.ID, "Sam Carter", "update",
		jsonDoc{map[string]any{"status": []any{"open", "resolved"}}}, "198.51.100.23", at(1, 0, 0))
	c.add("audits", aCols, c.next("audits"), int64(1), "User", sam.ID, marcus.ID, "Marcus Lee", "update",
		jsonDoc{map[string]any{"signature": []any{"Sam", sig(sam)}}}, "198.51.100.21", hired.Add(72*time.Hour))
	c.add("audits", aCols, c.next("audits"), int64(2), "User", ann2.ID, grace.ID, "Grace Hall", "create",
		jsonDoc{map[string]any{"email": []any{nil, ann2.Email}, "name": []any{nil, ann2.Name}}}, "198.51.100.40", at(-80, 0, 0))

	// What tests need to know.
	c.seed.OtherAccountCustomer, c.seed.OtherAccountAgent = ann2, sam2
	c.seed.CustomerConversations = []int64{c1, c7, c8}
	for _, r := range c.sets["messages"].rows {
		if r[4] == ann.ID {
			c.seed.CustomerMessages = append(c.seed.CustomerMessages, r[0].(int64))
		}
	}
	c.seed.AgentOpenConversations = []int64{c5, c8}
	c.seed.AgentClosedConversations = []int64{c1}
	c.seed.AgentRepliesElsewhere = []int64{m7, m12, m17, m18}
	c.seed.AgentPrivateNotes = []int64{m3, m14}
	c.seed.AgentDrafts = []int64{d1}
	c.seed.OtherDraftsInCustomerConversations = []int64{d2}
	c.seed.AssistantPromptsInCustomerConversations = []int64{p1, p3}
	c.seed.MessageIDsEqualToUserIDs = []int64{m4, m5}
	c.seed.UserIDEqualToMessageID = m6

	var bystanders []Person
	for _, p := range c.people {
		if p.ID != ann.ID && p.ID != sam.ID && p.ID != tom.ID {
			bystanders = append(bystanders, p)
		}
	}
	sd := Seeded{SubjectCustomer: ann, SubjectAgent: sam, ReassignTo: tom, Bystanders: append([]Person{tom}, bystanders...)}
	sd.Convo = &c.seed
	return &seedData{sets: c.ordered(convoSchema()), files: c.files, seeded: sd}
}
