package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/spam"
)

// Spam returns the spam filter's store.
func (s *Store) Spam() spam.Store { return spamSQL{s} }

type spamSQL struct{ *Store }

// spamChunk is the most rows one multi-row statement carries (at most five
// parameters a row: well under every dialect's placeholder limit).
const spamChunk = 1000

// greatest returns the SQL for the larger of two expressions.
func (s spamSQL) greatest(a, b string) string {
	if s.d.Dialect == SQLite {
		return "MAX(" + a + ", " + b + ")"
	}
	return "GREATEST(" + a + ", " + b + ")"
}

func (s spamSQL) LoadModel(ctx context.Context, a gdprkit.AccountID) (spam.Snapshot, error) {
	if err := checkAccount(a); err != nil {
		return spam.Snapshot{}, err
	}
	var snap spam.Snapshot
	err := s.db.QueryRowContext(ctx, s.q("SELECT ham, spam FROM gdpr_spam_models WHERE account_id = ?"), string(a)).Scan(&snap.Ham, &snap.Spam)
	if err != nil && err != sql.ErrNoRows {
		return spam.Snapshot{}, mapErr(err, "spam load model")
	}
	// Read separately from the counts: under READ COMMITTED a batch may
	// commit in between, which skews one message's worth of counts at most
	// until the next reload; scoring tolerates that.
	rows, err := s.db.QueryContext(ctx, s.q("SELECT hash, ham, spam, day FROM gdpr_spam_tokens WHERE account_id = ?"), string(a))
	if err != nil {
		return spam.Snapshot{}, mapErr(err, "spam load tokens")
	}
	defer rows.Close()
	for rows.Next() {
		var t spam.TokenCount
		var h int64
		if err := rows.Scan(&h, &t.Ham, &t.Spam, &t.Day); err != nil {
			return spam.Snapshot{}, mapErr(err, "spam load tokens")
		}
		t.Hash = uint64(h)
		snap.Tokens = append(snap.Tokens, t)
	}
	return snap, mapErr(rows.Err(), "spam load tokens")
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s spamSQL) lessons(ctx context.Context, q queryer, a gdprkit.AccountID, keys []uint64, lock string) ([]spam.Lesson, error) {
	var out []spam.Lesson
	for start := 0; start < len(keys); start += spamChunk {
		chunk := keys[start:min(start+spamChunk, len(keys))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, string(a))
		for _, k := range chunk {
			args = append(args, int64(k))
		}
		rows, err := q.QueryContext(ctx, s.q("SELECT msg_key, class, day FROM gdpr_spam_lessons WHERE account_id = ? AND msg_key IN "+placeholders(len(chunk))+lock), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var l spam.Lesson
			var k int64
			if err := rows.Scan(&k, &l.Class, &l.Day); err != nil {
				rows.Close()
				return nil, err
			}
			l.Key = uint64(k)
			out = append(out, l)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s spamSQL) Lessons(ctx context.Context, a gdprkit.AccountID, keys []uint64) ([]spam.Lesson, error) {
	if err := checkAccount(a); err != nil {
		return nil, err
	}
	out, err := s.lessons(ctx, s.db, a, keys, "")
	return out, mapErr(err, "spam lessons")
}

// Learn applies the batch in one transaction: the lesson check (rows
// locked with FOR UPDATE where the dialect has it; a lesson inserted by a
// concurrent batch surfaces as a unique-key conflict), multi-row lesson and
// token upserts of up to spamChunk rows each, and, only for tokens whose
// counts went down, one clamp and one delete statement per chunk.
func (s spamSQL) Learn(ctx context.Context, a gdprkit.AccountID, b spam.Batch) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, "spam learn", func(tx *sql.Tx) error {
		if err := s.learnLessons(ctx, tx, a, b.Lessons); err != nil {
			return err
		}
		if b.Ham != 0 || b.Spam != 0 {
			var q string
			if s.d.Dialect == MySQL {
				q = "INSERT INTO gdpr_spam_models (account_id, ham, spam) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE ham = ham + VALUES(ham), spam = spam + VALUES(spam)"
			} else {
				q = "INSERT INTO gdpr_spam_models (account_id, ham, spam) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET ham = gdpr_spam_models.ham + excluded.ham, spam = gdpr_spam_models.spam + excluded.spam"
			}
			if _, err := tx.ExecContext(ctx, s.q(q), string(a), b.Ham, b.Spam); err != nil {
				return err
			}
			if b.Ham < 0 || b.Spam < 0 {
				if _, err := tx.ExecContext(ctx, s.q("UPDATE gdpr_spam_models SET ham = "+s.greatest("ham", "0")+", spam = "+s.greatest("spam", "0")+" WHERE account_id = ? AND (ham < 0 OR spam < 0)"), string(a)); err != nil {
					return err
				}
			}
		}
		var down []uint64
		for start := 0; start < len(b.Tokens); start += spamChunk {
			chunk := b.Tokens[start:min(start+spamChunk, len(b.Tokens))]
			var sb strings.Builder
			sb.WriteString("INSERT INTO gdpr_spam_tokens (account_id, hash, ham, spam, day) VALUES " + valueRows(len(chunk), 5))
			args := make([]any, 0, 5*len(chunk))
			for _, t := range chunk {
				args = append(args, string(a), int64(t.Hash), t.Ham, t.Spam, t.Day)
				if t.Ham < 0 || t.Spam < 0 {
					down = append(down, t.Hash)
				}
			}
			if s.d.Dialect == MySQL {
				sb.WriteString(" ON DUPLICATE KEY UPDATE ham = ham + VALUES(ham), spam = spam + VALUES(spam), day = GREATEST(day, VALUES(day))")
			} else {
				sb.WriteString(" ON CONFLICT (account_id, hash) DO UPDATE SET ham = gdpr_spam_tokens.ham + excluded.ham, spam = gdpr_spam_tokens.spam + excluded.spam, day = " +
					s.greatest("gdpr_spam_tokens.day", "excluded.day"))
			}
			if _, err := tx.ExecContext(ctx, s.q(sb.String()), args...); err != nil {
				return err
			}
		}
		for start := 0; start < len(down); start += spamChunk {
			chunk := down[start:min(start+spamChunk, len(down))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, string(a))
			for _, h := range chunk {
				args = append(args, int64(h))
			}
			in := placeholders(len(chunk))
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM gdpr_spam_tokens WHERE account_id = ? AND hash IN "+in+" AND ham <= 0 AND spam <= 0"), args...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q("UPDATE gdpr_spam_tokens SET ham = "+s.greatest("ham", "0")+", spam = "+s.greatest("spam", "0")+" WHERE account_id = ? AND hash IN "+in+" AND (ham < 0 OR spam < 0)"), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s spamSQL) learnLessons(ctx context.Context, tx *sql.Tx, a gdprkit.AccountID, ls []spam.LessonChange) error {
	if len(ls) == 0 {
		return nil
	}
	keys := make([]uint64, len(ls))
	for i, l := range ls {
		keys[i] = l.Key
	}
	cur, err := s.lessons(ctx, tx, a, keys, s.d.forUpdate())
	if err != nil {
		return err
	}
	have := make(map[uint64]spam.Class, len(cur))
	for _, l := range cur {
		have[l.Key] = l.Class
	}
	var del []uint64
	var ins []spam.LessonChange
	for _, l := range ls {
		if have[l.Key] != l.Prev {
			return fmt.Errorf("%w: spam lesson changed concurrently", gdprkit.ErrConflict)
		}
		if l.Prev != spam.None {
			del = append(del, l.Key)
		}
		if l.Next != spam.None {
			ins = append(ins, l)
		}
	}
	for start := 0; start < len(del); start += spamChunk {
		chunk := del[start:min(start+spamChunk, len(del))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, string(a))
		for _, k := range chunk {
			args = append(args, int64(k))
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM gdpr_spam_lessons WHERE account_id = ? AND msg_key IN "+placeholders(len(chunk))), args...); err != nil {
			return err
		}
	}
	for start := 0; start < len(ins); start += spamChunk {
		chunk := ins[start:min(start+spamChunk, len(ins))]
		args := make([]any, 0, 4*len(chunk))
		for _, l := range chunk {
			args = append(args, string(a), int64(l.Key), int(l.Next), l.Day)
		}
		// A plain INSERT: a lesson a concurrent batch inserted after our
		// check fails here with a unique-key conflict.
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO gdpr_spam_lessons (account_id, msg_key, class, day) VALUES "+valueRows(len(chunk), 4)), args...); err != nil {
			return err
		}
	}
	return nil
}

func (s spamSQL) DeleteTokens(ctx context.Context, a gdprkit.AccountID, hashes []uint64) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	n := 0
	err := s.tx(ctx, "spam delete tokens", func(tx *sql.Tx) error {
		n = 0
		for start := 0; start < len(hashes); start += spamChunk {
			chunk := hashes[start:min(start+spamChunk, len(hashes))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, string(a))
			for _, h := range chunk {
				args = append(args, int64(h))
			}
			res, err := tx.ExecContext(ctx, s.q("DELETE FROM gdpr_spam_tokens WHERE account_id = ? AND hash IN "+placeholders(len(chunk))), args...)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

func (s spamSQL) DeleteLessons(ctx context.Context, a gdprkit.AccountID, before int32) (int, error) {
	if err := checkAccount(a); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM gdpr_spam_lessons WHERE account_id = ? AND day < ?"), string(a), before)
	if err != nil {
		return 0, mapErr(err, "spam delete lessons")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "spam delete lessons")
}

func (s spamSQL) Reset(ctx context.Context, a gdprkit.AccountID) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return s.tx(ctx, "spam reset", func(tx *sql.Tx) error {
		for _, t := range []string{"gdpr_spam_tokens", "gdpr_spam_lessons", "gdpr_spam_models"} {
			if _, err := tx.ExecContext(ctx, s.q("DELETE FROM "+t+" WHERE account_id = ?"), string(a)); err != nil {
				return err
			}
		}
		return nil
	})
}
