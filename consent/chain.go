package consent

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ErrChainBroken is wrapped by Verify and VerifyProof when a record was
// edited, removed or reordered, or a commitment does not match its values.
var ErrChainBroken = errors.New("consent: hash chain broken")

// chainVersion is hashed into every record so a future format cannot be
// confused with this one.
const chainVersion = "gdprkit-consent-v1"

func writeField(h hash.Hash, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

func hashParts(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		writeField(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newSalt() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("consent: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func subjectCommit(salt string, subject gdprkit.SubjectID) string {
	return hashParts(chainVersion, "subject", salt, string(subject))
}

func evidenceCommit(salt string, e Evidence) string {
	return hashParts(chainVersion, "evidence", salt, e.IP, e.UserAgent)
}

func textHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// recordHash is the chain hash of r in account: every field that carries
// meaning, the commitments instead of the identifying values, and the
// previous hash.
func recordHash(account gdprkit.AccountID, r *Record) string {
	return hashParts(chainVersion, string(account),
		strconv.FormatInt(r.Seq, 10), r.ID, string(r.SubjectPS), r.Purpose,
		strconv.Itoa(r.PolicyVersion), r.PolicyHash, string(r.Action), string(r.Source),
		r.Evidence.Wording, string(r.RecordedBy), formatTime(r.At),
		r.SubjectCommit, r.EvidenceCommit, r.PrevHash)
}

// seal links r behind head: it fills Seq, PrevHash and Hash. The commitments
// must already be set.
func seal(account gdprkit.AccountID, head ChainHead, r *Record) error {
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	r.Hash = recordHash(account, r)
	return nil
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// checkRecord verifies one record on its own: its commitments (while the
// values are still present) and its hash.
func checkRecord(account gdprkit.AccountID, r *Record) error {
	if !r.Pseudonymized {
		if r.Salt == "" {
			return fmt.Errorf("%w: record %d has no salt but is not pseudonymised", ErrChainBroken, r.Seq)
		}
		if !eq(subjectCommit(r.Salt, r.Subject), r.SubjectCommit) {
			return fmt.Errorf("%w: record %d: subject does not match its commitment", ErrChainBroken, r.Seq)
		}
		if !eq(evidenceCommit(r.Salt, r.Evidence), r.EvidenceCommit) {
			return fmt.Errorf("%w: record %d: evidence does not match its commitment", ErrChainBroken, r.Seq)
		}
	} else if r.Subject != "" || r.Evidence.IP != "" || r.Evidence.UserAgent != "" {
		return fmt.Errorf("%w: record %d is marked pseudonymised but still holds identifiers", ErrChainBroken, r.Seq)
	}
	if !eq(recordHash(account, r), r.Hash) {
		return fmt.Errorf("%w: record %d: content does not match its hash", ErrChainBroken, r.Seq)
	}
	return nil
}

// chainWalker checks records fed to it in order against each other.
type chainWalker struct {
	account gdprkit.AccountID
	head    ChainHead
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
	w.head = ChainHead{Seq: r.Seq, Hash: r.Hash}
	return nil
}
