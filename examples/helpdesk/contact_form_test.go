package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContactFormRecordsConsentAndOpensTicket(t *testing.T) {
	e := newEnv(t, false)
	visitor := e.browser()
	status, body := visitor.contact("Dana Doe", "dana@example.org", "My order never arrived.", false)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "Please tick the box")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'dana@example.org'"), "without consent nothing is stored")
	filesBefore := len(e.files())

	status, body = visitor.contact("Dana Doe", "dana@example.org", "My order never arrived.", true)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `id="thanks"`)
	assert.Contains(t, body, "/portal/login?t=")
	assert.Len(t, e.files(), filesBefore+1, "the attachment is stored as a file")

	agent := e.browser()
	agent.login(agentUser, agentPass)
	_, body = agent.get("/inbox")
	assert.Contains(t, body, "Help with Dana Doe")
	assert.Contains(t, body, "1 file")
	tid := regexp.MustCompile(`<a href="/tickets/(\d+)">Help with Dana Doe`).FindStringSubmatch(body)
	require.NotNil(t, tid)
	_, body = agent.get("/tickets/" + tid[1])
	assert.Contains(t, body, "passport scan.txt")
	assert.Contains(t, body, `id="unverified-sender"`, "the agent is told the sender's address was not verified")
	var id string
	require.NoError(t, e.db.QueryRow("SELECT id FROM hd_users WHERE email = 'dana@example.org'").Scan(&id))
	_, body = agent.get("/privacy/consent?subject=" + id)
	assert.Regexp(t, `<td>Answering your message</td><td><strong class="keep">given</strong>`, body)
	assert.Regexp(t, `<td>Product news</td><td>not given</td>`, body, "the optional box was not ticked")
	assert.Contains(t, body, "gave consent")
	assert.Contains(t, body, "intact")
}

// Anyone who knows a customer's e-mail once got that customer's portal
// link from the thank-you page, and with it their tickets and data export.
// Now only a new customer in demo mode sees a link; an existing one gets it
// through Config.SendPortalLink, at their own address.
func TestContactFormDoesNotHandOutAnExistingCustomersPortal(t *testing.T) {
	e := newEnv(t, false)
	var sent []string
	e.app.cfg.SendPortalLink = func(_ context.Context, email, link string) error {
		sent = append(sent, email+" "+link)
		return nil
	}
	mallory := e.browser()
	_, body := mallory.contact("Mallory", "ben@example.com", "hi", true)
	assert.Contains(t, body, `id="link-sent"`)
	link := regexp.MustCompile(`href="(/portal/login\?t=[^"]+)"`).FindStringSubmatch(body)
	if !assert.Nil(t, link, "no portal link on the page for an existing customer") {
		_, body = mallory.get(html.UnescapeString(link[1]))
		assert.NotContains(t, body, "How do I export my reports?", "Ben's ticket is shown to a stranger")
	}
	_, body = mallory.post("/portal/export", nil)
	assert.NotContains(t, body, "Hi Ben, open Reports", "Ben's data export is handed to a stranger")
	require.Len(t, sent, 1)
	assert.True(t, strings.HasPrefix(sent[0], "ben@example.com /portal/login?t="), sent[0])

	// A new customer in demo mode still gets the shortcut.
	_, body = e.browser().contact("Nina New", "nina@example.org", "hello", true)
	assert.Regexp(t, `id="portal-link" href="/portal/login\?t=`, body)
	assert.Len(t, sent, 1)
}

// form is a contact form as a visitor fills it in.
type form struct {
	fields map[string]string
	file   []byte
}

// contactForm loads the contact form and fills it in for email, with the
// required box ticked; its submission key is the one the page carried.
func (b *browser) contactForm(name, email string) form {
	b.e.t.Helper()
	_, body := b.get("/contact")
	key := regexp.MustCompile(`name="submission" value="([0-9a-f]{32})"`).FindStringSubmatch(body)
	require.NotNil(b.e.t, key, "the form carries a submission key")
	return form{fields: map[string]string{"csrf": b.csrf(), "name": name, "email": email, "subject": "Help with " + name,
		"message": "Hello,\nmy order has not arrived.\n\nThanks", "consent.support": "yes", "consent.support.version": "1",
		"consent.newsletter.version": "1", "submission": key[1]}}
}

