package hostfixture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

// Person is one seeded person: a contact or staff member (Convo), an
// agent or customer (Restrict).
type Person struct {
	// Table is the table holding the person's row: "users" or
	// "customer_user".
	Table string
	// ID is the row's integer key (users.id, customer_user.id).
	ID int64
	// Login is the login (Restrict); in Restrict, other tables name a
	// customer by it. Empty in Convo.
	Login string
	// Name is the full name as the applications display it.
	Name string
	// Email is the e-mail address ("" when the person has none).
	Email string
	// Phone is the phone number ("" when none is stored).
	Phone string
	// Role is users.role in Convo ("contact", "agent", "admin", "owner");
	// "agent" or "customer" in Restrict.
	Role string
	// AccountID is the person's account (Convo); 0 in Restrict.
	AccountID int64
}

// String is "Name <email> (table id)", for test messages.
func (p Person) String() string {
	return fmt.Sprintf("%s <%s> (%s %d)", p.Name, p.Email, p.Table, p.ID)
}

// File is one file Seed wrote under the blob directory.
type File struct {
	// Path is slash-separated and relative to the blob directory; in Convo
	// it is also attachments.file_key.
	Path string
	// Of says what the file belongs to: "message 4", "user 6", "article 1",
	// "variant of user 6" (derived, named by no row).
	Of string
	// SubjectCustomer is true when erasing the subject customer (with
	// their conversations or tickets) must remove the file: their avatar,
	// the files of messages or articles in their conversations or tickets,
	// and files derived from those.
	SubjectCustomer bool
}

// Seeded names what Seed put into the database and the blob directory.
type Seeded struct {
	// Fixture is the fixture seeded.
	Fixture Name
	// BlobDir is the blob directory the files were written to.
	BlobDir string
	// SubjectCustomer is the customer (Convo: contact) a test erases.
	SubjectCustomer Person
	// SubjectAgent is the agent a test erases.
	SubjectAgent Person
	// ReassignTo is an agent beside SubjectAgent (same account) who may
	// take over the subject agent's work.
	ReassignTo Person
	// Bystanders are everybody else, including the other accounts' copies
	// of the subjects (Convo); no erasure of a subject may change their
	// data.
	Bystanders []Person
	// Files lists every file written, by path.
	Files []File
	// Convo holds what is particular to the Convo fixture (nil otherwise).
	Convo *ConvoSeed
	// Restrict holds what is particular to the Restrict fixture (nil
	// otherwise).
	Restrict *RestrictSeed
}

// SubjectCustomerFiles lists the paths of files that erasing the subject
// customer must remove; BystanderFiles the rest.
func (s *Seeded) SubjectCustomerFiles() []string { return s.filePaths(true) }

// BystanderFiles lists the paths of files no erasure of the subject
// customer may touch (other people's files, the subject agent's files in
// other people's conversations, files of other accounts).
func (s *Seeded) BystanderFiles() []string { return s.filePaths(false) }

func (s *Seeded) filePaths(subject bool) []string {
	var out []string
	for _, f := range s.Files {
		if f.SubjectCustomer == subject {
			out = append(out, f.Path)
		}
	}
	return out
}

