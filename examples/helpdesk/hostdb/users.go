package hostdb

import (
	"context"
	"database/sql"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The roles of hd_users.
const (
	RoleOwner    = "owner"
	RoleAgent    = "agent"
	RoleCustomer = "customer"
)

// User is a row of hd_users: the owner, agents and customers.
type User struct {
	// ID is the user's key ("u-…" for staff, "c-…" for customers).
	ID string
	// Role is RoleOwner, RoleAgent or RoleCustomer.
	Role string
	// Name and Email are the person's name and lower-case e-mail address.
	Name, Email string
	// CreatedAt is when the row was created.
	CreatedAt time.Time
	// DisabledAt, when set, is when the owner disabled the staff login.
	DisabledAt time.Time
}

// IsStaff reports whether the user works in the agent panel.
func (u User) IsStaff() bool { return u.Role == RoleOwner || u.Role == RoleAgent }

// GRole maps the host's role to gdprkit's hierarchy.
func (u User) GRole() gdprkit.Role {
	switch u.Role {
	case RoleOwner:
		return gdprkit.RoleOwner
	case RoleAgent:
		return gdprkit.RoleAgent
	}
	return gdprkit.RoleEndUser
}

const userCols = "id, role, name, email, created_at, disabled_at"

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var name, email, disabled sql.NullString
	var created string
	err := sc.Scan(&u.ID, &u.Role, &name, &email, &created, &disabled)
	u.Name, u.Email, u.CreatedAt, u.DisabledAt = name.String, email.String, parseTS(created), parseTS(disabled.String)
	return u, err
}

// User returns one user, or an error wrapping gdprkit.ErrNotFound.
func (s *DB) User(ctx context.Context, acct gdprkit.AccountID, id string) (User, error) {
	u, err := scanUser(s.c.QueryRowContext(ctx, s.q("SELECT "+userCols+" FROM hd_users WHERE account_id = ? AND id = ?"), string(acct), id))
	return u, classify(err, "user")
}

// CustomerByEmail returns the customer with that (lower-case) address, or
// an error wrapping gdprkit.ErrNotFound.
func (s *DB) CustomerByEmail(ctx context.Context, acct gdprkit.AccountID, email string) (User, error) {
	u, err := scanUser(s.c.QueryRowContext(ctx, s.q("SELECT "+userCols+" FROM hd_users WHERE account_id = ? AND role = ? AND email = ?"+s.forUpdate()),
		string(acct), RoleCustomer, email))
	return u, classify(err, "customer by e-mail")
}

