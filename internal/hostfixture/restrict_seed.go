package hostfixture

import (
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RestrictSeed names the rows of the Restrict fixture a test needs.
type RestrictSeed struct {
	// CustomerTickets are the subject customer's tickets
	// (ticket.customer_user_id = their login), one of them merged.
	CustomerTickets []int64
	// CustomerArticles are the articles the subject customer sent.
	CustomerArticles []int64
	// AgentOpenTickets and AgentClosedTickets are owned by the subject
	// agent (ticket.user_id), by state type (open and pending are open).
	AgentOpenTickets, AgentClosedTickets []int64
	// AgentArticlesElsewhere are the subject agent's articles in other
	// customers' tickets.
	AgentArticlesElsewhere []int64
	// AgentNotes are the subject agent's internal notes
	// (is_visible_for_customer = 0).
	AgentNotes []int64
	// AgentDrafts are the subject agent's form_draft rows.
	AgentDrafts []int64
	// CustomerSessions and AgentSessions are the session_id of the
	// subjects' sessions (key/value rows in sessions).
	CustomerSessions, AgentSessions []string
	// FSArticles are articles whose raw mail and attachments are files
	// (var/article/YYYY/MM/DD/<article id>/) instead of rows: the ones
	// written before the installation moved article storage into the
	// database.
	FSArticles []int64
	// NumericLoginCustomer is a bystander customer whose login is all
	// digits ("20417"), so "numeric means agent" is no way to tell customers
	// from agents.
	NumericLoginCustomer Person
}

type restrictBuilder struct {
	*builder
	ids      map[string]int64
	hist     map[string]int64 // history type -> id
	people   []Person
	agentOf  map[int64]Person
	seed     RestrictSeed
	timeUsed map[int64]float64 // ticket -> time units so far
	msgIDs   map[int64]string  // article -> Message-ID
	// subjectCustomer is the subject customer's customer_user.id.
	subjectCustomer int64
}

func (r *restrictBuilder) next(table string) int64 {
	r.ids[table]++
	return r.ids[table]
}

// audit is the four audit values of a row created and last changed by one
// agent at one time.
func audit(by Person, when time.Time) []any { return []any{when, by.ID, when, by.ID} }

func withAudit(cols ...string) []string {
	return append(cols, "create_time", "create_by", "change_time", "change_by")
}

func (r *restrictBuilder) addAudited(table string, cols []string, by Person, when time.Time, vals ...any) {
	r.add(table, withAudit(cols...), append(vals, audit(by, when)...)...)
}

// Restrict state, lock, priority and channel ids of the installer's rows.
const (
	stNew, stClosed, stOpen, stPendingReminder, stMerged = 1, 2, 4, 6, 9
	lockUnlock, lockLock                                 = 1, 2
	prioNormal, prioHigh                                 = 3, 4
	senderAgent, senderCustomer                          = 1, 3
	chEmail, chPhone, chInternal                         = 1, 2, 3
	qSupport, qBilling                                   = 5, 6
	typeIncident, typeServiceRequest                     = 2, 3
)

var stateName = map[int64]string{stNew: "new", stClosed: "closed successful", stOpen: "open", stPendingReminder: "pending reminder", stMerged: "merged"}
var queueName = map[int64]string{qSupport: "Support", qBilling: "Billing"}

const supportAddress = "support@atlas-facility.example"

func (r *restrictBuilder) agent(login, first, last, email, mobile string, by Person, when time.Time) Person {
	id := r.next("users")
	r.addAudited("users", []string{"id", "login", "pw", "title", "first_name", "last_name", "valid_id"}, by, when,
		id, login, "{PBKDF2}"+stableHex("pw|"+login, 48), nil, first, last, 1)
	p := Person{Table: "users", ID: id, Login: login, Name: first + " " + last, Email: email, Phone: mobile, Role: "agent"}
	prefs := [][2]string{{"UserEmail", email}, {"UserLanguage", "en"}, {"UserLastLogin", strconv.FormatInt(when.AddDate(0, 0, 300).Unix(), 10)}}
	if mobile != "" {
		prefs = append(prefs, [2]string{"UserMobile", mobile})
	}
	for _, kv := range prefs {
		r.add("user_preferences", []string{"user_id", "preferences_key", "preferences_value"}, id, kv[0], kv[1])
	}
	r.agentOf[id] = p
	r.people = append(r.people, p)
	return p
}

type customerSpec struct {
	login, first, last, email, company     string
	phone, mobile, street, zip, city, note string
	by                                     Person
	when                                   time.Time
	prefs                                  [][2]string
}

func (r *restrictBuilder) customer(c customerSpec) Person {
	id := r.next("customer_user")
	country := any(nil)
	if c.city != "" {
		country = "United Kingdom"
	}
	r.addAudited("customer_user", []string{"id", "login", "email", "customer_id", "pw", "title", "first_name", "last_name", "phone",
		"mobile", "street", "zip", "city", "country", "comments", "valid_id"}, c.by, c.when,
		id, c.login, c.email, c.company, "{SHA256}"+stableHex("pw|"+c.login, 64), nil, c.first, c.last, nullable(c.phone),
		nullable(c.mobile), nullable(c.street), nullable(c.zip), nullable(c.city), country, nullable(c.note), 1)
	for _, kv := range c.prefs {
		r.add("customer_preferences", []string{"user_id", "preferences_key", "preferences_value"}, c.login, kv[0], kv[1])
	}
	phone := c.phone
	if phone == "" {
		phone = c.mobile
	}
	p := Person{Table: "customer_user", ID: id, Login: c.login, Name: c.first + " " + c.last, Email: c.email, Phone: phone, Role: "customer"}
	r.people = append(r.people, p)
	return p
}

// mailbox renders "Name" <address>.
func mailbox(p Person) string { return fmt.Sprintf("%q <%s>", p.Name, p.Email) }

type ticketState struct {
	id                          int64
	row                         []any // the ticket row, updated as the story goes
	tnText                      string
	queue, state, owner, typeID int64
	customer                    Person
	company                     string
}

type ticketSpec struct {
	tn          string
	title       string
	queue       int64
	typeID      int64
	responsible Person
	changedBy   Person
	customer    Person
	company     string
	when        time.Time
}

func (r *restrictBuilder) ticket(t ticketSpec) *ticketState {
	id := r.next("ticket")
	root := r.agentOf[1]
	r.add("ticket", withAudit("id", "tn", "title", "queue_id", "ticket_lock_id", "type_id", "user_id", "responsible_user_id",
		"ticket_priority_id", "ticket_state_id", "customer_id", "customer_user_id", "timeout", "until_time", "escalation_time", "archive_flag"),
		id, t.tn, t.title, t.queue, int64(lockUnlock), t.typeID, root.ID, t.responsible.ID, int64(prioNormal), int64(stNew), t.company, t.customer.Login,
		t.when.Unix(), 0, 0, 0, t.when, root.ID, t.when.Add(48*time.Hour), t.changedBy.ID)
	rows := r.sets["ticket"].rows
	ts := &ticketState{id: id, row: rows[len(rows)-1], tnText: t.tn, queue: t.queue, state: stNew, owner: 1, typeID: t.typeID, customer: t.customer, company: t.company}
	r.history(ts, "NewTicket", fmt.Sprintf("%%%%%s%%%%%s%%%%3 normal%%%%new%%%%%d", t.tn, queueName[t.queue], id), 0, root, t.when)
	r.history(ts, "CustomerUpdate", fmt.Sprintf("%%%%CustomerID=%s;CustomerUser=%s;", t.company, t.customer.Login), 0, root, t.when)
	return ts
}

func (r *restrictBuilder) history(ts *ticketState, typ, name string, article int64, by Person, when time.Time) {
	hid, ok := r.hist[typ]
	if !ok {
		panic("hostfixture: unknown history type " + typ)
	}
	r.addAudited("ticket_history", []string{"id", "name", "history_type_id", "ticket_id", "article_id", "type_id", "queue_id", "owner_id", "priority_id", "state_id"},
		by, when, r.next("ticket_history"), name, hid, ts.id, nullID(article), ts.typeID, ts.queue, ts.owner, prioNormal, ts.state)
}

func (r *restrictBuilder) setOwner(ts *ticketState, owner, by Person, when time.Time) {
	ts.owner = owner.ID
	ts.row[6] = owner.ID // user_id
	r.history(ts, "OwnerUpdate", fmt.Sprintf("%%%%%s%%%%%d", owner.Login, owner.ID), 0, by, when)
}

func (r *restrictBuilder) setState(ts *ticketState, state int64, by Person, when time.Time) {
	old := ts.state
	ts.state = state
	ts.row[9] = state // ticket_state_id
	ts.row[4] = int64(lockUnlock)
	if state == stOpen || state == stPendingReminder {
		ts.row[4] = int64(lockLock)
	}
	r.history(ts, "StateUpdate", fmt.Sprintf("%%%%%s%%%%%s%%%%", stateName[old], stateName[state]), 0, by, when)
}

type articleSpec struct {
	sender  int64 // senderAgent or senderCustomer
	channel int64 // chEmail, chPhone, chInternal
	by      Person
	from    string
	to, cc  []Person
	toText  string // when the recipient is the helpdesk
	subject string
	body    string
	replyTo int64 // the article answered (In-Reply-To)
	files   []string
	fs      bool // stored as files (ArticleStorageFS)
	queue   bool // waiting in mail_queue
	when    time.Time
	minutes float64 // time accounted
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}@.\-]+`)

// indexText is the search index's form of a field: lower case, words only.
func indexText(s string) string {
	return strings.TrimSpace(nonWord.ReplaceAllString(strings.ToLower(s), " "))
}

func joinMailboxes(ps []Person) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = mailbox(p)
	}
	return strings.Join(parts, ", ")
}

func (r *restrictBuilder) article(ts *ticketState, a articleSpec) int64 {
	id := r.next("article")
	visible := 1
	if a.channel == chInternal {
		visible = 0
	}
	r.addAudited("article", []string{"id", "ticket_id", "article_sender_type_id", "communication_channel_id", "is_visible_for_customer",
		"search_index_needs_rebuild", "insert_fingerprint"}, a.by, a.when, id, ts.id, a.sender, a.channel, visible, 0,
		stableHex(fmt.Sprintf("fingerprint|%d", id), 32))
	to := a.toText
	if to == "" {
		to = joinMailboxes(a.to)
	}
	cc := joinMailboxes(a.cc)
	msgID := fmt.Sprintf("<%d.%s@%s>", a.when.Unix(), stableHex(fmt.Sprintf("msg|%d", id), 12), "atlas-facility.example")
	if a.sender == senderCustomer {
		domain := ts.customer.Email[strings.IndexByte(ts.customer.Email, '@')+1:]
		msgID = fmt.Sprintf("<%s@%s>", stableHex(fmt.Sprintf("msg|%d", id), 16), domain)
	}
	r.msgIDs[id] = msgID
	var inReplyTo, refs any
	parent := r.msgIDs[a.replyTo]
	if parent != "" {
		inReplyTo, refs = parent, parent
	}
	ctype := "text/plain; charset=utf-8"
	r.addAudited("article_data_mime", []string{"id", "article_id", "a_from", "a_reply_to", "a_to", "a_cc", "a_bcc", "a_subject", "a_message_id",
		"a_message_id_md5", "a_in_reply_to", "a_references", "a_content_type", "a_body", "incoming_time"}, a.by, a.when,
		r.next("article_data_mime"), id, a.from, nil, nullable(to), nullable(cc), nil, a.subject, msgID, stableHex("md5|"+msgID, 32),
		inReplyTo, refs, ctype, a.body, a.when.Unix())

	dir := path.Join("var", "article", a.when.Format("2006"), a.when.Format("01"), a.when.Format("02"), strconv.FormatInt(id, 10))
	subject := ts.customer.ID == r.subjectCustomer
	if a.channel == chEmail {
		raw := fmt.Sprintf("From: %s\nTo: %s\n", a.from, to)
		if cc != "" {
			raw += "Cc: " + cc + "\n"
		}
		raw += fmt.Sprintf("Subject: %s\nMessage-ID: %s\nDate: %s\n", a.subject, msgID, a.when.Format(time.RFC1123Z))
		if parent != "" {
			raw += "In-Reply-To: " + parent + "\nReferences: " + parent + "\n"
		}
		raw += "MIME-Version: 1.0\nContent-Type: " + ctype + "\n\n" + a.body + "\n"
		if a.fs {
			r.files = append(r.files, seedFile{File: File{Path: path.Join(dir, "plain.txt"), Of: fmt.Sprintf("article %d", id), SubjectCustomer: subject}, content: []byte(raw)})
		} else {
			r.addAudited("article_data_mime_plain", []string{"article_id", "body"}, a.by, a.when, id, raw)
		}
		if a.queue {
			var rcpt []string
			for _, p := range append(append([]Person{}, a.to...), a.cc...) {
				rcpt = append(rcpt, p.Email)
			}
			r.add("mail_queue", []string{"id", "insert_fingerprint", "article_id", "attempts", "sender", "recipient", "raw_message", "due_time",
				"last_smtp_code", "last_smtp_message", "create_time"}, r.next("mail_queue"), stableHex(fmt.Sprintf("mq|%d", id), 32), id, 1,
				supportAddress, strings.Join(rcpt, ","), raw, a.when.Add(15*time.Minute), 451, "4.7.1 Greylisted, please try again later", a.when)
		}
	}
	for _, name := range a.files {
		content := fileContent(name, fmt.Sprintf("%s of article %d", name, id))
		ctype := "application/pdf"
		if strings.HasSuffix(name, ".jpg") {
			ctype = "image/jpeg"
		}
		if a.fs {
			of := fmt.Sprintf("article %d", id)
			r.files = append(r.files,
				seedFile{File: File{Path: path.Join(dir, name), Of: of, SubjectCustomer: subject}, content: content},
				seedFile{File: File{Path: path.Join(dir, name+".content_type"), Of: of, SubjectCustomer: subject}, content: []byte(ctype)})
			continue
		}
		r.addAudited("article_data_mime_attachment", []string{"id", "article_id", "filename", "content_size", "content_type", "content_id",
			"content_alternative", "disposition", "content"}, a.by, a.when, r.next("article_data_mime_attachment"), id, name,
			strconv.Itoa(len(content)), ctype, nil, nil, "attachment", base64.StdEncoding.EncodeToString(content))
	}
	for _, kv := range [][2]string{{"From", a.from}, {"To", to}, {"Cc", cc}, {"Subject", a.subject}, {"Body", a.body}} {
		if kv[1] == "" {
			continue
		}
		r.add("article_search_index", []string{"ticket_id", "article_id", "article_key", "article_value"}, ts.id, id, kv[0], indexText(kv[1]))
	}
	// History line.
	switch {
	case a.sender == senderCustomer && a.channel == chPhone:
		r.history(ts, "PhoneCallCustomer", "%%", id, a.by, a.when)
	case a.sender == senderCustomer:
		r.history(ts, "EmailCustomer", "%%"+a.from, id, a.by, a.when)
	case a.channel == chInternal:
		r.history(ts, "AddNote", "%%Note", id, a.by, a.when)
	default:
		r.history(ts, "SendAnswer", "%%"+strings.Join([]string{to, cc}[:1+btoi(cc != "")], ", "), id, a.by, a.when)
	}
	if a.minutes > 0 {
		r.timeUsed[ts.id] += a.minutes
		r.addAudited("time_accounting", []string{"id", "ticket_id", "article_id", "time_unit"}, a.by, a.when, r.next("time_accounting"), ts.id, id,
			strconv.FormatFloat(a.minutes, 'f', 2, 64))
		r.history(ts, "TimeAccounting", fmt.Sprintf("%%%%%s time unit(s) accounted. Now total %s time unit(s).",
			strconv.FormatFloat(a.minutes, 'f', -1, 64), strconv.FormatFloat(r.timeUsed[ts.id], 'f', -1, 64)), id, a.by, a.when)
	}
	// The agent who wrote or handled it has seen it.
	if a.by.ID != 1 {
		r.add("article_flag", []string{"article_id", "article_key", "article_value", "create_time", "create_by"}, id, "Seen", "1", a.when, a.by.ID)
	}
	return id
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *restrictBuilder) ticketFlag(ts *ticketState, by Person, when time.Time) {
	r.add("ticket_flag", []string{"ticket_id", "ticket_key", "ticket_value", "create_time", "create_by"}, ts.id, "Seen", "1", when, by.ID)
}

func (r *restrictBuilder) watch(ts *ticketState, p Person, when time.Time) {
	r.addAudited("ticket_watcher", []string{"ticket_id", "user_id"}, p, when, ts.id, p.ID)
	r.history(ts, "Subscribe", "%%"+p.Name, 0, p, when)
}

func (r *restrictBuilder) session(id string, kv [][2]string) {
	for _, x := range kv {
		r.add("sessions", []string{"session_id", "data_key", "data_value", "serialized"}, id, x[0], x[1], 0)
	}
}

func (r *restrictBuilder) draft(ts *ticketState, by Person, action, title, content string, when time.Time) int64 {
	id := r.next("form_draft")
	r.addAudited("form_draft", []string{"id", "object_type", "object_id", "action", "title", "content"}, by, when, id, "Ticket", ts.id, action, title, content)
	return id
}

// buildRestrict writes the Restrict story: a facility-services helpdesk
// where the customer Bernd Krause (login bkrause) and the agent Nina Vogel
// (login nvogel) are the subjects, and Bernd's wife Bianca (login
// bkrause2) is the closest bystander.
func buildRestrict() *seedData {
	r := &restrictBuilder{builder: newBuilder(), ids: map[string]int64{}, hist: map[string]int64{}, agentOf: map[int64]Person{}, timeUsed: map[int64]float64{}, msgIDs: map[int64]string{}}
	// Continue the installer's keys.
	for table, last := range map[string]int64{"users": 1, "permission_groups": 3, "salutation": 1, "signature": 1, "system_address": 1,
		"queue": 4, "ticket_type": 1, "standard_template": 1} {
		r.ids[table] = last
	}
	for _, rs := range restrictBootstrap() {
		if rs.table == "ticket_history_type" {
			for _, row := range rs.rows {
				r.hist[row[1].(string)] = int64(row[0].(int))
			}
		}
	}
	root := Person{Table: "users", ID: 1, Login: "root@localhost", Name: "Admin OTRS", Role: "agent"}
	r.agentOf[1] = root
	r.people = append(r.people, root)

	setup := time.Date(2023, 1, 10, 9, 0, 0, 0, time.UTC)
	karl := r.agent("khuber", "Karl", "Huber", "karl.huber@atlas-facility.example", "", root, setup)
	nina := r.agent("nvogel", "Nina", "Vogel", "nina.vogel@atlas-facility.example", "+44 7700 900612", root, setup.Add(time.Hour))
	mia := r.agent("mschmidt", "Mia", "Schmidt", "mia.schmidt@atlas-facility.example", "", karl, setup.AddDate(0, 2, 0))
	leo := r.agent("lwagner", "Leo", "Wagner", "leo.wagner@atlas-facility.example", "", karl, time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))
	// Nina's row was last changed by Karl (her mobile number).
	for _, row := range r.sets["users"].rows {
		if row[0] == nina.ID {
			row[len(row)-2], row[len(row)-1] = setup.AddDate(0, 1, 0), karl.ID
		}
	}

	// Configuration the team added.
	r.addAudited("permission_groups", []string{"id", "name", "comments", "valid_id"}, karl, setup, r.next("permission_groups"), "support", "Facility support agents", 1)
	guCols := []string{"user_id", "group_id", "permission_key"}
	for _, g := range []struct {
		u     Person
		group int64
		perm  string
	}{
		{karl, 1, "rw"}, {karl, 2, "rw"}, {karl, 4, "rw"},
		{nina, 1, "rw"}, {nina, 4, "rw"}, {nina, 4, "rw"}, // a duplicate row, as real installations have
		{mia, 1, "rw"}, {mia, 4, "rw"}, {mia, 4, "ro"}, {mia, 4, "ro"},
		{leo, 1, "ro"},
	} {
		r.addAudited("group_user", guCols, karl, setup.AddDate(0, 2, 0), g.u.ID, g.group, g.perm)
	}
	r.addAudited("salutation", []string{"id", "name", "text", "content_type", "comments", "valid_id"}, karl, setup, r.next("salutation"),
		"Atlas salutation", "Dear <OTRS_CUSTOMER_REALNAME>,\n", "text/plain; charset=utf-8", nil, 1)
	r.addAudited("signature", []string{"id", "name", "text", "content_type", "comments", "valid_id"}, karl, setup, r.next("signature"),
		"Atlas support signature", "Kind regards,\n<OTRS_Agent_UserFirstname> <OTRS_Agent_UserLastname>\nAtlas Facility Services", "text/plain; charset=utf-8", nil, 1)
	r.addAudited("system_address", []string{"id", "value0", "value1", "comments", "queue_id", "valid_id"}, karl, setup, r.next("system_address"),
		supportAddress, "Atlas Facility Support", nil, int64(qSupport), 1)
	qCols := []string{"id", "name", "group_id", "system_address_id", "salutation_id", "signature_id", "unlock_timeout", "comments", "valid_id"}
	r.addAudited("queue", qCols, karl, setup, r.next("queue"), "Support", 4, 2, 2, 2, 0, "Repairs and maintenance", 1)
	r.addAudited("queue", qCols, karl, setup, r.next("queue"), "Billing", 4, 2, 2, 2, 0, "Invoices and contracts", 1)
	r.addAudited("ticket_type", []string{"id", "name", "comments", "valid_id"}, karl, setup, r.next("ticket_type"), "Incident", nil, 1)
	r.addAudited("ticket_type", []string{"id", "name", "comments", "valid_id"}, karl, setup, r.next("ticket_type"), "Service Request", nil, 1)
	r.addAudited("standard_template", []string{"id", "name", "text", "content_type", "template_type", "comments", "valid_id"}, nina, setup.AddDate(0, 1, 0),
		r.next("standard_template"), "Heating checklist", "Please check that the boiler pressure is between 1 and 1.5 bar.\n\nRegards, Nina Vogel",
		"text/plain; charset=utf-8", "Answer", nil, 1)
	dfCols := []string{"id", "name", "label", "field_type", "object_type", "config", "comments", "valid_id"}
	r.addAudited("dynamic_field", dfCols, karl, setup, r.next("dynamic_field"), "CallbackPhone", "Callback phone", "Text", "Ticket", "---\nDefaultValue: ''\n", nil, 1)
	r.addAudited("dynamic_field", dfCols, karl, setup, r.next("dynamic_field"), "ContractNumber", "Contract number", "Text", "Ticket", "---\nDefaultValue: ''\n", nil, 1)
	r.addAudited("dynamic_field", dfCols, karl, setup, r.next("dynamic_field"), "AgentRemark", "Agent remark", "TextArea", "Article", "---\nRows: 3\n", nil, 1)
	const dfCallback, dfContract, dfRemark = 1, 2, 3
	for _, pq := range [][2]int64{{nina.ID, qSupport}, {karl.ID, qBilling}, {mia.ID, qSupport}} {
		r.add("personal_queues", []string{"user_id", "queue_id"}, pq[0], pq[1])
	}

	// Customers.
	ccCols := []string{"customer_id", "name", "street", "zip", "city", "country", "url", "comments", "valid_id"}
	r.addAudited("customer_company", ccCols, karl, setup, "private", "Private customers", nil, nil, nil, nil, nil, nil, 1)
	r.addAudited("customer_company", ccCols, karl, setup, "hoffmann-property", "Hoffmann Property Ltd", "2 Quay Street", "BS1 4XE", "Bristol", "United Kingdom", "https://hoffmann-property.example", nil, 1)
	r.addAudited("customer_company", ccCols, karl, setup, "yilmaz-estates", "Yilmaz Estates", "88 Park Row", "BS1 5LJ", "Bristol", "United Kingdom", nil, nil, 1)
	bernd := r.customer(customerSpec{login: "bkrause", first: "Bernd", last: "Krause", email: "bernd.krause@hausmail.example", company: "private",
		phone: "+44 7700 900201", mobile: "+44 7700 900202", street: "14 Mill Lane", zip: "BS3 1AA", city: "Bristol", note: "Prefers calls in the morning",
		by: nina, when: setup.AddDate(0, 9, 0), prefs: [][2]string{{"UserLanguage", "en"}, {"UserShowTickets", "25"}, {"UserLastLogin", "1709881200"}}})
	r.subjectCustomer = bernd.ID
	bianca := r.customer(customerSpec{login: "bkrause2", first: "Bianca", last: "Krause", email: "bianca.krause@hausmail.example", company: "private",
		mobile: "+44 7700 900203", street: "14 Mill Lane", zip: "BS3 1AA", city: "Bristol", by: mia, when: setup.AddDate(1, 1, 0),
		prefs: [][2]string{{"UserLanguage", "de"}, {"UserLastLogin", "1709967600"}}})
	clara := r.customer(customerSpec{login: "choffmann", first: "Clara", last: "Hoffmann", email: "clara.hoffmann@hoffmann-property.example",
		company: "hoffmann-property", phone: "+44 7700 900301", by: karl, when: setup.AddDate(0, 3, 0), prefs: [][2]string{{"UserLanguage", "en"}}})
	deniz := r.customer(customerSpec{login: "dyilmaz", first: "Deniz", last: "Yilmaz", email: "deniz@yilmaz-estates.example", company: "yilmaz-estates",
		mobile: "+44 7700 900311", by: nina, when: setup.AddDate(0, 4, 0)})
	eva := r.customer(customerSpec{login: "20417", first: "Eva", last: "Roth", email: "eva.roth@post.example", company: "private",
		street: "3 Harbour Walk", zip: "BS1 5DB", city: "Bristol", by: karl, when: setup.AddDate(0, 5, 0), prefs: [][2]string{{"UserLanguage", "en"}}})
	felix := r.customer(customerSpec{login: "fbraun", first: "Felix", last: "Braun", email: "felix.braun@post.example", company: "private", by: mia, when: setup.AddDate(0, 6, 0)})

	day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	support := supportAddress
	ninaFrom := fmt.Sprintf("%q <%s>", "Nina Vogel via Atlas Facility Support", support)
	karlFrom := fmt.Sprintf("%q <%s>", "Karl Huber via Atlas Facility Support", support)
	sig := func(p Person) string { return "\n\nKind regards,\n" + p.Name + "\nAtlas Facility Services" }

	// T1: Bernd's heating, November 2023 (files on disk), closed by Nina.
	t1 := r.ticket(ticketSpec{tn: "2023110210000011", title: "Heating not working", queue: qSupport, typeID: typeIncident, responsible: nina,
		changedBy: nina, customer: bernd, company: "private", when: day(2023, 11, 2, 10)})
	a1 := r.article(t1, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(bernd), toText: support, subject: "Heating not working",
		body:  "Hello,\n\nthe heating in my flat at 14 Mill Lane has not worked since Monday. Photo of the boiler attached.\n\nBernd Krause\n+44 7700 900202",
		files: []string{"boiler-photo.jpg"}, fs: true, when: day(2023, 11, 2, 10)})
	r.setOwner(t1, nina, karl, day(2023, 11, 2, 11))
	a2 := r.article(t1, articleSpec{sender: senderAgent, channel: chEmail, by: nina, from: ninaFrom, to: []Person{bernd}, cc: []Person{bianca},
		subject: "RE: [Ticket#2023110210000011] Heating not working", replyTo: a1, fs: true, when: day(2023, 11, 2, 14),
		body: "Dear Bernd Krause,\n\nan engineer will come on Friday morning." + sig(nina) +
			"\n\n02/11/2023 10:00 - Bernd Krause wrote:\n> the heating in my flat at 14 Mill Lane has not worked since Monday."})
	a3 := r.article(t1, articleSpec{sender: senderAgent, channel: chInternal, by: nina, from: mailbox(nina), subject: "Phone call",
		body: "Called Bernd Krause on +44 7700 900202; engineer booked for Friday.", when: day(2023, 11, 2, 15), minutes: 30})
	r.setState(t1, stClosed, nina, day(2023, 11, 4, 9))
	r.ticketFlag(t1, nina, day(2023, 11, 2, 11))
	r.ticketFlag(t1, karl, day(2023, 11, 2, 11))
	r.watch(t1, karl, day(2023, 11, 2, 11))

	// T2: Bernd's invoice question, open, owned by Nina, responsible Karl.
	t2 := r.ticket(ticketSpec{tn: "2024030410000021", title: "Invoice 2024-118 questions", queue: qBilling, typeID: typeServiceRequest, responsible: karl, changedBy: nina, customer: bernd, company: "private", when: day(2024, 3, 4, 9)})
	a4 := r.article(t2, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(bernd), toText: support, cc: []Person{bianca},
		subject: "Invoice 2024-118 questions", files: []string{"invoice-2024-118.pdf"}, when: day(2024, 3, 4, 9),
		body: "Hello,\n\ninvoice 2024-118 charges the boiler service twice. Invoice attached.\n\nBernd Krause"})
	r.setOwner(t2, nina, karl, day(2024, 3, 4, 10))
	r.history(t2, "ResponsibleUpdate", "%%khuber%%2", 0, karl, day(2024, 3, 4, 10))
	r.setState(t2, stOpen, nina, day(2024, 3, 4, 11))
	r.article(t2, articleSpec{sender: senderAgent, channel: chEmail, by: nina, from: ninaFrom, to: []Person{bernd},
		subject: "RE: [Ticket#2024030410000021] Invoice 2024-118 questions", replyTo: a4, queue: true, when: day(2024, 3, 4, 11), minutes: 15.5,
		body: "Dear Bernd Krause,\n\nyou are right; a corrected invoice will follow." + sig(nina)})
	r.ticketFlag(t2, nina, day(2024, 3, 4, 10))
	d1 := r.draft(t2, nina, "AgentTicketCompose", "Corrected invoice",
		"---\nBody: 'Dear Bernd Krause, the corrected invoice 2024-118a is attached.'\nSubject: 'RE: Invoice 2024-118 questions'\nTo: '\"Bernd Krause\" <bernd.krause@hausmail.example>'\n",
		day(2024, 3, 5, 16))

	// T3: Bianca's leaking pipe; Nina answered in Mia's ticket; Bernd in Cc.
	t3 := r.ticket(ticketSpec{tn: "2024030510000031", title: "Leaking pipe in the basement", queue: qSupport, typeID: typeIncident, responsible: mia, changedBy: mia, customer: bianca, company: "private", when: day(2024, 3, 5, 8)})
	a6 := r.article(t3, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(bianca), toText: support, cc: []Person{bernd},
		subject: "Leaking pipe in the basement", when: day(2024, 3, 5, 8),
		body: "Hi,\n\nthe pipe in our basement leaks again. My husband Bernd Krause (bernd.krause@hausmail.example) reported the same last year.\n\nBianca Krause"})
	r.setOwner(t3, mia, karl, day(2024, 3, 5, 9))
	r.setState(t3, stOpen, mia, day(2024, 3, 5, 9))
	a7 := r.article(t3, articleSpec{sender: senderAgent, channel: chEmail, by: nina, from: ninaFrom, to: []Person{bianca}, cc: []Person{bernd},
		subject: "RE: [Ticket#2024030510000031] Leaking pipe in the basement", replyTo: a6, queue: true, when: day(2024, 3, 5, 10),
		body: "Dear Bianca Krause,\n\nwe will send the plumber who fixed it for Bernd last year." + sig(nina) +
			"\n\n05/03/2024 08:00 - Bianca Krause wrote:\n> My husband Bernd Krause (bernd.krause@hausmail.example) reported the same last year."})
	r.article(t3, articleSpec{sender: senderAgent, channel: chInternal, by: mia, from: mailbox(mia), subject: "Note",
		body: "Nina already talked to Bernd Krause about this in November.", when: day(2024, 3, 5, 11)})
	r.ticketFlag(t3, mia, day(2024, 3, 5, 9))
	r.ticketFlag(t3, nina, day(2024, 3, 5, 10))
	r.ticketFlag(t3, nina, day(2024, 3, 5, 10)) // the same flag twice: rows without a key repeat
	r.watch(t3, nina, day(2024, 3, 5, 10))

	// T4: Clara's maintenance quote, answered and closed by Nina.
	t4 := r.ticket(ticketSpec{tn: "2024030610000041", title: "Quote for annual maintenance", queue: qSupport, typeID: typeServiceRequest, responsible: karl, changedBy: nina, customer: clara, company: "hoffmann-property", when: day(2024, 3, 6, 9)})
	a9 := r.article(t4, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(clara), toText: support, subject: "Quote for annual maintenance",
		body: "Good morning,\n\nour tenant Bernd Krause recommended you. Could you quote for the annual maintenance of 2 Quay Street?\n\nClara Hoffmann", when: day(2024, 3, 6, 9)})
	r.setOwner(t4, nina, karl, day(2024, 3, 6, 9))
	a10 := r.article(t4, articleSpec{sender: senderAgent, channel: chEmail, by: nina, from: ninaFrom, to: []Person{clara},
		subject: "RE: [Ticket#2024030610000041] Quote for annual maintenance", replyTo: a9, files: []string{"maintenance-quote.pdf"},
		when: day(2024, 3, 6, 13), minutes: 45, body: "Dear Clara Hoffmann,\n\nplease find our quote attached." + sig(nina)})
	r.setState(t4, stClosed, nina, day(2024, 3, 7, 9))
	r.ticketFlag(t4, nina, day(2024, 3, 6, 9))

	// T5: Deniz phoned; Nina owns it, pending a reminder; her note and draft.
	t5 := r.ticket(ticketSpec{tn: "2024030710000051", title: "Broken window latch", queue: qSupport, typeID: typeIncident, responsible: mia, changedBy: nina, customer: deniz, company: "yilmaz-estates", when: day(2024, 3, 7, 10)})
	r.article(t5, articleSpec{sender: senderCustomer, channel: chPhone, by: nina, from: mailbox(deniz), toText: "Support",
		subject: "Phone call", body: "Deniz Yilmaz called: the window latch in flat 4, 88 Park Row, is broken.", when: day(2024, 3, 7, 10)})
	r.setOwner(t5, nina, nina, day(2024, 3, 7, 10))
	a12 := r.article(t5, articleSpec{sender: senderAgent, channel: chInternal, by: nina, from: mailbox(nina), subject: "Note",
		body: "Part ordered; Deniz prefers a text message before the visit.", when: day(2024, 3, 7, 11), minutes: 10})
	r.setState(t5, stPendingReminder, nina, day(2024, 3, 7, 11))
	d2 := r.draft(t5, nina, "AgentTicketNote", "Note", "---\nBody: 'Latch delivered, booking the visit with Deniz Yilmaz.'\nSubject: Note\nTimeUnits: '5'\n", day(2024, 3, 8, 17))
	r.watch(t5, mia, day(2024, 3, 7, 12))

	// T6: Eva (numeric login), handled by Karl.
	t6 := r.ticket(ticketSpec{tn: "2024030810000061", title: "Access card not working", queue: qSupport, typeID: typeIncident, responsible: karl, changedBy: karl, customer: eva, company: "private", when: day(2024, 3, 8, 9)})
	a13 := r.article(t6, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(eva), toText: support, subject: "Access card not working",
		body: "My access card for 3 Harbour Walk stopped working.\n\nEva Roth (customer no. 20417)", when: day(2024, 3, 8, 9)})
	r.setOwner(t6, karl, karl, day(2024, 3, 8, 9))
	r.article(t6, articleSpec{sender: senderAgent, channel: chEmail, by: karl, from: karlFrom, to: []Person{eva},
		subject: "RE: [Ticket#2024030810000061] Access card not working", replyTo: a13, when: day(2024, 3, 8, 12), minutes: 10,
		body: "Dear Eva Roth,\n\na new card is on its way." + sig(karl)})
	r.setState(t6, stClosed, karl, day(2024, 3, 9, 9))

	// T7: Felix's ventilation; Nina's note names Bernd; Karl's draft.
	t7 := r.ticket(ticketSpec{tn: "2024030910000071", title: "Noise from ventilation", queue: qSupport, typeID: typeIncident, responsible: mia, changedBy: mia, customer: felix, company: "private", when: day(2024, 3, 9, 10)})
	r.article(t7, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(felix), toText: support, subject: "Noise from ventilation",
		body: "The ventilation in the stairwell is very loud at night.\nFelix Braun", when: day(2024, 3, 9, 10)})
	r.setOwner(t7, mia, karl, day(2024, 3, 9, 11))
	a16 := r.article(t7, articleSpec{sender: senderAgent, channel: chInternal, by: nina, from: mailbox(nina), subject: "Note",
		body: "Same building as Bernd Krause's flat (14 Mill Lane); check both ventilation units.", when: day(2024, 3, 9, 12)})
	r.draft(t7, karl, "AgentTicketNote", "Note", "---\nBody: 'Engineer booked for Tuesday.'\nSubject: Note\n", day(2024, 3, 9, 13))
	r.watch(t7, nina, day(2024, 3, 9, 12))
	r.ticketFlag(t7, mia, day(2024, 3, 9, 11))

	// T8: Bernd wrote again about the invoice; merged into T2.
	t8 := r.ticket(ticketSpec{tn: "2024031110000081", title: "Re: Invoice 2024-118", queue: qBilling, typeID: typeServiceRequest, responsible: karl, changedBy: karl, customer: bernd, company: "private", when: day(2024, 3, 11, 8)})
	a17 := r.article(t8, articleSpec{sender: senderCustomer, channel: chEmail, by: root, from: mailbox(bernd), toText: support, subject: "Re: Invoice 2024-118",
		body: "Any news about the corrected invoice?\nBernd Krause", when: day(2024, 3, 11, 8)})
	r.setOwner(t8, karl, karl, day(2024, 3, 11, 9))
	r.history(t8, "Merged", fmt.Sprintf("%%%%%s%%%%%d%%%%%s%%%%%d", t8.tnText, t8.id, t2.tnText, t2.id), 0, karl, day(2024, 3, 11, 9))
	r.setState(t8, stMerged, karl, day(2024, 3, 11, 9))

	// Custom field values: object_id is a ticket id or an article id.
	dfvCols := []string{"id", "field_id", "object_id", "value_text", "value_date", "value_int"}
	r.add("dynamic_field_value", dfvCols, r.next("dynamic_field_value"), dfCallback, t1.id, "+44 7700 900202", nil, nil)
	r.add("dynamic_field_value", dfvCols, r.next("dynamic_field_value"), dfContract, t1.id, "AT-2023-0193", nil, nil)
	r.add("dynamic_field_value", dfvCols, r.next("dynamic_field_value"), dfContract, t4.id, "AT-2024-0031", nil, nil)
	r.add("dynamic_field_value", dfvCols, r.next("dynamic_field_value"), dfRemark, a3, "Bernd Krause was upset on the phone.", nil, nil)
	r.add("dynamic_field_value", dfvCols, r.next("dynamic_field_value"), dfRemark, a12, "Deniz prefers SMS.", nil, nil)

	// Sessions: one row per attribute; the UserLogin row names the owner.
	sess := func(owner string) string { return stableHex("session|"+owner, 32) }
	agentSession := func(p Person, ip string) string {
		id := sess(p.Login)
		r.session(id, [][2]string{{"UserID", strconv.FormatInt(p.ID, 10)}, {"UserLogin", p.Login}, {"UserType", "User"},
			{"UserFirstname", strings.Fields(p.Name)[0]}, {"UserLastname", strings.Fields(p.Name)[1]}, {"UserEmail", p.Email},
			{"UserRemoteAddr", ip}, {"UserRemoteUserAgent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0"},
			{"UserSessionStart", "1710147600"}, {"UserLastRequest", "1710151200"}})
		return id
	}
	customerSession := func(p Person, ip string) string {
		id := sess(p.Login)
		r.session(id, [][2]string{{"UserID", p.Login}, {"UserLogin", p.Login}, {"UserType", "Customer"},
			{"UserFirstname", strings.Fields(p.Name)[0]}, {"UserLastname", strings.Fields(p.Name)[1]}, {"UserEmail", p.Email},
			{"UserCustomerID", "private"}, {"UserRemoteAddr", ip}, {"UserRemoteUserAgent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3) Safari/604.1"},
			{"UserSessionStart", "1710147600"}, {"UserLastRequest", "1710149400"}})
		return id
	}
	sNina := agentSession(nina, "198.51.100.23")
	sBernd := customerSession(bernd, "203.0.113.77")
	customerSession(bianca, "203.0.113.77")
	agentSession(karl, "198.51.100.21")
	customerSession(eva, "203.0.113.91")

	r.seed.CustomerTickets = []int64{t1.id, t2.id, t8.id}
	r.seed.CustomerArticles = []int64{a1, a4, a17}
	r.seed.AgentOpenTickets = []int64{t2.id, t5.id}
	r.seed.AgentClosedTickets = []int64{t1.id, t4.id}
	r.seed.AgentArticlesElsewhere = []int64{a7, a10, a12, a16}
	r.seed.AgentNotes = []int64{a3, a12, a16}
	r.seed.AgentDrafts = []int64{d1, d2}
	r.seed.CustomerSessions = []string{sBernd}
	r.seed.AgentSessions = []string{sNina}
	r.seed.FSArticles = []int64{a1, a2}
	r.seed.NumericLoginCustomer = eva

	var bystanders []Person
	for _, p := range r.people {
		if p != bernd && p != nina && p != mia {
			bystanders = append(bystanders, p)
		}
	}
	sd := Seeded{SubjectCustomer: bernd, SubjectAgent: nina, ReassignTo: mia, Bystanders: append([]Person{mia}, bystanders...)}
	sd.Restrict = &r.seed
	return &seedData{sets: r.ordered(restrictSchema()), files: r.files, seeded: sd}
}
