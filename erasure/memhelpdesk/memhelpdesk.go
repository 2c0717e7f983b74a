// Package memhelpdesk is a small in-memory helpdesk — users with roles and
// their identities, customer-portal profiles, OAuth tokens, sessions,
// saved searches, tickets, messages and attachments with blob keys — and
// its binding to the standard erasure graph. It serves tests, benchmarks
// of the engine, the quickstart, and as the reference a host reads when it
// binds its own tables.
//
// Choices made here: every user, agents included, has a KindEndUser
// profile with identities, tokens, sessions and saved searches under it;
// agents additionally have a KindAgentProfile (signature, groups). A
// ticket in the trash still belongs to its requester and is erased with
// them. Records are ordered by ID; Find scans linearly, which is fine for
// the sizes this package is meant for.
package memhelpdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// User is a helpdesk user: an end user (contact, customer), an agent, an
// admin or the owner.
type User struct {
	ID    gdprkit.SubjectID `json:"id"`
	Role  gdprkit.Role      `json:"role"`
	Name  string            `json:"name"`
	Email string            `json:"email"`
	// Statements are supplementary statements the user added to their
	// data through rectification (Art. 16).
	Statements []string `json:"statements,omitempty"`
}

// Identity is an e-mail address, phone number or social login of a user.
type Identity struct {
	ID    string            `json:"id"`
	User  gdprkit.SubjectID `json:"user"`
	Kind  string            `json:"kind"` // "email", "phone", "social"
	Value string            `json:"value"`
}

// PortalProfile is a customer-portal profile.
type PortalProfile struct {
	ID          string            `json:"id"`
	User        gdprkit.SubjectID `json:"user"`
	DisplayName string            `json:"display_name"`
	Company     string            `json:"company"`
}

// OAuthToken is an OAuth grant of a user to a client.
type OAuthToken struct {
	ID     string            `json:"id"`
	User   gdprkit.SubjectID `json:"user"`
	Client string            `json:"client"`
	Token  string            `json:"token"`
}

