package sqltarget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/sqldb"
)

// PeopleSpec declares one table of people for Directory: agents and
// customers may live in one table (a role column tells them apart) or in
// several, each with keys of its own type.
type PeopleSpec struct {
	// Table holds the people; Key is the column a subject is found by.
	Table string `json:"table"`
	Key   string `json:"key"`
	// AccountColumn, when set, holds the tenant.
	AccountColumn string `json:"account_column,omitempty"`
	// Prefix, when several tables share one subject-ID space, starts the
	// IDs of this table's people ("customer:bkrause", "agent:3"): the ID is
	// Prefix + key, so nothing is guessed from the key's form. At most one
	// spec may leave it empty.
	Prefix string `json:"prefix,omitempty"`
	// Class is the subject class of this table's people
	// (erasure.Subject.Class), which root targets may be limited to.
	Class string `json:"class,omitempty"`
	// Role is the role of everybody in the table, unless RoleColumn is
	// set; then Roles maps its values to roles, and a value not in Roles
	// has Role (or, when Role is unset, is not a subject).
	Role       gdprkit.Role            `json:"role,omitempty"`
	RoleColumn string                  `json:"role_column,omitempty"`
	Roles      map[string]gdprkit.Role `json:"roles,omitempty"`
	// Keys maps the names of a person's other keys to their columns
	// ({"login": "login"}): erasure.Subject.Keys.
	Keys map[string]string `json:"keys,omitempty"`
	// Where limits the rows that are people (erased_at IS NULL, valid_id
	// = 1): a person anonymised in place is nobody any more.
	Where []Cond `json:"where,omitempty"`
}

// Directory is an erasure.Directory over the host's tables of people,
// checked against the live schema when it is built.
type Directory struct {
	run   runner
	specs []PeopleSpec
	views []view
}

var _ erasure.Directory = (*Directory)(nil)

