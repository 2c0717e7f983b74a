package erasure

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gdprkit/gdprkit"
)

// ErrChainBroken is wrapped by VerifyReceipts when a receipt was edited,
// removed or reordered.
var ErrChainBroken = errors.New("erasure: receipt chain broken")

// Receipt is the proof that a request was carried out. It holds no
// personal data: the subject appears only as a keyed pseudonym, and holds
// and recipients by ID, ground and name.
type Receipt struct {
	Seq       int64             `json:"seq"`
	ID        string            `json:"id"`
	RequestID string            `json:"request_id"`
	SubjectPS gdprkit.Pseudonym `json:"subject_ps"`
	Scope     Scope             `json:"scope"`
	// ReceivedAt is when the request arrived, CompletedAt when the job
	// finished.
	ReceivedAt  time.Time `json:"received_at"`
	CompletedAt time.Time `json:"completed_at"`
	// Targets has one entry per kind, in the order the kinds acted.
	Targets []TargetResult `json:"targets"`
	// Holds lists the legal holds that kept records.
	Holds []HoldApplied `json:"holds,omitempty"`
	// Partial is true when any record was kept (a hold or a Keep rule):
	// the request was fulfilled only in part, under Art. 17(3).
	Partial bool `json:"partial"`
	// Recipients lists the processors and integrations notified (Art. 19).
	Recipients []Notice `json:"recipients,omitempty"`
	// BackupsExpireBy is when the last backup that may still hold the
	// erased data expires.
	BackupsExpireBy time.Time `json:"backups_expire_by"`
	// Type is the request's type for the other rights (rights.go); empty
	// for an erasure, whose receipts keep the form (and hash) they had.
	Type RequestType `json:"type,omitempty"`
	// Rights is what a rectification, restriction, objection or
	// portability request did; empty for an erasure.
	Rights RightsResult `json:"rights,omitzero"`
	// Physical lists the post-erasure physical steps that ran before the
	// receipt was written (Config.Physical), failed ones included; empty
	// when none is configured, so receipts without them keep their form
	// and hash.
	Physical []PhysicalResult `json:"physical,omitempty"`
	// Intake says how the request came in (channel, identity method) and
	// its due date, by category only; nil for a request that recorded
	// neither channel nor identity method.
	Intake   *Intake `json:"intake,omitempty"`
	PrevHash string  `json:"prev_hash"`
	Hash     string  `json:"hash"`
}

// TargetResult counts what happened to one kind's records.
type TargetResult struct {
	Kind       Kind   `json:"kind"`
	Action     Action `json:"action"`
	Deleted    int64  `json:"deleted"`
	Anonymized int64  `json:"anonymized"`
	Kept       int64  `json:"kept"`
	// Rows, when set, is how many rows those records spanned (a record
	// may be a group of rows); unset, it equals Deleted + Anonymized.
	Rows int64 `json:"rows,omitempty"`
	// Bytes is the size of the deleted blobs.
	Bytes int64 `json:"bytes,omitempty"`
	// Cascaded is what the database changed by itself when these records
	// went: rows it deleted or set to NULL through foreign keys.
	Cascaded []Effect `json:"cascaded,omitempty"`
	// Grounds names why records were kept.
	Grounds []string `json:"grounds,omitempty"`
}

// HoldApplied names a hold in a receipt.
type HoldApplied struct {
	ID     string `json:"id"`
	Ground string `json:"ground"`
}

// Notice records one notification of a recipient.
type Notice struct {
	Recipient string    `json:"recipient"`
	At        time.Time `json:"at"`
}

const receiptVersion = "gdprkit-erasure-receipt-v1"

// receiptHash is the SHA-256 over the version, the account and the
// receipt's canonical JSON with Hash empty.
func receiptHash(account gdprkit.AccountID, r Receipt) (string, error) {
	r.Hash = ""
	body, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(receiptVersion), []byte(account), body} {
		var n [4]byte
		l := len(part)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sealReceipt(account gdprkit.AccountID) func(ChainHead, *Receipt) error {
	return func(head ChainHead, r *Receipt) error {
		r.Seq = head.Seq + 1
		r.PrevHash = head.Hash
		h, err := receiptHash(account, *r)
		if err != nil {
			return err
		}
		r.Hash = h
		return nil
	}
}

// VerifyResult summarises a successful VerifyReceipts.
type VerifyResult struct {
	Receipts int64     `json:"receipts"`
	Head     ChainHead `json:"head"`
}

// VerifyReceipts walks the account's receipt chain and checks every link
// and hash, and that it ends at the stored head. It returns an error
// wrapping ErrChainBroken naming the first bad receipt.
func (s *Service) VerifyReceipts(ctx context.Context, account gdprkit.AccountID) (VerifyResult, error) {
	if err := account.Validate(); err != nil {
		return VerifyResult{}, err
	}
	head, err := s.store.ReceiptHead(ctx, account)
	if err != nil {
		return VerifyResult{}, err
	}
	var cur ChainHead
	for cur.Seq < head.Seq {
		rs, err := s.store.Receipts(ctx, account, cur.Seq, 500)
		if err != nil {
			return VerifyResult{}, err
		}
		if len(rs) == 0 {
			break
		}
		for _, r := range rs {
			if r.Seq != cur.Seq+1 {
				return VerifyResult{}, fmt.Errorf("%w: expected receipt %d, found %d", ErrChainBroken, cur.Seq+1, r.Seq)
			}
			if !eq(r.PrevHash, cur.Hash) {
				return VerifyResult{}, fmt.Errorf("%w: receipt %d does not link to receipt %d", ErrChainBroken, r.Seq, cur.Seq)
			}
			h, err := receiptHash(account, r)
			if err != nil {
				return VerifyResult{}, err
			}
			if !eq(h, r.Hash) {
				return VerifyResult{}, fmt.Errorf("%w: receipt %d: content does not match its hash", ErrChainBroken, r.Seq)
			}
			cur = ChainHead{Seq: r.Seq, Hash: r.Hash}
		}
	}
	if cur != head {
		return VerifyResult{}, fmt.Errorf("%w: chain ends at %d but the head says %d", ErrChainBroken, cur.Seq, head.Seq)
	}
	return VerifyResult{Receipts: cur.Seq, Head: cur}, nil
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
