package erasure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// BlobStore holds files: attachments and inline images on disk or in object
// storage. Keys are the host's own (a path, an object name). Every method
// is scoped to an account. erasure/fsblob implements it on a directory; an
// object-storage client fits the same three methods.
type BlobStore interface {
	// Stat returns the blob's size, or an error wrapping
	// gdprkit.ErrNotFound when it does not exist.
	Stat(ctx context.Context, account gdprkit.AccountID, key string) (int64, error)
	// Read returns the blob's content.
	Read(ctx context.Context, account gdprkit.AccountID, key string) ([]byte, error)
	// Delete removes the blob; a missing blob is not an error.
	Delete(ctx context.Context, account gdprkit.AccountID, key string) error
}

// BlobIndex tells the blob target which blobs belong to which parent
// records (attachment rows that store the key).
type BlobIndex interface {
	// BlobKeys returns up to limit keys of the blobs of the given parent
	// records, strictly after after, in ascending byte order.
	BlobKeys(ctx context.Context, account gdprkit.AccountID, parents []string, after string, limit int) ([]string, error)
}

// BlobParentIndex is a BlobIndex that can also say which parent record
// each blob belongs to, so that a hold above a file (a held ticket) keeps
// Service.DeleteRecord from deleting it.
type BlobParentIndex interface {
	BlobIndex
	// BlobParents returns the parent record of each of keys it knows.
	BlobParents(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error)
}

// MaxExportBlob is the largest blob whose content an access export
// includes (base64); larger ones are listed with their size only.
const MaxExportBlob = 8 << 20

// BlobTarget returns a target of kind k, child of parent, for the files
// that index maps the parent's records to, stored in blobs. It can only
// delete. Find skips keys whose blob is already gone and reports each
// blob's size, so plans and receipts count bytes. When index is a
// BlobParentIndex the target is also a ParentFinder; otherwise it is not,
// so Service.DeleteRecord knows it cannot tell a file's ancestry.
func BlobTarget(k, parent Kind, index BlobIndex, blobs BlobStore) Target {
	t := blobTarget{kind: k, parent: parent, index: index, blobs: blobs}
	if pi, ok := index.(BlobParentIndex); ok {
		return blobParentTarget{t, pi}
	}
	return t
}

// blobParentTarget is a blobTarget whose index names each blob's parent.
type blobParentTarget struct {
	blobTarget
	pi BlobParentIndex
}

// ParentsOf implements ParentFinder.
func (t blobParentTarget) ParentsOf(ctx context.Context, account gdprkit.AccountID, keys []string) (map[string]string, error) {
	return t.pi.BlobParents(ctx, account, keys)
}

type blobTarget struct {
	kind, parent Kind
	index        BlobIndex
	blobs        BlobStore
}

func (t blobTarget) Info() TargetInfo {
	return TargetInfo{Kind: t.kind, Parent: t.parent, Default: Rule{Action: Delete}, Actions: []Action{Delete},
		Description: "stored files (attachments, inline images)"}
}

func (t blobTarget) Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error) {
	if len(q.Parents) == 0 {
		return nil, nil
	}
	var out []Ref
	after := q.After
	for len(out) < q.Limit {
		keys, err := t.index.BlobKeys(ctx, account, q.Parents, after, q.Limit)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if len(out) == q.Limit {
				break
			}
			n, err := t.blobs.Stat(ctx, account, k)
			if errors.Is(err, gdprkit.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, Ref{ID: k, Bytes: n})
		}
		if len(keys) < q.Limit {
			break
		}
		after = keys[len(keys)-1]
	}
	return out, nil
}

func (t blobTarget) Delete(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []Ref) error {
	for _, r := range refs {
		if err := t.blobs.Delete(ctx, account, r.ID); err != nil {
			return fmt.Errorf("delete blob: %w", err)
		}
	}
	return nil
}

func (t blobTarget) Anonymize(context.Context, gdprkit.AccountID, []Ref, Anon) error {
	return fmt.Errorf("%w: files cannot be anonymised", gdprkit.ErrInvalid)
}

func (t blobTarget) Export(ctx context.Context, account gdprkit.AccountID, _ gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, r := range refs {
		n, err := t.blobs.Stat(ctx, account, r.ID)
		if errors.Is(err, gdprkit.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v := map[string]any{"key": r.ID, "bytes": n}
		if n <= MaxExportBlob {
			b, err := t.blobs.Read(ctx, account, r.ID)
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