// Person returns the seeded person with the given table and id.
func (s *Seeded) Person(table string, id int64) (Person, bool) {
	for _, p := range s.People() {
		if p.Table == table && p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// People lists the subjects, then ReassignTo, then the other bystanders.
func (s *Seeded) People() []Person {
	out := []Person{s.SubjectCustomer, s.SubjectAgent}
	return append(out, s.Bystanders...)
}

// Seed fills fixture f, created by Create in db's current namespace, with
// its deterministic data (the same rows and keys on every dialect) and
// writes its files under blobDir (created if missing). The rows are
// inserted in one transaction; nothing is left behind when it fails.
//
// It returns an error wrapping gdprkit.ErrInvalid for an unknown fixture
// or dialect or an empty blobDir, gdprkit.ErrNotFound when the fixture's
// tables do not exist (run Create first), and gdprkit.ErrConflict when the
// fixture is already seeded or a file it writes already exists.
func Seed(ctx context.Context, db *sql.DB, d sqldb.Dialect, f Name, blobDir string) (*Seeded, error) {
	s, err := schemaOf(f)
	if err != nil {
		return nil, err
	}
	if err := checkDialect(d); err != nil {
		return nil, err
	}
	if blobDir == "" {
		return nil, fmt.Errorf("hostfixture: seed %s: empty blob directory: %w", f, gdprkit.ErrInvalid)
	}
	have, err := listTables(ctx, db, d)
	if err != nil {
		return nil, fmt.Errorf("hostfixture: seed %s: %w", f, err)
	}
	hs := setOf(have)
	for _, t := range s.tables {
		if !hs[t.name] {
			return nil, fmt.Errorf("hostfixture: seed %s: table %s does not exist (run Create first): %w", f, t.name, gdprkit.ErrNotFound)
		}
	}
	var data *seedData
	var probe string
	switch f {
	case Convo:
		data, probe = buildConvo(), "SELECT COUNT(*) FROM accounts"
	case Restrict:
		data, probe = buildRestrict(), "SELECT COUNT(*) FROM users WHERE id > 1"
	}
	var n int
	if err := db.QueryRowContext(ctx, probe).Scan(&n); err != nil {
		return nil, fmt.Errorf("hostfixture: seed %s: %w", f, err)
	}
	if n > 0 {
		return nil, fmt.Errorf("hostfixture: seed %s: already seeded: %w", f, gdprkit.ErrConflict)
	}
	written, err := writeFiles(blobDir, data.files)
	if err != nil {
		removeFiles(blobDir, written)
		return nil, fmt.Errorf("hostfixture: seed %s: %w", f, err)
	}
	if err := insertAll(ctx, db, d, s, data.sets); err != nil {
		removeFiles(blobDir, written)
		return nil, fmt.Errorf("hostfixture: seed %s on %s: %w", f, d, err)
	}
	out := data.seeded
	out.Fixture = f
	out.BlobDir = blobDir
	for _, fl := range data.files {
		out.Files = append(out.Files, fl.File)
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Path < out.Files[j].Path })
	return &out, nil
}

// seedData is a fixture's generated content.
type seedData struct {
	sets   []*rowset
	files  []seedFile
	seeded Seeded
}

type seedFile struct {
	File
	content []byte
}

// builder accumulates rows per table in insertion order.
type builder struct {
	sets  map[string]*rowset
	order []string
	files []seedFile
}

func newBuilder() *builder { return &builder{sets: map[string]*rowset{}} }

// add appends a row; every row of a table must name the same columns.
func (b *builder) add(table string, cols []string, vals ...any) {
	if len(cols) != len(vals) {
		panic(fmt.Sprintf("hostfixture: %s: %d columns, %d values", table, len(cols), len(vals)))
	}
	rs := b.sets[table]
	if rs == nil {
		rs = &rowset{table: table, cols: cols}
		b.sets[table] = rs
		b.order = append(b.order, table)
	} else if strings.Join(rs.cols, ",") != strings.Join(cols, ",") {
		panic("hostfixture: " + table + ": rows with different columns")
	}
	rs.rows = append(rs.rows, vals)
}

// ordered returns the rowsets in the schema's table order (which is an
// order foreign keys allow).
func (b *builder) ordered(s *schemaDef) []*rowset {
	var out []*rowset
	for _, t := range s.tables {
		if rs := b.sets[t.name]; rs != nil {
			out = append(out, rs)
		}
	}
	if len(out) != len(b.sets) {
		panic("hostfixture: rows for a table the schema does not have")
	}
	return out
}

// jsonDoc is a value stored in a JSON column.
type jsonDoc struct{ v any }

// ints is a value stored in an integer list column.
type ints []int64

// encodeJSON encodes v compactly with sorted keys and no HTML escaping.
func encodeJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// param converts a seed value into what dialect d's driver takes.
func param(d sqldb.Dialect, v any) any {
	switch x := v.(type) {
	case time.Time:
		if d == sqlstore.SQLite {
			return x.UTC().Format(sqliteTime)
		}
		return x.UTC()
	case jsonDoc:
		return encodeJSON(x.v)
	case ints:
		if d == sqlstore.Postgres {
			parts := make([]string, len(x))
			for i, n := range x {
				parts[i] = strconv.FormatInt(n, 10)
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
		if x == nil {
			x = ints{}
		}
		return encodeJSON([]int64(x))
	case int:
		return int64(x)
	}
	return v
}

func insertAll(ctx context.Context, db *sql.DB, d sqldb.Dialect, s *schemaDef, sets []*rowset) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	for _, rs := range sets {
		if err := insertRows(ctx, tx, d, s, rs); err != nil {
			return err
		}
	}
	if d == sqlstore.Postgres {
		if err := resetSequences(ctx, tx, s); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// insertRows inserts a rowset with multi-row INSERT statements of at most
// 200 rows each.
func insertRows(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, s *schemaDef, rs *rowset) error {
	t := s.table(rs.table)
	if t == nil {
		return fmt.Errorf("no table %s", rs.table)
	}
	casts := make([]string, len(rs.cols))
	for i, c := range rs.cols {
		col := t.column(c)
		if col == nil {
			return fmt.Errorf("no column %s.%s", rs.table, c)
		}
		if d == sqlstore.Postgres {
			switch col.typ {
			case tJSON:
				casts[i] = "::jsonb"
			case tIntList:
				casts[i] = "::integer[]"
			}
		}
	}
	const chunk = 200
	for start := 0; start < len(rs.rows); start += chunk {
		end := min(start+chunk, len(rs.rows))
		var q strings.Builder
		fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", rs.table, strings.Join(rs.cols, ", "))
		args := make([]any, 0, (end-start)*len(rs.cols))
		for i, r := range rs.rows[start:end] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j, v := range r {
				if j > 0 {
					q.WriteString(", ")
				}
				args = append(args, param(d, v))
				if d == sqlstore.Postgres {
					fmt.Fprintf(&q, "$%d%s", len(args), casts[j])
				} else {
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", rs.table, err)
		}
	}
	return nil
}

// writeFiles writes files under root, refusing to overwrite; it returns
// the paths written so far.
func writeFiles(root string, files []seedFile) ([]string, error) {
	var written []string
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return written, fmt.Errorf("file %s already exists: %w", f.Path, gdprkit.ErrConflict)
			}
			return written, err
		}
		_, err = fh.Write(f.content)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		written = append(written, f.Path)
	}
	return written, nil
}

func removeFiles(root string, paths []string) {
	for _, p := range paths {
		_ = os.Remove(filepath.Join(root, filepath.FromSlash(p)))
	}
}

// stableUUID derives a UUID-shaped identifier from a seed string, so keys
// look random and are the same on every run.
func stableUUID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-a" + x[17:20] + "-" + x[20:32]
}

// stableHex derives n hex digits from a seed string (tokens, digests).
func stableHex(seed string, n int) string {
	h := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(h[:])[:n]
}

// fileContent is a small deterministic body for a file of the given name:
// a recognisable header for the type and a line saying what it is.
func fileContent(name, what string) []byte {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg":
		return append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), []byte("fixture image: "+what+"\n")...)
	case ".png":
		return append([]byte("\x89PNG\r\n\x1a\n"), []byte("fixture image: "+what+"\n")...)
	case ".pdf":
		return []byte("%PDF-1.4\n% fixture document: " + what + "\n%%EOF\n")
	}
	return []byte(what + "\n")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
