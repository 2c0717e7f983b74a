package consent

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ErrChainBroken is wrapped by Verify, VerifyProof, ConfirmProof and Check
// when a record was edited, removed or reordered, a commitment does not
// match its value, or the current state disagrees with the records.
var ErrChainBroken = errors.New("consent: hash chain broken")

// ChainVersion is the rule new records are sealed under (Record.Version).
//
// Version 2 hashes a salted commitment of every identifying value (subject,
// recorded by, IP, user agent, wording), each with its own salt, so any of
// them can be removed without touching the chain. Version 1, written before,
// hashed RecordedBy and Wording as they were and committed to the subject
// and to (IP, user agent) under one salt; its records still verify under
// that rule, and Service.Reseal moves them to version 2.
const ChainVersion = 2

// The domain-separation tags hashed first into everything a rule hashes, so
// no value of one rule can be mistaken for a value of another.
const (
	chainV1 = "gdprkit-consent-v1"
	chainV2 = "gdprkit-consent-v2"
)

// The chain hashes a preimage of parts, each length-prefixed (4 bytes,
// big-endian) so ("a","bc") and ("ab","c") differ. Callers build it in a
// buffer on their stack, so hashing allocates nothing but the hex result.

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// appendNum appends the decimal form of n as one part.
func appendNum(b []byte, n int64) []byte {
	var d [20]byte
	digits := strconv.AppendInt(d[:0], n, 10)
	b = binary.BigEndian.AppendUint32(b, uint32(len(digits)))
	return append(b, digits...)
}

// appendTime appends t in UTC as RFC 3339 with nanoseconds as one part.
func appendTime(b []byte, t time.Time) []byte {
	var d [40]byte
	text := t.UTC().AppendFormat(d[:0], time.RFC3339Nano)
	b = binary.BigEndian.AppendUint32(b, uint32(len(text)))
	return append(b, text...)
}