// send posts the form; it is safe to call from several goroutines.
func (b *browser) send(f form) (int, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range f.fields {
		if err := w.WriteField(k, v); err != nil {
			return 0, "", err
		}
	}
	if f.file != nil {
		fw, err := w.CreateFormFile("file", "scan.txt")
		if err != nil {
			return 0, "", err
		}
		_, _ = fw.Write(f.file)
	}
	if err := w.Close(); err != nil {
		return 0, "", err
	}
	resp, err := b.c.Post(b.e.srv.URL+"/contact", w.FormDataContentType(), &buf)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// unlimited lifts the contact form's rate limit for tests that send many
// forms from one address.
func (e *env) unlimited() {
	e.app.contact = newLimiter(Rate{Burst: 1 << 20, PerMinute: 1 << 20}, e.app.clock)
}

// A double click sends the same form twice, or eight times, at once: one
// ticket is opened, and every other sending is told it was already
// received, with the same ticket number; one customer, one consent grant.
func TestContactFormDoubleClickOpensOneTicket(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := envOn(t, d)
			e.unlimited()
			b := e.browser()
			f := b.contactForm("Nora New", "nora@example.org")
			f.file = []byte("attached once")
			const clicks = 8
			type answer struct {
				status int
				body   string
				err    error
			}
			answers := make([]answer, clicks)
			var wg sync.WaitGroup
			for i := range clicks {
				wg.Go(func() {
					s, body, err := b.send(f)
					answers[i] = answer{s, body, err}
				})
			}
			wg.Wait()
			ticket := regexp.MustCompile(`ticket <strong>#(\d+)</strong>`)
			thanks, again, numbers := 0, 0, map[string]bool{}
			for _, a := range answers {
				require.NoError(t, a.err)
				require.Equal(t, http.StatusOK, a.status, "%.300s", a.body)
				switch {
				case strings.Contains(a.body, `id="thanks"`):
					thanks++
				case strings.Contains(a.body, `id="already-received"`):
					again++
				}
				if m := ticket.FindStringSubmatch(a.body); m != nil {
					numbers[m[1]] = true
				}
			}
			assert.Equal(t, 1, thanks, "one sending opened the ticket")
			assert.Equal(t, clicks-1, again, "the others were told it was already received")
			assert.Len(t, numbers, 1, "every answer names the same ticket")
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'nora@example.org'"))
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets t JOIN hd_users u ON u.id = t.requester_id WHERE u.email = 'nora@example.org'"))
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_attachments x JOIN hd_messages m ON m.id = x.message_id JOIN hd_tickets t ON t.id = m.ticket_id JOIN hd_users u ON u.id = t.requester_id WHERE u.email = 'nora@example.org'"))
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM gdpr_consent_records c JOIN hd_users u ON u.id = c.subject WHERE u.email = 'nora@example.org'"))
			assert.Len(t, e.files(), 2, "Carla's invoice and one copy of the attachment")
		})
	}
}

// Sixteen visitors write at once from one new address: one customer (a
// unique key and an upsert), sixteen tickets, and nobody half-written.
func TestContactFormKeepsOneCustomerPerAddress(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := envOn(t, d)
			e.unlimited()
			const visitors = 16
			forms := make([]form, visitors)
			bs := make([]*browser, visitors)
			for i := range visitors {
				bs[i] = e.browser()
				forms[i] = bs[i].contactForm("Otto Once", "otto@example.org")
			}
			var wg sync.WaitGroup
			var failed atomic.Int32
			for i := range visitors {
				wg.Go(func() {
					if s, body, err := bs[i].send(forms[i]); err != nil || s != http.StatusOK || !strings.Contains(body, `id="thanks"`) {
						failed.Add(1)
					}
				})
			}
			wg.Wait()
			assert.Zero(t, failed.Load())
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'otto@example.org'"), "one customer per address")
			assert.Equal(t, visitors, e.count("SELECT COUNT(*) FROM hd_tickets t JOIN hd_users u ON u.id = t.requester_id WHERE u.email = 'otto@example.org'"))
			assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_portal_profiles p JOIN hd_users u ON u.id = p.user_id WHERE u.email = 'otto@example.org'"))
			assert.Zero(t, e.count("SELECT COUNT(*) FROM gdpr_consent_records c WHERE c.subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hd_users u WHERE u.id = c.subject)"),
				"no consent without its customer")
		})
	}
}