// Session is a login session.
type Session struct {
	ID        string            `json:"id"`
	User      gdprkit.SubjectID `json:"user"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
}

// SavedSearch is a saved search or view.
type SavedSearch struct {
	ID    string            `json:"id"`
	User  gdprkit.SubjectID `json:"user"`
	Name  string            `json:"name"`
	Query string            `json:"query"`
}

// AgentProfile is the agent-only part of a user.
type AgentProfile struct {
	ID        string            `json:"id"`
	User      gdprkit.SubjectID `json:"user"`
	Signature string            `json:"signature"`
	Groups    []string          `json:"groups"`
}

// Ticket is a ticket.
type Ticket struct {
	ID            string            `json:"id"`
	Requester     gdprkit.SubjectID `json:"requester"`
	RequesterName string            `json:"requester_name"`
	// Assignee is the agent working on it; "" is the unassigned queue.
	Assignee     gdprkit.SubjectID `json:"assignee"`
	AssigneeName string            `json:"assignee_name"`
	Subject      string            `json:"subject"`
	Open         bool              `json:"open"`
	// TrashedAt is set while the ticket is in the trash (soft deleted).
	TrashedAt time.Time `json:"trashed_at,omitzero"`
	// CreatedAt is when the ticket was opened (Locate finds by it).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Message is one message of a ticket.
type Message struct {
	ID         string            `json:"id"`
	Ticket     string            `json:"ticket"`
	Author     gdprkit.SubjectID `json:"author"`
	AuthorName string            `json:"author_name"`
	Body       string            `json:"body"`
	// CreatedAt is when the message was written (Locate finds by it).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Attachment is a file or inline image of a message, stored under BlobKey.
type Attachment struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Name    string `json:"name"`
	BlobKey string `json:"blob_key"`
	// CreatedAt is when the file was stored (Locate finds by it).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Data is one account's helpdesk, as Dump returns it.
type Data struct {
	Users       map[gdprkit.SubjectID]User `json:"users"`
	Identities  map[string]Identity        `json:"identities"`
	Portal      map[string]PortalProfile   `json:"portal"`
	Tokens      map[string]OAuthToken      `json:"tokens"`
	Sessions    map[string]Session         `json:"sessions"`
	Searches    map[string]SavedSearch     `json:"searches"`
	Agents      map[string]AgentProfile    `json:"agents"`
	Tickets     map[string]Ticket          `json:"tickets"`
	Messages    map[string]Message         `json:"messages"`
	Attachments map[string]Attachment      `json:"attachments"`
}

func newData() *Data {
	return &Data{Users: map[gdprkit.SubjectID]User{}, Identities: map[string]Identity{}, Portal: map[string]PortalProfile{},
		Tokens: map[string]OAuthToken{}, Sessions: map[string]Session{}, Searches: map[string]SavedSearch{}, Agents: map[string]AgentProfile{},
		Tickets: map[string]Ticket{}, Messages: map[string]Message{}, Attachments: map[string]Attachment{}}
}

// Helpdesk is the in-memory helpdesk of many accounts, with its blobs. It is
// safe for concurrent use.
type Helpdesk struct {
	mu       sync.Mutex
	accounts map[gdprkit.AccountID]*Data
	// Blobs holds the attachments' files.
	Blobs *Blobs
}

// New returns an empty helpdesk with an empty in-memory blob store.
func New() *Helpdesk {
	return &Helpdesk{accounts: map[gdprkit.AccountID]*Data{}, Blobs: NewBlobs()}
}

func (h *Helpdesk) data(a gdprkit.AccountID) *Data {
	d := h.accounts[a]
	if d == nil {
		d = newData()
		h.accounts[a] = d
	}
	return d
}

// Update runs fn on the account's data under the helpdesk's lock: the way
// tests and demos fill it.
func (h *Helpdesk) Update(a gdprkit.AccountID, fn func(d *Data)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn(h.data(a))
}

// Dump returns the account's data as canonical JSON (maps sorted by key),
// so two states compare as strings.
func (h *Helpdesk) Dump(a gdprkit.AccountID) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := json.Marshal(h.data(a))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// AddUser adds a user with a primary e-mail identity.
func (h *Helpdesk) AddUser(a gdprkit.AccountID, u User) {
	h.Update(a, func(d *Data) {
		d.Users[u.ID] = u
		if u.Email != "" {
			id := "idn-" + string(u.ID)
			d.Identities[id] = Identity{ID: id, User: u.ID, Kind: "email", Value: u.Email}
		}
		if u.Role >= gdprkit.RoleAgent {
			id := "agp-" + string(u.ID)
			d.Agents[id] = AgentProfile{ID: id, User: u.ID, Signature: "-- " + u.Name, Groups: []string{"support"}}
		}
	})
}

// Trash moves a ticket to the trash (soft delete); Restore takes it back.
// Both return an error wrapping gdprkit.ErrNotFound for an unknown ticket.
func (h *Helpdesk) Trash(_ context.Context, a gdprkit.AccountID, ticket string, at time.Time) error {
	return h.setTrashed(a, ticket, at)
}

// Restore takes a ticket out of the trash.
func (h *Helpdesk) Restore(_ context.Context, a gdprkit.AccountID, ticket string) error {
	return h.setTrashed(a, ticket, time.Time{})
}

func (h *Helpdesk) setTrashed(a gdprkit.AccountID, ticket string, at time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.data(a)
	t, ok := d.Tickets[ticket]
	if !ok {
		return fmt.Errorf("ticket %q: %w", ticket, gdprkit.ErrNotFound)
	}
	t.TrashedAt = at.UTC()
	d.Tickets[ticket] = t
	return nil
}

// Lookup implements erasure.Directory: every user has the default class
// and is found by their ID.
func (h *Helpdesk) Lookup(_ context.Context, a gdprkit.AccountID, user gdprkit.SubjectID) (erasure.Subject, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.data(a).Users[user]
	if !ok {
		return erasure.Subject{}, fmt.Errorf("user: %w", gdprkit.ErrNotFound)
	}
	return erasure.Subject{ID: u.ID, Role: u.Role, Key: u.ID}, nil
}

// Subjects implements erasure.Directory: users in ID order, the cursor
// being the last ID of the page.
func (h *Helpdesk) Subjects(_ context.Context, a gdprkit.AccountID, cursor string, limit int) ([]gdprkit.SubjectID, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []gdprkit.SubjectID
	for id := range h.data(a).Users {
		if string(id) > cursor {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	if len(out) > limit {
		out = out[:limit]
		return out, string(out[len(out)-1]), nil
	}
	return out, "", nil
}

// BlobKeys implements erasure.BlobIndex over the attachments (of every
// attachment of the account when parents is nil).
func (h *Helpdesk) BlobKeys(_ context.Context, a gdprkit.AccountID, parents []string, after string, limit int) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := toSet(parents)
	var out []string
	for _, at := range h.data(a).Attachments {
		if (parents == nil || set[at.ID]) && at.BlobKey > after {
			out = append(out, at.BlobKey)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// BlobParents implements erasure.BlobIndex: the attachment of each blob
// key.
func (h *Helpdesk) BlobParents(_ context.Context, a gdprkit.AccountID, keys []string) (map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := toSet(keys)
	out := map[string]string{}
	for _, at := range h.data(a).Attachments {
		if set[at.BlobKey] {
			out[at.BlobKey] = at.ID
		}
	}
	return out, nil
}

func toSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// Blobs is an in-memory erasure.BlobStore.
type Blobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewBlobs returns an empty blob store.
func NewBlobs() *Blobs { return &Blobs{m: map[string][]byte{}} }

func blobKey(a gdprkit.AccountID, key string) string { return string(a) + "\x00" + key }

// Put stores a blob.
func (b *Blobs) Put(a gdprkit.AccountID, key string, content []byte) {
	b.mu.Lock()
	b.m[blobKey(a, key)] = append([]byte(nil), content...)
	b.mu.Unlock()
}

// Len returns how many blobs the account has.
func (b *Blobs) Len(a gdprkit.AccountID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k := range b.m {
		if len(k) > len(a) && k[:len(a)+1] == string(a)+"\x00" {
			n++
		}
	}
	return n
}

// Stat implements erasure.BlobStore.
func (b *Blobs) Stat(_ context.Context, a gdprkit.AccountID, keys []string) (map[string]int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int64{}
	for _, k := range keys {
		if v, ok := b.m[blobKey(a, k)]; ok {
			out[k] = int64(len(v))
		}
	}
	return out, nil
}

// Read implements erasure.BlobStore.
func (b *Blobs) Read(_ context.Context, a gdprkit.AccountID, key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[blobKey(a, key)]
	if !ok {
		return nil, fmt.Errorf("blob: %w", gdprkit.ErrNotFound)
	}
	return append([]byte(nil), v...), nil
}

// Delete implements erasure.BlobStore.
func (b *Blobs) Delete(_ context.Context, a gdprkit.AccountID, keys []string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, k := range keys {
		if _, ok := b.m[blobKey(a, k)]; ok {
			delete(b.m, blobKey(a, k))
			n++
		}
	}
	return n, nil
}

// Walk implements erasure.BlobStore.
func (b *Blobs) Walk(_ context.Context, a gdprkit.AccountID, under string, fn func(key string, size int64) error) error {
	b.mu.Lock()
	prefix := string(a) + "\x00"
	var keys []string
	sizes := map[string]int64{}
	for k, v := range b.m {
		if strings.HasPrefix(k, prefix+under) {
			keys = append(keys, k[len(prefix):])
			sizes[k[len(prefix):]] = int64(len(v))
		}
	}
	b.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(k, sizes[k]); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAccount implements erasure.BlobStore.
func (b *Blobs) DeleteAccount(_ context.Context, a gdprkit.AccountID) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	prefix := string(a) + "\x00"
	n := 0
	for k := range b.m {
		if strings.HasPrefix(k, prefix) {
			delete(b.m, k)
			n++
		}
	}
	return n, nil
}

var _ erasure.Directory = (*Helpdesk)(nil)
var _ erasure.BlobStore = (*Blobs)(nil)
var _ erasure.BlobIndex = (*Helpdesk)(nil)