// NewDirectory checks specs against db's schema and returns the directory.
// It returns an error wrapping gdprkit.ErrInvalid for an unknown table or
// column, a role column without roles, or prefixes that do not tell the
// tables apart.
func NewDirectory(ctx context.Context, db *sql.DB, d sqldb.Dialect, specs ...PeopleSpec) (*Directory, error) {
	if db == nil || len(specs) == 0 {
		return nil, fmt.Errorf("%w: sqltarget: a directory needs a database and at least one table", gdprkit.ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	schema, err := sqldb.ReadSchema(ctx, db, d)
	if err != nil {
		return nil, fmt.Errorf("sqltarget: read the schema: %w", err)
	}
	dir := &Directory{run: runner{db: db, d: d}, specs: specs}
	seen := map[string]bool{}
	for i := range specs {
		p := &specs[i]
		if seen[p.Prefix] {
			return nil, fmt.Errorf("%w: sqltarget directory: two tables with prefix %q", gdprkit.ErrInvalid, p.Prefix)
		}
		seen[p.Prefix] = true
		t := schema.Table(p.Table)
		if t == nil || !identRe.MatchString(p.Table) {
			return nil, fmt.Errorf("%w: sqltarget directory: no table %q", gdprkit.ErrInvalid, truncate(p.Table))
		}
		f := &facts{table: t, cols: map[string]string{}, ints: map[string]bool{}, kinds: map[string]sqldb.Kind{}}
		cols := []string{p.Key, p.AccountColumn, p.RoleColumn}
		for _, c := range p.Keys {
			cols = append(cols, c)
		}
		for _, c := range p.Where {
			cols = append(cols, c.Column)
		}
		for _, name := range cols {
			if name == "" {
				continue
			}
			c := t.Column(name)
			if c == nil || !identRe.MatchString(name) {
				return nil, fmt.Errorf("%w: sqltarget directory: table %s has no column %q", gdprkit.ErrInvalid, t.Name, truncate(name))
			}
			f.cols[strings.ToLower(name)] = c.Name
			f.kinds[c.Name] = c.Kind
			if c.Kind == sqldb.KindInteger {
				f.ints[c.Name] = true
			}
		}
		if p.RoleColumn != "" && len(p.Roles) == 0 {
			return nil, fmt.Errorf("%w: sqltarget directory: %s: RoleColumn needs Roles", gdprkit.ErrInvalid, t.Name)
		}
		dir.views = append(dir.views, view{d: d, spec: &Spec{Table: p.Table, Key: p.Key, AccountColumn: p.AccountColumn, Where: p.Where}, f: f, kind: "directory"})
	}
	return dir, nil
}

// spec returns the spec whose prefix starts id (the longest), and the key.
func (dir *Directory) spec(id gdprkit.SubjectID) (int, string, bool) {
	best, key := -1, ""
	for i, p := range dir.specs {
		if strings.HasPrefix(string(id), p.Prefix) && (best < 0 || len(p.Prefix) > len(dir.specs[best].Prefix)) {
			best, key = i, string(id)[len(p.Prefix):]
		}
	}
	return best, key, best >= 0 && key != ""
}

// Lookup implements erasure.Directory.
func (dir *Directory) Lookup(ctx context.Context, account gdprkit.AccountID, id gdprkit.SubjectID) (erasure.Subject, error) {
	i, key, ok := dir.spec(id)
	if !ok {
		return erasure.Subject{}, fmt.Errorf("subject %q: %w", truncate(string(id)), gdprkit.ErrNotFound)
	}
	p, v := dir.specs[i], dir.views[i]
	kv, err := v.val(p.Key, key)
	if err != nil {
		return erasure.Subject{}, fmt.Errorf("subject %q: %w", truncate(string(id)), gdprkit.ErrNotFound)
	}
	names := make([]string, 0, len(p.Keys))
	for n := range p.Keys {
		names = append(names, n)
	}
	sort.Strings(names)
	s := v.stmt()
	s.sql("SELECT ")
	if p.RoleColumn != "" {
		s.sql(v.col(p.RoleColumn))
	} else {
		s.sql("NULL")
	}
	for _, n := range names {
		s.sql(", ", v.col(p.Keys[n]))
	}
	s.sql(" FROM ", v.table(), " WHERE ")
	v.filters(s, account)
	s.sql(v.col(p.Key), " = ").arg(kv)
	vals := make([]sql.NullString, 1+len(names))
	dest := make([]any, len(vals))
	for j := range vals {
		dest[j] = &vals[j]
	}
	err = dir.run.q().QueryRowContext(ctx, s.String(), s.args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return erasure.Subject{}, fmt.Errorf("subject %q: %w", truncate(string(id)), gdprkit.ErrNotFound)
	}
	if err != nil {
		return erasure.Subject{}, fmt.Errorf("sqltarget directory: %w", sqldb.Classify(err))
	}
	role := p.Role
	if p.RoleColumn != "" {
		if r, ok := p.Roles[vals[0].String]; ok {
			role = r
		} else if p.Role == gdprkit.RoleNone {
			return erasure.Subject{}, fmt.Errorf("subject %q: %w", truncate(string(id)), gdprkit.ErrNotFound)
		}
	}
	out := erasure.Subject{ID: id, Role: role, Class: p.Class, Key: gdprkit.SubjectID(key)}
	for j, n := range names {
		if vals[1+j].Valid {
			if out.Keys == nil {
				out.Keys = map[string]gdprkit.SubjectID{}
			}
			out.Keys[n] = gdprkit.SubjectID(vals[1+j].String)
		}
	}
	return out, nil
}

// Subjects implements erasure.Directory: table by table, each in key
// order; the cursor is "<table index>:<last key>".
func (dir *Directory) Subjects(ctx context.Context, account gdprkit.AccountID, cursor string, limit int) ([]gdprkit.SubjectID, string, error) {
	i, after := 0, ""
	if cursor != "" {
		n, rest, ok := strings.Cut(cursor, ":")
		x, err := strconv.Atoi(n)
		if !ok || err != nil || x < 0 || x >= len(dir.specs) {
			return nil, "", fmt.Errorf("%w: sqltarget directory: bad cursor", gdprkit.ErrInvalid)
		}
		i, after = x, rest
	}
	var out []gdprkit.SubjectID
	for ; i < len(dir.specs) && len(out) < limit; i, after = i+1, "" {
		p, v := dir.specs[i], dir.views[i]
		s := v.stmt()
		s.sql("SELECT ", v.col(p.Key), " FROM ", v.table(), " WHERE ")
		v.filters(s, account)
		if p.RoleColumn != "" && p.Role == gdprkit.RoleNone {
			roles := make([]any, 0, len(p.Roles))
			for r := range p.Roles {
				roles = append(roles, r)
			}
			v.cond(s, Cond{Column: p.RoleColumn, Op: OpIn, Values: roles})
			s.sql(" AND ")
		}
		s.sql(v.col(p.Key), " IS NOT NULL")
		if after != "" {
			kv, err := v.val(p.Key, after)
			if err != nil {
				return nil, "", fmt.Errorf("%w: sqltarget directory: bad cursor", gdprkit.ErrInvalid)
			}
			s.sql(" AND ", v.col(p.Key), " > ").arg(kv)
		}
		s.sql(" ORDER BY ", v.col(p.Key), " LIMIT ").arg(limit - len(out))
		rows, err := dir.run.q().QueryContext(ctx, s.String(), s.args...)
		if err != nil {
			return nil, "", fmt.Errorf("sqltarget directory: %w", sqldb.Classify(err))
		}
		var last string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, "", sqldb.Classify(err)
			}
			out = append(out, gdprkit.SubjectID(p.Prefix+k))
			last = k
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, "", sqldb.Classify(err)
		}
		if len(out) == limit {
			return out, strconv.Itoa(i) + ":" + last, nil
		}
	}
	return out, "", nil
}