// AddUser stores a new user with the profile row of their role (staff: an
// agent profile with a signature; customers: a portal profile), in one
// transaction. A taken ID or e-mail address (per role) is an error
// wrapping gdprkit.ErrConflict.
func (s *DB) AddUser(ctx context.Context, acct gdprkit.AccountID, u User) error {
	return s.InTx(ctx, func(tx *DB) error {
		now := ts(tx.now())
		if _, err := tx.c.ExecContext(ctx, tx.q("INSERT INTO hd_users (id, account_id, role, name, email, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
			u.ID, string(acct), u.Role, u.Name, nullStr(u.Email), now); err != nil {
			return classify(err, "add user")
		}
		return tx.addProfile(ctx, acct, u)
	})
}

func (s *DB) addProfile(ctx context.Context, acct gdprkit.AccountID, u User) error {
	var err error
	if u.IsStaff() {
		_, err = s.c.ExecContext(ctx, s.q("INSERT INTO hd_agent_profiles (user_id, account_id, signature) VALUES (?, ?, ?)"),
			u.ID, string(acct), "Best regards, "+u.Name)
	} else {
		_, err = s.c.ExecContext(ctx, s.q("INSERT INTO hd_portal_profiles (user_id, account_id, language, created_at) VALUES (?, ?, ?, ?)"),
			u.ID, string(acct), "en", ts(s.now()))
	}
	return classify(err, "add profile")
}

// UpsertCustomer returns the customer with u's e-mail address, creating
// them (with u's ID and name, and a portal profile) when there is none,
// and reports whether it did. Concurrent calls for one new address create
// one customer: the unique key on (account, role, e-mail) lets only one
// insert win, and the others read the winner's row. Call it inside InTx so
// that the customer and what the caller writes next commit together.
func (s *DB) UpsertCustomer(ctx context.Context, acct gdprkit.AccountID, u User) (User, bool, error) {
	ins := "INSERT INTO hd_users (id, account_id, role, name, email, created_at) VALUES (?, ?, ?, ?, ?, ?)"
	if s.d == sqldb.MySQL {
		ins += " ON DUPLICATE KEY UPDATE id = id"
	} else {
		ins += " ON CONFLICT (account_id, role, email) DO NOTHING"
	}
	res, err := s.c.ExecContext(ctx, s.q(ins), u.ID, string(acct), RoleCustomer, u.Name, u.Email, ts(s.now()))
	if err != nil {
		return User{}, false, classify(err, "upsert customer")
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		u.Role = RoleCustomer
		if err := s.addProfile(ctx, acct, u); err != nil {
			return User{}, false, err
		}
		got, err := s.User(ctx, acct, u.ID)
		return got, true, err
	}
	got, err := s.CustomerByEmail(ctx, acct, u.Email)
	return got, false, err
}

// SetDisabled disables (or enables again) a user's login in the host's
// records. It returns an error wrapping gdprkit.ErrNotFound for an unknown
// user.
func (s *DB) SetDisabled(ctx context.Context, acct gdprkit.AccountID, id string, disabled bool) error {
	at := sql.NullString{}
	if disabled {
		at = nullTS(s.now())
	}
	res, err := s.c.ExecContext(ctx, s.q("UPDATE hd_users SET disabled_at = ? WHERE account_id = ? AND id = ?"), at, string(acct), id)
	if err != nil {
		return classify(err, "disable user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return classify(sql.ErrNoRows, "disable user")
	}
	return nil
}

// PeopleFilter selects people.
type PeopleFilter struct {
	// Role keeps one role; "staff" keeps owner and agents; "" keeps all.
	Role string
	// Search keeps people whose name or e-mail contains it (case ignored).
	Search string
	// After is the last ID of the previous page ("" for the first).
	After string
	// Limit caps the page (0: 50).
	Limit int
}

// People returns a page of users matching f, in ID order, and the After of
// the next page ("" when this is the last): one query per page.
func (s *DB) People(ctx context.Context, acct gdprkit.AccountID, f PeopleFilter) ([]User, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query := "SELECT " + userCols + " FROM hd_users WHERE account_id = ? AND id > ?"
	args := []any{string(acct), f.After}
	switch f.Role {
	case "":
	case "staff":
		query += " AND role IN (?, ?)"
		args = append(args, RoleOwner, RoleAgent)
	default:
		query += " AND role = ?"
		args = append(args, f.Role)
	}
	if f.Search != "" {
		query += " AND (LOWER(name) LIKE ? ESCAPE '!' OR email LIKE ? ESCAPE '!')"
		args = append(args, likePattern(f.Search), likePattern(f.Search))
	}
	rows, err := s.c.QueryContext(ctx, s.q(query+" ORDER BY id LIMIT ?"), append(args, f.Limit+1)...)
	if err != nil {
		return nil, "", classify(err, "people")
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", classify(err, "people")
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", classify(err, "people")
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// Staff returns the owner and agents, by name.
func (s *DB) Staff(ctx context.Context, acct gdprkit.AccountID) ([]User, error) {
	rows, err := s.c.QueryContext(ctx, s.q("SELECT "+userCols+" FROM hd_users WHERE account_id = ? AND role IN (?, ?) ORDER BY name, id"),
		string(acct), RoleOwner, RoleAgent)
	if err != nil {
		return nil, classify(err, "staff")
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, classify(err, "staff")
		}
		out = append(out, u)
	}
	return out, classify(rows.Err(), "staff")
}

// UserIDs returns up to limit user IDs after after, in ID order: the
// erasure directory's listing.
func (s *DB) UserIDs(ctx context.Context, acct gdprkit.AccountID, after string, limit int) ([]string, error) {
	rows, err := s.c.QueryContext(ctx, s.q("SELECT id FROM hd_users WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"), string(acct), after, limit)
	if err != nil {
		return nil, classify(err, "user ids")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, classify(err, "user ids")
		}
		out = append(out, id)
	}
	return out, classify(rows.Err(), "user ids")
}

// CountUsers returns how many users of the account there are.
func (s *DB) CountUsers(ctx context.Context, acct gdprkit.AccountID) (int, error) {
	var n int
	err := s.c.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM hd_users WHERE account_id = ?"), string(acct)).Scan(&n)
	return n, classify(err, "count users")
}

// PortalLanguage returns the language of a customer's portal profile, or
// an error wrapping gdprkit.ErrNotFound when they have none (it was
// deleted).
func (s *DB) PortalLanguage(ctx context.Context, acct gdprkit.AccountID, id string) (string, error) {
	var lang string
	err := s.c.QueryRowContext(ctx, s.q("SELECT language FROM hd_portal_profiles WHERE account_id = ? AND user_id = ?"), string(acct), id).Scan(&lang)
	return lang, classify(err, "portal profile")
}