// When the ticket cannot be stored, nothing of the submission is: not the
// customer, not their portal profile, not the consent, not the file
// (issue #20 item 1, #25 item 2). A trigger refuses the ticket.
func TestContactFormLeavesNothingWhenTheTicketIsRefused(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := envOn(t, d)
			for _, ddl := range map[sqldb.Dialect][]string{
				sqldb.SQLite: {`CREATE TRIGGER hd_test_refuse BEFORE INSERT ON hd_tickets WHEN NEW.subject = 'Refuse me' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`},
				sqldb.Postgres: {`CREATE FUNCTION hd_test_refuse() RETURNS trigger AS $$ BEGIN IF NEW.subject = 'Refuse me' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
					`CREATE TRIGGER hd_test_refuse BEFORE INSERT ON hd_tickets FOR EACH ROW EXECUTE FUNCTION hd_test_refuse()`},
				sqldb.MySQL: {`CREATE TRIGGER hd_test_refuse BEFORE INSERT ON hd_tickets FOR EACH ROW BEGIN IF NEW.subject = 'Refuse me' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`},
			}[d] {
				_, err := e.db.Exec(ddl)
				require.NoError(t, err)
			}
			consents := e.count("SELECT COUNT(*) FROM gdpr_consent_records")
			files := len(e.files())
			b := e.browser()
			f := b.contactForm("Rita Refused", "rita@example.org")
			f.fields["subject"], f.fields["consent.newsletter"], f.file = "Refuse me", "yes", []byte("a file")
			status, _, err := b.send(f)
			require.NoError(t, err)
			assert.Equal(t, http.StatusInternalServerError, status)
			assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'rita@example.org'"), "no customer")
			assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_portal_profiles p WHERE NOT EXISTS (SELECT 1 FROM hd_users u WHERE u.id = p.user_id)"))
			assert.Equal(t, consents, e.count("SELECT COUNT(*) FROM gdpr_consent_records"), "no consent")
			assert.Len(t, e.files(), files, "no file")

			f = b.contactForm("Rita Refused", "rita@example.org")
			status, body, err := b.send(f)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, status, "the same visitor can send again: %.300s", body)
			assert.Equal(t, consents+1, e.count("SELECT COUNT(*) FROM gdpr_consent_records"))
		})
	}
}

// Anyone can type an existing customer's address into the contact form
// (issue #17 defect 2). The message still reaches the team, under the
// name the sender gave and marked as unverified, but it changes nothing
// about the customer: not their name, not their consent (product news
// ticked by the impostor is not recorded; answering messages is already
// granted), and without a mailer the page promises no e-mail.
func TestContactFormFromAnExistingAddressChangesNothingAboutTheCustomer(t *testing.T) {
	e := newEnv(t, false)
	history := func() int {
		rs, err := e.app.kit.Consent.History(context.Background(), e.app.acct, "c-carla")
		require.NoError(t, err)
		return len(rs)
	}
	before := history()
	mallory := e.browser()
	f := mallory.contactForm("Mallory", "carla@example.com")
	f.fields["consent.newsletter"] = "yes"
	status, body, err := mallory.send(f)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="thanks"`)
	assert.NotContains(t, body, "We have e-mailed", "no mailer is configured: nothing is promised")
	assert.NotContains(t, body, "portal-link")
	assert.Equal(t, before, history(), "no consent record added to Carla's history")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_users WHERE id = 'c-carla' AND name = 'Carla Customer'"), "her name is unchanged")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE requester_id = 'c-carla' AND requester_name = 'Mallory' AND origin = 'form'"),
		"the ticket shows the name the sender gave")
}

// A form larger than the body limit is answered 413 with the limit in
// words, before it is read — not 403 "the form expired" (issue #25 item 8,
// #17 defect 5) — whether the client announces its length or not; a
// message over 20,000 characters is refused with 422; the contact form
// takes at most ten messages at once from one address (429 with
// Retry-After).
func TestContactFormLimitsSizeAndRate(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	f := b.contactForm("Big Sender", "big@example.org")
	f.file = bytes.Repeat([]byte("x"), 9<<20)
	status, body, err := b.send(f)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Contains(t, body, "too much to send at once: at most 3072 KiB")

	// Without a Content-Length (chunked), the limit stops the read.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("csrf=" + f.fields["csrf"] + "&message="))
		for range 50 {
			if _, err := pw.Write(bytes.Repeat([]byte("y"), 1<<20)); err != nil {
				break
			}
		}
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", e.srv.URL+"/contact", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE email = 'big@example.org'"))

	f = b.contactForm("Long Writer", "long@example.org")
	f.fields["message"] = strings.Repeat("a", 20_001)
	status, body, _ = b.send(f)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "too long")

	ok := 0
	var last *http.Response
	for i := range 12 {
		f := b.contactForm("Busy Writer", fmt.Sprintf("busy%d@example.org", i))
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range f.fields {
			_ = w.WriteField(k, v)
		}
		_ = w.Close()
		resp, err := b.c.Post(e.srv.URL+"/contact", w.FormDataContentType(), &buf)
		require.NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			ok++
		}
		last = resp
	}
	assert.Equal(t, 10-1, ok, "the refused long message used one of the ten; the oversized ones never reached the form")
	assert.Equal(t, http.StatusTooManyRequests, last.StatusCode)
	assert.NotEmpty(t, last.Header.Get("Retry-After"))
}
