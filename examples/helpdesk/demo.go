package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/examples/helpdesk/hostdb"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
)

// Demo logins. The passwords pass authn's policy (15+ characters, not
// common, not containing the username).
const (
	ownerUser = "owner"
	ownerPass = "blue-harbour-lantern-42"
	agentUser = "agent"
	agentPass = "quiet-meadow-compass-17"
)

// randomPassword returns 24 random lower-case letters and digits (120
// bits), which pass authn's policy.
func randomPassword() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b)), nil
}

// DemoLogin is one printed demo login.
type DemoLogin struct {
	Role, Name, Username, Password, PortalLink string
}

// Seed creates the demo account: its lifecycle (a trial), an owner, an
// agent, customers with tickets (one with an attachment, one spam), the
// contact form's consent purposes with their policy texts, and a little
// spam training. It does nothing when the account already has users.
// Outside demo mode the owner's and agent's passwords are random, and
// returned here only.
func (a *App) Seed(ctx context.Context) ([]DemoLogin, error) {
	n, err := a.host.CountUsers(ctx, a.acct)
	if err != nil || n > 0 {
		return nil, err
	}
	if _, err := a.kit.Life.Start(ctx, a.acct, retention.EventStartTrial, "u-owner"); err != nil && !errors.Is(err, gdprkit.ErrConflict) {
		return nil, err
	}
	staff := []struct {
		u         hostdb.User
		login, pw string
	}{
		{hostdb.User{ID: "u-owner", Role: hostdb.RoleOwner, Name: "Olivia Owner", Email: "olivia@helpdesk.example"}, ownerUser, ownerPass},
		{hostdb.User{ID: "u-agent", Role: hostdb.RoleAgent, Name: "Alex Agent", Email: "alex@helpdesk.example"}, agentUser, agentPass},
	}
	if !a.cfg.Demo {
		// Outside demo mode the staff logins get passwords of their own,
		// printed once at the first start: the demo's are public.
		for i := range staff {
			pw, err := randomPassword()
			if err != nil {
				return nil, err
			}
			staff[i].pw = pw
		}
	}
	var logins []DemoLogin
	for _, s := range staff {
		if err := a.host.AddUser(ctx, a.acct, s.u); err != nil {
			return nil, err
		}
		if err := a.kit.Auth.CreateUser(ctx, a.acct, s.u.ID, s.login, s.pw); err != nil {
			return nil, fmt.Errorf("create %s: %w", s.login, err)
		}
		logins = append(logins, DemoLogin{Role: s.u.Role, Name: s.u.Name, Username: s.login, Password: s.pw})
	}
	if _, err := a.kit.Consent.DefinePurpose(ctx, a.acct, consent.Purpose{Key: purposeSupport, Name: "Answering your message",
		Label: "I agree that my message and contact details are stored so the support team can answer me."}); err != nil {
		return nil, err
	}
	if _, err := a.kit.Consent.PublishPolicy(ctx, a.acct, purposeSupport, "We keep your messages while your request is open and for 12 months after it is closed, then delete them. You can see, download or delete your data in the customer portal at any time.", false, "u-owner"); err != nil {
		return nil, err
	}
	if _, err := a.kit.Consent.DefinePurpose(ctx, a.acct, consent.Purpose{Key: purposeNewsletter, Name: "Product news",
		Label: "Send me occasional product news (optional)."}); err != nil {
		return nil, err
	}
	if _, err := a.kit.Consent.PublishPolicy(ctx, a.acct, purposeNewsletter, "At most one e-mail a month; unsubscribe with one click.", false, "u-owner"); err != nil {
		return nil, err
	}
	customers := []struct {
		u       hostdb.User
		subject string
		body    string
		file    string
	}{
		{hostdb.User{ID: "c-carla", Role: hostdb.RoleCustomer, Name: "Carla Customer", Email: "carla@example.com"}, "Invoice 2291 is wrong",
			"Hello, my invoice lists two seats but we only have one. Could you correct it? The invoice is attached.", "invoice-2291.txt"},
		{hostdb.User{ID: "c-ben", Role: hostdb.RoleCustomer, Name: "Ben Baker", Email: "ben@example.com"}, "How do I export my reports?",
			"Hi team, I would like to export last month's reports as CSV for our accountant. Where can I find that option?", ""},
		{hostdb.User{ID: "c-win", Role: hostdb.RoleCustomer, Name: "Prize Desk", Email: "winner@prizes.example"}, "You are a WINNER claim your free prize now",
			"Congratulations!!! You have won a free iPhone. Click here to claim your prize now, limited offer, act now, free money guaranteed.", ""},
	}
	for _, c := range customers {
		if err := a.host.AddUser(ctx, a.acct, c.u); err != nil {
			return nil, err
		}
		if _, err := a.kit.Consent.Grant(ctx, a.acct, consent.Decision{Subject: gdprkit.SubjectID(c.u.ID), Purpose: purposeSupport, Source: consent.SourcePreChat,
			RecordedBy: gdprkit.ActorID(c.u.ID)}); err != nil {
			return nil, err
		}
		nt := hostdb.NewTicket{Requester: c.u, RequesterName: c.u.Name, Subject: c.subject, Body: c.body}
		if c.file != "" {
			content := []byte("Invoice 2291\nSeats: 2 x 29 EUR\nCustomer: Carla Customer\n")
			nt.File = &hostdb.NewFile{Name: c.file, Size: int64(len(content)),
				Key:   func(id int64) string { return "attachments/" + strconv.FormatInt(id, 10) + "/" + safeName(c.file) },
				Store: func(ctx context.Context, key string) error { return a.kit.Blobs.Put(ctx, a.acct, key, content) }}
		}
		created, err := a.host.CreateTicket(ctx, a.acct, nt)
		if err != nil {
			return nil, err
		}
		if c.u.ID == "c-ben" {
			// The agent's reply names another customer, as replies do:
			// erasing Carla redacts her name here (binding.go).
			if _, err := a.host.AddMessage(ctx, a.acct, created.Ticket, staff[1].u,
				"Hi Ben,\nopen Reports, then the Export button at the top right. Carla Customer asked the same last week.\n\nBest regards,\nAlex Agent"); err != nil {
				return nil, err
			}
		}
		logins = append(logins, DemoLogin{Role: hostdb.RoleCustomer, Name: c.u.Name, PortalLink: "/portal/login?t=" + a.portalToken(c.u.ID)})
	}
	// A little history, so the first verdicts mean something.
	var ex []spam.Example
	for i, s := range []string{
		"Win a free prize now, click here, limited offer",
		"Cheap pills online, free shipping, act now, best price guaranteed",
		"You won the lottery! Claim your free money now, click the link",
		"Hot singles in your area, click here now, free",
	} {
		ex = append(ex, spam.Example{ID: fmt.Sprintf("seed-spam-%d", i), Message: spam.Message{Subject: "Offer", Text: s}, Class: spam.Spam})
	}
	for i, s := range []string{
		"My invoice shows the wrong amount, could you check it please?",
		"How do I reset my password? The link in the e-mail has expired.",
		"Thanks for the quick answer, the export works now.",
		"Can we add a second agent seat to our plan next month?",
	} {
		ex = append(ex, spam.Example{ID: fmt.Sprintf("seed-ham-%d", i), Message: spam.Message{Subject: "Question", Text: s}, Class: spam.Ham})
	}
	if _, err := a.kit.Spam.TrainBatch(ctx, a.acct, ex); err != nil {
		return nil, err
	}
	return logins, nil
}

// RecoverOwner is the way back for an owner locked out of their own
// helpdesk (an IP allow list that excludes them, a locked sign-in, a lost
// password), for whoever runs the server: it removes the IP allow lists,
// sets a new random owner password (which also unlocks the sign-in and
// ends the owner's sessions) and returns it.
func (a *App) RecoverOwner(ctx context.Context) (string, error) {
	staff, err := a.host.Staff(ctx, a.acct)
	if err != nil {
		return "", err
	}
	for _, u := range staff {
		if u.Role != hostdb.RoleOwner {
			continue
		}
		if err := a.kit.IPs.DeleteAccount(ctx, a.acct, retention.SystemActor); err != nil {
			return "", err
		}
		pw, err := randomPassword()
		if err == nil {
			err = a.kit.Auth.SetPassword(ctx, a.acct, u.ID, pw)
		}
		if err == nil {
			err = a.kit.Auth.Unlock(ctx, a.acct, u.ID)
		}
		return pw, err
	}
	return "", fmt.Errorf("helpdesk: the account has no owner: %w", gdprkit.ErrNotFound)
}
