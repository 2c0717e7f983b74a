package main

// The erasure probe of restart mode (issue #25): a customer with many
// tickets is erased across the PostgreSQL restart. The request is made
// five seconds before the restart is due, and the restart comes as soon as
// the job is seen running, so the job is running when the database goes
// away (the seeded customer has no portal profile or consent: the
// harness's half-written checks leave it out); the harness then times how long after the database answers again
// the job is done, and checks the receipt against what changed: every
// seeded ticket and message counted as deleted, none of them left, the
// job not failed, no residue and no deviation shown.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// probeTickets is the size of the erased customer: enough that the job is
// still running when the database restarts, small enough to finish
// within seconds on this machine once it is back.
const probeTickets = 3000

const probeSubject = "load-erasure-probe"

var (
	jobStatusRE   = regexp.MustCompile(`id="job-status">([a-z]+)<`)
	receiptRowRE  = regexp.MustCompile(`<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td>`)
	requestPathRE = regexp.MustCompile(`^/privacy/requests/(\d+)$`)
)

// seedProbe writes the customer straight into the helpdesk's tables: one
// user, probeTickets tickets, two messages each.
func (h *helpdesk) seedProbe() error {
	db, err := sql.Open("pgx", h.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var acct string
	if err := db.QueryRowContext(ctx, "SELECT account_id FROM hd_users WHERE role = 'owner' LIMIT 1").Scan(&acct); err != nil {
		return fmt.Errorf("find the account: %w", err)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO hd_users (id, account_id, role, name, email, created_at) VALUES ($1, $2, 'customer', 'Erin Probe', 'erin.probe@example.com', $3)`,
			[]any{probeSubject, acct, now}},
		{`INSERT INTO hd_tickets (account_id, requester_id, requester_name, subject, status, spam_label, created_at)
			SELECT $1, $2, 'Erin Probe', 'Probe ticket ' || g, 'open', '', $3 FROM generate_series(1, $4::int) g`,
			[]any{acct, probeSubject, now, probeTickets}},
		{`INSERT INTO hd_messages (account_id, ticket_id, author_id, author_name, body, created_at)
			SELECT t.account_id, t.id, t.requester_id, t.requester_name, 'Hello, Erin Probe here, message ' || g, t.created_at
			FROM hd_tickets t CROSS JOIN generate_series(1, 2) g WHERE t.requester_id = $1`,
			[]any{probeSubject}},
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("seed the erasure probe: %w", err)
		}
	}
	return nil
}

// eraseAcrossRestart asks for the probe customer's erasure five seconds
// before the restart is due, closes running once its job is seen running
// (the restart comes then), and follows the request until the job is done. It returns
// notes for the report and counts failErasure when the job is not done
// within 10 s of the database's return or its receipt differs from what
// was seeded.
func (h *helpdesk) eraseAcrossRestart(ctx context.Context, at time.Duration, rec *recorder, running chan<- struct{}) []string {
	signalled := false
	signal := func() {
		if !signalled {
			signalled = true
			close(running)
		}
	}
	defer signal()
	fail := func(msg string) []string {
		rec.mu.Lock()
		rec.fails[failErasure]++
		rec.samples[failErasure] = msg
		rec.mu.Unlock()
		return []string{"erasure across the restart: " + msg}
	}
	select {
	case <-ctx.Done():
		return []string{"erasure across the restart: the run ended first"}
	case <-time.After(max(at-5*time.Second, time.Second)):
	}
	cl, _ := h.newClient(998)
	if err := cl.signIn(h.agent); err != nil {
		return fail("the agent could not sign in: " + err.Error())
	}
	bg := context.Background()
	tok, _, err := cl.csrf(bg, "/privacy/erase?subject="+probeSubject)
	if err != nil {
		return fail("no erasure form: " + err.Error())
	}
	resp, _, err := cl.send(bg, "POST", "/privacy/erase", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"csrf": {tok}, "subject": {probeSubject}, "verified": {"yes"}, "channel": {"email"}}.Encode()), "")
	if err != nil {
		return fail("the erasure request: " + err.Error())
	}
	m := requestPathRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		return fail(fmt.Sprintf("the erasure request answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location")))
	}
	page := "/privacy/requests/" + m[1]
	asked := time.Now()

	// Follow the request; the page is unavailable while the database is.
	deadline := asked.Add(90 * time.Second)
	var status, body string
	for time.Now().Before(deadline) {
		r, b, err := cl.send(bg, "GET", page, "", nil, "")
		if err == nil && r.StatusCode == http.StatusOK {
			if s := jobStatusRE.FindStringSubmatch(b); s != nil {
				status, body = s[1], b
				if status == "running" {
					signal()
				}
				if status == "done" || status == "failed" {
					break
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	doneAt := time.Now()
	if !signalled {
		return fail("the job was " + status + " before it was seen running: the restart did not interrupt it")
	}
	// Wait for the restart's end, so the database's return is known.
	for i := 0; i < 300 && rec.backAt.Load() == 0 && ctx.Err() == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	back := rec.backAt.Load()
	notes := []string{}
	switch {
	case status != "done":
		return fail(fmt.Sprintf("job %q %s after the request", status, doneAt.Sub(asked).Round(time.Millisecond)))
	case back == 0:
		notes = append(notes, "erasure across the restart: the database's return was not seen; the job was done "+
			doneAt.Sub(asked).Round(time.Millisecond).String()+" after the request")
	case doneAt.Before(time.Unix(0, back)):
		return fail("the job was done before the database answered again: the restart did not interrupt it")
	default:
		after := doneAt.Sub(time.Unix(0, back))
		if after > 10*time.Second {
			return fail(fmt.Sprintf("done %s after the database answered again (goal 10 s)", after.Round(time.Millisecond)))
		}
		notes = append(notes, fmt.Sprintf("erasure across the restart: %d tickets, %d messages; done %s after the database answered again (%s after the request)",
			probeTickets, 2*probeTickets, after.Round(time.Millisecond), doneAt.Sub(asked).Round(time.Millisecond)))
	}
	if strings.Contains(body, "Still found after the erasure") {
		return fail("the page lists residue")
	}
	deleted := map[string]int{}
	for _, row := range receiptRowRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(row[2])
		deleted[row[1]] = n
	}
	if deleted["Tickets"] != probeTickets || deleted["Messages"] != 2*probeTickets {
		return fail(fmt.Sprintf("the receipt says %d tickets and %d messages deleted, %d and %d were seeded",
			deleted["Tickets"], deleted["Messages"], probeTickets, 2*probeTickets))
	}
	if left, err := h.probeLeft(); err != nil {
		notes = append(notes, "erasure across the restart: count what is left: "+err.Error())
	} else if left != 0 {
		return fail(fmt.Sprintf("%d of the probe's rows are left after a receipt that says all were deleted", left))
	}
	return notes
}

// probeLeft counts the probe customer's rows still in the database.
func (h *helpdesk) probeLeft() (int, error) {
	db, err := sql.Open("pgx", h.dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT (SELECT COUNT(*) FROM hd_users WHERE id = $1) + (SELECT COUNT(*) FROM hd_tickets WHERE requester_id = $1)
		+ (SELECT COUNT(*) FROM hd_messages WHERE body LIKE 'Hello, Erin Probe here%')`, probeSubject).Scan(&n)
	return n, err
}
