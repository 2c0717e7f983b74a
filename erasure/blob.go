package erasure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
)

// BlobStore holds files: attachments and inline images on disk or in object
// storage. Keys are the host's own (a path, an object name). Every method
// is scoped to an account and works on batches, so a store with a native
// batch call (object storage's multi-delete) uses it and one without works
// through a batch in parallel, bounded (erasure/fsblob does). Missing blobs
// are never an error.
type BlobStore interface {
	// Stat returns the size of each of keys that exists; missing keys are
	// left out.
	Stat(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]int64, error)
	// Read returns one blob's content, or an error wrapping
	// gdprkit.ErrNotFound.
	Read(ctx context.Context, account gdprkit.AccountID, key string) ([]byte, error)
	// Delete removes the blobs and returns how many existed. When it
	// returns without error, every one of keys is gone (durably, as the
	// store's documentation says).
	Delete(ctx context.Context, account gdprkit.AccountID, keys []string) (int, error)
	// Walk calls fn for every blob of the account whose key starts with
	// prefix ("" for all; "a/b/" for the folder a/b), in a stable order,
	// until fn returns an error (which Walk returns). A store that cannot
	// tell an account's blobs from others' returns ErrUnsupported when
	// prefix is empty.
	Walk(ctx context.Context, account gdprkit.AccountID, prefix string, fn func(key string, size int64) error) error
	// DeleteAccount removes every blob of the account and returns how
	// many there were; ErrUnsupported when the store cannot tell them.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// BlobIndex tells the blob target which blobs belong to which parent
// records (attachment rows that store the key).
type BlobIndex interface {
	// BlobKeys returns up to limit keys of the blobs of the given parent
	// records — of every record of the account when parents is nil —
	// strictly after after, in ascending byte order.
	BlobKeys(ctx context.Context, account gdprkit.AccountID, parents []string, after string, limit int) ([]string, error)
	// BlobParents returns the parent record of each of keys it knows. An
	// index that cannot tell returns ErrUnsupported; then legal holds above
	// a file are seen only from above, and Service.DeleteRecord refuses to
	// delete files while holds are active.
	BlobParents(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error)
}

// MaxExportBlob is the largest blob whose content an access export
// includes (base64); larger ones are listed with their size only.
const MaxExportBlob = 8 << 20

// BlobTarget returns a target of kind k, child of parent, for the files
// that index maps the parent's records to, stored in blobs. It can only
// delete. Find skips keys whose blob is already gone and reports each
// blob's size (one Stat per page), so plans and receipts count bytes;
// Delete removes a page with one call of the store. EraseAccount removes
// the files of every record the index still lists, then whatever the
// store holds for the account, so an account's files go even when their
// attachment records went first. Residue reports files whose key holds
// one of the subject's identifiers. It declares the data category
// CategoryAttachments (TargetInfo.Categories).
func BlobTarget(k, parent Kind, index BlobIndex, blobs BlobStore) Target {
	return blobTarget{kind: k, parent: parent, index: index, blobs: blobs}
}

type blobTarget struct {
	kind, parent Kind
	index        BlobIndex
	blobs        BlobStore
}

func (t blobTarget) Info() TargetInfo {
	return TargetInfo{Kind: t.kind, Parent: t.parent, Default: Rule{Action: Delete}, Actions: []Action{Delete},
		Description: "stored files (attachments, inline images)", Categories: []string{CategoryAttachments},
		Caps: Caps{Parents: true, EraseAccount: true, Residue: true}}
}

func (t blobTarget) Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error) {
	if len(q.Parents) == 0 && !q.All {
		return nil, nil
	}
	parents := q.Parents
	if q.All {
		parents = nil // every file the index knows in the account
	}
	var out []Ref
	after := q.After
	for len(out) < q.Limit {
		keys, err := t.index.BlobKeys(ctx, account, parents, after, q.Limit)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			break
		}
		sizes, err := t.blobs.Stat(ctx, account, keys)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if len(out) == q.Limit {
				break
			}
			if n, ok := sizes[k]; ok {
				out = append(out, Ref{ID: k, Bytes: n})
			}
		}
		if len(keys) < q.Limit {
			break
		}
		after = keys[len(keys)-1]
	}
	return out, nil
}

