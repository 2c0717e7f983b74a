// Package fsblob is an erasure.BlobStore on a directory: the blob of key
// k in account a is the file <root>/<a>/<k>. Keys may contain slashes
// (sub-directories) but no "..", no absolute paths and no empty segments,
// so a key can never reach outside its account's directory. An object
// storage client fits the same three methods (Stat, Read, Delete).
//
// Delete removes the file and then the directories it leaves empty, up to
// the account's directory; deleting a missing file is not an error, so
// every call is idempotent.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Store is a directory of blobs. It is safe for concurrent use.
type Store struct {
	root string
}

// New returns a Store rooted at dir, creating it if needed.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	return &Store{root: abs}, nil
}

// path maps (account, key) to a file path, refusing keys that would
// escape.
func (s *Store) path(a gdprkit.AccountID, key string) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	if strings.ContainsAny(string(a), `/\`) || string(a) == "." || string(a) == ".." {
		return "", fmt.Errorf("%w: fsblob: account %q cannot name a directory", gdprkit.ErrInvalid, a)
	}
	if key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) || strings.ContainsRune(key, 0) {
		return "", fmt.Errorf("%w: fsblob: bad key", gdprkit.ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%w: fsblob: bad key", gdprkit.ErrInvalid)
		}
	}
	return filepath.Join(s.root, string(a), filepath.FromSlash(key)), nil
}

// Put writes a blob (creating directories), replacing any old content.
func (s *Store) Put(_ context.Context, a gdprkit.AccountID, key string, content []byte) error {
	p, err := s.path(a, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("fsblob: %w", err)
	}
	tmp := p + ".tmp-" + gdprkit.NewID()
	if err := os.WriteFile(tmp, content, 0o640); err != nil {
		return fmt.Errorf("fsblob: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("fsblob: %w", err)
	}
	return nil
}

// Stat implements erasure.BlobStore.
func (s *Store) Stat(_ context.Context, a gdprkit.AccountID, key string) (int64, error) {
	p, err := s.path(a, key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("fsblob: %w", gdprkit.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("fsblob: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("fsblob: not a regular file: %w", gdprkit.ErrNotFound)
	}
	return fi.Size(), nil
}

// Read implements erasure.BlobStore.
func (s *Store) Read(_ context.Context, a gdprkit.AccountID, key string) ([]byte, error) {
	p, err := s.path(a, key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fsblob: %w", gdprkit.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	return b, nil
}

// Delete implements erasure.BlobStore.
func (s *Store) Delete(_ context.Context, a gdprkit.AccountID, key string) error {
	p, err := s.path(a, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: %w", err)
	}
	top := filepath.Join(s.root, string(a))
	for dir := filepath.Dir(p); dir != top && strings.HasPrefix(dir, top); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}

var _ erasure.BlobStore = (*Store)(nil)