func hashParts(parts ...string) string {
	var buf [512]byte
	b := buf[:0]
	for _, s := range parts {
		b = appendStr(b, s)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hexEq reports, in constant time, whether want is the lower-case hex of sum.
func hexEq(sum [sha256.Size]byte, want string) bool {
	var got [2 * sha256.Size]byte
	hex.Encode(got[:], sum[:])
	if len(want) != len(got) {
		return false
	}
	var v byte
	for i := range got {
		v |= got[i] ^ want[i]
	}
	return v == 0
}

func newSalt() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("consent: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func textHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// version returns the rule r is sealed under; a record decoded from a
// version-1 proof has no version field.
func version(r *Record) int {
	if r.Version == 0 {
		return 1
	}
	return r.Version
}

// field is one identifying value of a record with its salt and commitment.
type field struct {
	name                string
	value, salt, commit *string
}

// fieldsOf returns r's identifying fields, in the order the hash takes them.
// The value pointers write through to r.
func fieldsOf(r *Record) [5]field {
	return [5]field{
		{"subject", (*string)(&r.Subject), &r.Salts.Subject, &r.Commits.Subject},
		{"recorded_by", (*string)(&r.RecordedBy), &r.Salts.RecordedBy, &r.Commits.RecordedBy},
		{"ip", &r.Evidence.IP, &r.Salts.IP, &r.Commits.IP},
		{"user_agent", &r.Evidence.UserAgent, &r.Salts.UserAgent, &r.Commits.UserAgent},
		{"wording", &r.Evidence.Wording, &r.Salts.Wording, &r.Commits.Wording},
	}
}

func commitV2(name, salt, value string) string {
	return hashParts(chainV2, "commit", name, salt, value)
}

// commitMatches reports whether value under salt opens commitment want.
func commitMatches(name, salt, value, want string) bool {
	var buf [512]byte
	b := buf[:0]
	for _, s := range [...]string{chainV2, "commit", name, salt, value} {
		b = appendStr(b, s)
	}
	return hexEq(sha256.Sum256(b), want)
}

// commit fills r's version-2 salts and commitments from its values: a fresh
// salt per non-empty value, nothing for an empty one.
func commit(r *Record) {
	r.Version = ChainVersion
	for _, f := range fieldsOf(r) {
		if *f.value == "" {
			*f.salt, *f.commit = "", ""
			continue
		}
		*f.salt = newSalt()
		*f.commit = commitV2(f.name, *f.salt, *f.value)
	}
}

func subjectCommitV1(salt string, subject gdprkit.SubjectID) string {
	return hashParts(chainV1, "subject", salt, string(subject))
}

func evidenceCommitV1(salt string, e Evidence) string {
	return hashParts(chainV1, "evidence", salt, e.IP, e.UserAgent)
}

// recordHash is the chain hash of r in account under r's rule, in hex.
func recordHash(account gdprkit.AccountID, r *Record) string {
	var buf [768]byte
	sum := recordSum(buf[:0], account, r)
	return hex.EncodeToString(sum[:])
}

// recordSum is the chain hash of r in account under r's rule, built in b:
// every field that carries meaning, the commitments instead of the
// identifying values, and the previous hash.
func recordSum(b []byte, account gdprkit.AccountID, r *Record) [sha256.Size]byte {
	if version(r) == 1 {
		for _, s := range [...]string{chainV1, string(account)} {
			b = appendStr(b, s)
		}
		b = appendNum(b, r.Seq)
		for _, s := range [...]string{r.ID, string(r.SubjectPS), r.Purpose} {
			b = appendStr(b, s)
		}
		b = appendNum(b, int64(r.PolicyVersion))
		for _, s := range [...]string{r.PolicyHash, string(r.Action), string(r.Source), r.Evidence.Wording, string(r.RecordedBy)} {
			b = appendStr(b, s)
		}
		b = appendTime(b, r.At)
		for _, s := range [...]string{r.SubjectCommit, r.EvidenceCommit, r.PrevHash} {
			b = appendStr(b, s)
		}
		return sha256.Sum256(b)
	}
	c := &r.Commits
	b = appendStr(b, chainV2)
	b = appendNum(b, int64(r.Version))
	b = appendStr(b, string(account))
	b = appendNum(b, r.Seq)
	for _, s := range [...]string{r.ID, string(r.SubjectPS), r.Purpose} {
		b = appendStr(b, s)
	}
	b = appendNum(b, int64(r.PolicyVersion))
	for _, s := range [...]string{r.PolicyHash, string(r.Action), string(r.Source)} {
		b = appendStr(b, s)
	}
	b = appendTime(b, r.At)
	for _, s := range [...]string{c.Subject, c.RecordedBy, c.IP, c.UserAgent, c.Wording, r.PriorHash, r.PrevHash} {
		b = appendStr(b, s)
	}
	return sha256.Sum256(b)
}

// hashMatches reports whether r's content matches its hash under its rule;
// it checks no commitment. Check uses it on the record it answers from:
// the hash binds the action, policy and time it answers with.
func hashMatches(account gdprkit.AccountID, r *Record) bool {
	if v := version(r); v != 1 && v != 2 {
		return false
	}
	var buf [768]byte
	return hexEq(recordSum(buf[:0], account, r), r.Hash)
}

// seal links r behind head: it fills Seq, PrevHash and Hash. The
// commitments must already be set.
func seal(account gdprkit.AccountID, head ChainHead, r *Record) error {
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	r.Hash = recordHash(account, r)
	return nil
}

// holdsSubject reports whether r still carries its subject's identifier
// (bound by a commitment that can be opened).
func holdsSubject(r *Record) bool {
	if version(r) == 1 {
		return !r.Pseudonymized
	}
	return r.Salts.Subject != ""
}

// StripIdentifiers returns r with every identifying value its rule lets go
// removed, together with the salts that open their commitments, and
// Pseudonymized set: what Store.PseudonymizeRecords stores. Under version 2
// that is Subject, RecordedBy, IP, UserAgent and Wording; under version 1
// Subject, IP and UserAgent (RecordedBy and Wording are hashed as they are).
// Commitments, hashes and every other field stay, so the chain and proofs
// still verify.
func StripIdentifiers(r Record) Record {
	r.Subject, r.Evidence.IP, r.Evidence.UserAgent, r.Salt = "", "", "", ""
	if version(&r) != 1 {
		r.RecordedBy, r.Evidence.Wording = "", ""
		r.Salts = Fields{}
	}
	r.Pseudonymized = true
	return r
}

// checkRecord verifies one record on its own: its commitments (where the
// values are still present) and its hash.
func checkRecord(account gdprkit.AccountID, r *Record) error {
	switch version(r) {
	case 1:
		if r.Salts != (Fields{}) || r.Commits != (Fields{}) || r.PriorHash != "" {
			return fmt.Errorf("%w: record %d mixes chain rules 1 and 2", ErrChainBroken, r.Seq)
		}
		if !r.Pseudonymized {
			if r.Salt == "" {
				return fmt.Errorf("%w: record %d has no salt but is not pseudonymised", ErrChainBroken, r.Seq)
			}
			if !eq(subjectCommitV1(r.Salt, r.Subject), r.SubjectCommit) {
				return fmt.Errorf("%w: record %d: subject does not match its commitment", ErrChainBroken, r.Seq)
			}
			if !eq(evidenceCommitV1(r.Salt, r.Evidence), r.EvidenceCommit) {
				return fmt.Errorf("%w: record %d: evidence does not match its commitment", ErrChainBroken, r.Seq)
			}
		} else if r.Subject != "" || r.Evidence.IP != "" || r.Evidence.UserAgent != "" || r.Salt != "" {
			return fmt.Errorf("%w: record %d is marked pseudonymised but still holds identifiers", ErrChainBroken, r.Seq)
		}
	case 2:
		if r.Salt != "" || r.SubjectCommit != "" || r.EvidenceCommit != "" {
			return fmt.Errorf("%w: record %d mixes chain rules 1 and 2", ErrChainBroken, r.Seq)
		}
		if r.Commits.Subject == "" {
			return fmt.Errorf("%w: record %d commits to no subject", ErrChainBroken, r.Seq)
		}
		for _, f := range fieldsOf(r) {
			switch {
			case *f.commit == "" && (*f.value != "" || *f.salt != ""):
				return fmt.Errorf("%w: record %d: %s was recorded empty but holds a value", ErrChainBroken, r.Seq, f.name)
			case *f.salt != "" && !commitMatches(f.name, *f.salt, *f.value, *f.commit):
				return fmt.Errorf("%w: record %d: %s does not match its commitment", ErrChainBroken, r.Seq, f.name)
			case *f.salt == "" && *f.value != "":
				return fmt.Errorf("%w: record %d: %s is held without the salt of its commitment", ErrChainBroken, r.Seq, f.name)
			case r.Pseudonymized && *f.salt != "":
				return fmt.Errorf("%w: record %d is marked pseudonymised but still holds its %s", ErrChainBroken, r.Seq, f.name)
			}
		}
	default:
		return fmt.Errorf("%w: record %d has unknown chain version %d", ErrChainBroken, r.Seq, r.Version)
	}
	if !hashMatches(account, r) {
		return fmt.Errorf("%w: record %d: content does not match its hash", ErrChainBroken, r.Seq)
	}
	return nil
}

// chainWalker checks records fed to it in order against each other.
type chainWalker struct {
	account gdprkit.AccountID
	head    ChainHead
	legacy  int64 // records still under chain version 1
	firstV1 int64 // Seq of the first of them, 0 when none
}

func (w *chainWalker) next(r *Record) error {
	if r.Seq != w.head.Seq+1 {
		return fmt.Errorf("%w: expected record %d, found %d (a record was removed or reordered)", ErrChainBroken, w.head.Seq+1, r.Seq)
	}
	if !eq(r.PrevHash, w.head.Hash) {
		return fmt.Errorf("%w: record %d does not link to record %d", ErrChainBroken, r.Seq, w.head.Seq)
	}
	if err := checkRecord(w.account, r); err != nil {
		return err
	}
	if version(r) < ChainVersion {
		w.legacy++
		if w.firstV1 == 0 {
			w.firstV1 = r.Seq
		}
	}
	w.head = ChainHead{Seq: r.Seq, Hash: r.Hash}
	return nil
}

// upgrade re-seals r, already checked under its own rule, under
// ChainVersion behind head (the re-sealed record before it). A version-1
// record gets fresh salts and commitments for the values it holds; the
// values version 1 removed keep their old commitments as opaque ones, and
// the RecordedBy and Wording of a pseudonymised version-1 record — which
// that rule could not remove — are committed to and then removed. Every
// record keeps its earlier hash in PriorHash.
func upgrade(account gdprkit.AccountID, head ChainHead, r *Record) {
	if version(r) == 1 {
		pseudonymized := r.Pseudonymized
		subjectV1, evidenceV1 := r.SubjectCommit, r.EvidenceCommit
		commit(r)
		if pseudonymized {
			r.Commits.Subject, r.Commits.IP, r.Commits.UserAgent = subjectV1, evidenceV1, evidenceV1
			*r = StripIdentifiers(*r)
		}
		r.Salt, r.SubjectCommit, r.EvidenceCommit = "", "", ""
	}
	if r.PriorHash == "" {
		r.PriorHash = r.Hash
	}
	r.Version = ChainVersion
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	r.Hash = recordHash(account, r)
}