func (t blobTarget) Delete(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []Ref) (Change, error) {
	if len(refs) == 0 {
		return Change{}, nil
	}
	n, err := t.blobs.Delete(ctx, account, refIDs(refs))
	if err != nil {
		return Change{}, fmt.Errorf("delete blobs: %w", err)
	}
	return Change{Records: int64(n)}, nil
}

func (t blobTarget) Anonymize(context.Context, gdprkit.AccountID, []Ref, Anon) (Change, error) {
	return Change{}, fmt.Errorf("%w: files cannot be anonymised", ErrUnsupported)
}

func (t blobTarget) Export(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error) {
	sizes, err := t.blobs.Stat(ctx, account, refIDs(refs))
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for _, r := range refs {
		n, ok := sizes[r.ID]
		if !ok {
			continue
		}
		v := map[string]any{"key": r.ID, "bytes": n}
		if n <= MaxExportBlob {
			b, err := t.blobs.Read(ctx, account, r.ID)
			if errors.Is(err, gdprkit.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			v["content_base64"] = base64.StdEncoding.EncodeToString(b)
		} else {
			v["content_omitted"] = "larger than the export limit"
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (t blobTarget) ParentsOf(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	return t.index.BlobParents(ctx, account, keys)
}

func (blobTarget) Identifiers(context.Context, gdprkit.AccountID, []Ref) ([]Identifier, error) {
	return nil, ErrUnsupported
}

// blobPage is how many keys EraseAccount takes from the index at a time.
const blobPage = 500

func (t blobTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (Change, error) {
	var ch Change
	after := ""
	for {
		keys, err := t.index.BlobKeys(ctx, account, nil, after, blobPage)
		if err != nil {
			return ch, fmt.Errorf("list blobs: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		n, err := t.blobs.Delete(ctx, account, keys)
		if err != nil {
			return ch, fmt.Errorf("delete blobs: %w", err)
		}
		ch.Records += int64(n)
		if len(keys) < blobPage {
			break
		}
		after = keys[len(keys)-1]
	}
	n, err := t.blobs.DeleteAccount(ctx, account)
	if err != nil && !errors.Is(err, ErrUnsupported) {
		return ch, fmt.Errorf("delete the account's blobs: %w", err)
	}
	ch.Records += int64(n)
	return ch, nil
}

func (blobTarget) Predict(context.Context, gdprkit.AccountID, []Ref, Action, Anon) (Change, error) {
	return Change{}, ErrUnsupported
}

func (t blobTarget) Residue(ctx context.Context, account gdprkit.AccountID, q ResidueQuery) ([]Finding, error) {
	var out []Finding
	errFull := errors.New("full")
	lows := make([]string, 0, len(q.Identifiers))
	kinds := make([]string, 0, len(q.Identifiers))
	for _, id := range q.Identifiers {
		if v := strings.ToLower(id.Value); len(v) >= minNeedle {
			lows, kinds = append(lows, v), append(kinds, id.Kind)
		}
	}
	err := t.blobs.Walk(ctx, account, "", func(key string, _ int64) error {
		low := strings.ToLower(key)
		for i, v := range lows {
			if strings.Contains(low, v) {
				out = append(out, Finding{Kind: t.kind, Record: key, Identifier: kinds[i]})
				if len(out) >= q.Limit {
					return errFull
				}
				break
			}
		}
		return nil
	})
	if errors.Is(err, ErrUnsupported) || errors.Is(err, errFull) {
		err = nil
	}
	return out, err
}

func (blobTarget) Check(context.Context, CheckRequest) error { return ErrUnsupported }

// Locate returns ErrUnsupported: a file's time is its record's (locate
// the attachments, then take their files).
func (blobTarget) Locate(context.Context, gdprkit.AccountID, LocateQuery) ([]Ref, error) {
	return nil, ErrUnsupported
}

// Count returns ErrUnsupported: the index knows keys, not which files
// exist (a binding that can count its index rows declares Caps.Count).
func (blobTarget) Count(context.Context, gdprkit.AccountID, Query, []Kind) (int64, error) {
	return 0, ErrUnsupported
}

// minNeedle is the shortest identifier a residue search looks for: shorter
// values ("Al", "42") match too much to mean anything.
const minNeedle = 4
