// Package fsblob is an erasure.BlobStore on a directory.
//
// Two layouts: PerAccount (the default) keeps the blob of key k in account
// a at <Dir>/<a>/<k>, so an account's files can be walked and deleted as a
// whole; Shared keeps it at <Dir>/<k>, the host's own upload layout
// (uploads/ab/cd/<uuid>-photo.jpg) where keys are unique across accounts
// and the host's attachment table says which account a file belongs to —
// then Walk and DeleteAccount answer erasure.ErrUnsupported and account
// deletion finds the files through the blob index. Keys may contain
// slashes (sub-directories) but no "..", no absolute paths and no empty
// segments, so a key can never reach outside its directory.
//
// Delete works through a batch with bounded parallelism (Config.Parallel
// files at a time), then removes each folder the batch left empty once,
// deepest first, up to the account's directory (or Dir). Durability: when
// Delete returns, the files are unlinked and, unless Config.NoSync is set,
// every folder that lost an entry has been synced once (fsync of the
// directory), so the deletion survives a power cut; with NoSync it is on
// disk when the file system next commits (seconds on ext4). Deleting a
// missing file is not an error, so every call is idempotent. The bytes of
// a deleted file stay on the device until the file system reuses or trims
// them; full-disk encryption or discard (TRIM) is the host's tool against
// that.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Layout says where a key's file lives.
type Layout int

const (
	// PerAccount: <Dir>/<account>/<key>.
	PerAccount Layout = iota
	// Shared: <Dir>/<key>, keys unique across accounts (the host's own
	// upload layout).
	Shared
)

// Config configures a Store. Dir is required.
type Config struct {
	// Dir is the root directory; it is created if needed.
	Dir string
	// Layout places files. Default PerAccount.
	Layout Layout
	// Parallel is how many files a batch works on at once. Default 16.
	Parallel int
	// NoSync skips the directory syncs after a deletion (see the package
	// doc for what that means for durability).
	NoSync bool
}

// Store is a directory of blobs. It is safe for concurrent use.
type Store struct {
	root string
	cfg  Config
}

// New returns a Store rooted at cfg.Dir, creating it if needed.
func New(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: fsblob: Config.Dir is required", gdprkit.ErrInvalid)
	}
	if cfg.Layout != PerAccount && cfg.Layout != Shared {
		return nil, fmt.Errorf("%w: fsblob: unknown layout %d", gdprkit.ErrInvalid, cfg.Layout)
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	return &Store{root: abs, cfg: cfg}, nil
}

// top returns the directory an account's files live under.
func (s *Store) top(a gdprkit.AccountID) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	if s.cfg.Layout == Shared {
		return s.root, nil
	}
	if strings.ContainsAny(string(a), `/\`) || string(a) == "." || string(a) == ".." {
		return "", fmt.Errorf("%w: fsblob: account %q cannot name a directory", gdprkit.ErrInvalid, a)
	}
	return filepath.Join(s.root, string(a)), nil
}

// path maps (account, key) to a file path, refusing keys that would
// escape.
func (s *Store) path(a gdprkit.AccountID, key string) (string, error) {
	top, err := s.top(a)
	if err != nil {
		return "", err
	}
	if key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) || strings.ContainsRune(key, 0) {
		return "", fmt.Errorf("%w: fsblob: bad key", gdprkit.ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%w: fsblob: bad key", gdprkit.ErrInvalid)
		}
	}
	return filepath.Join(top, filepath.FromSlash(key)), nil
}

// paths maps every key, or fails on the first bad one (before any change).
func (s *Store) paths(a gdprkit.AccountID, keys []string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		p, err := s.path(a, k)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
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

// parallel runs fn for i in [0, n) on at most Config.Parallel goroutines
// and returns the first error.
func (s *Store) parallel(ctx context.Context, n int, fn func(i int) error) error {
	if n == 1 || s.cfg.Parallel == 1 {
		for i := range n {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("fsblob: %w: %w", gdprkit.ErrUnavailable, err)
			}
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for range min(s.cfg.Parallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				err := ctx.Err()
				if err != nil {
					err = fmt.Errorf("fsblob: %w: %w", gdprkit.ErrUnavailable, err)
				} else {
					err = fn(i)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Stat implements erasure.BlobStore.
func (s *Store) Stat(ctx context.Context, a gdprkit.AccountID, keys []string) (map[string]int64, error) {
	ps, err := s.paths(a, keys)
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(keys))
	err = s.parallel(ctx, len(keys), func(i int) error {
		sizes[i] = -1
		fi, err := os.Stat(ps[i])
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || (err == nil && !fi.Mode().IsRegular()) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fsblob: %w", err)
		}
		sizes[i] = fi.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(keys))
	for i, k := range keys {
		if sizes[i] >= 0 {
			out[k] = sizes[i]
		}
	}
	return out, nil
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

// Delete implements erasure.BlobStore: the files in parallel, then each
// folder left empty once (deepest first), then one sync per folder that
// lost an entry.
func (s *Store) Delete(ctx context.Context, a gdprkit.AccountID, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	ps, err := s.paths(a, keys)
	if err != nil {
		return 0, err
	}
	top, _ := s.top(a)
	existed := make([]bool, len(ps))
	err = s.parallel(ctx, len(ps), func(i int) error {
		err := os.Remove(ps[i])
		if err == nil {
			existed[i] = true
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("fsblob: %w", err)
	})
	n := 0
	dirs := map[string]bool{}
	for i, p := range ps {
		if existed[i] {
			n++
		}
		dirs[filepath.Dir(p)] = true
	}
	if err != nil {
		return n, err
	}
	return n, s.tidy(ctx, top, dirs)
}

// tidy removes the folders in dirs (and their parents up to top) that are
// empty, deepest first, each once, and syncs every surviving folder that
// lost an entry. The folders of one depth are removed (and the survivors
// synced) in parallel, Config.Parallel at a time.
func (s *Store) tidy(ctx context.Context, top string, dirs map[string]bool) error {
	depth := func(p string) int { return strings.Count(p, string(filepath.Separator)) }
	levels := map[int][]string{}
	deepest := -1
	for d := range dirs {
		n := depth(d)
		levels[n] = append(levels[n], d)
		deepest = max(deepest, n)
	}
	var touched []string
	for lv := deepest; lv >= 0; lv-- {
		list := levels[lv]
		if len(list) == 0 {
			continue
		}
		sort.Strings(list)
		gone := make([]bool, len(list))
		err := s.parallel(ctx, len(list), func(i int) error {
			d := list[i]
			if d == top || !strings.HasPrefix(d, top+string(filepath.Separator)) {
				return nil
			}
			gone[i] = os.Remove(d) == nil // not empty (or gone): it stays
			return nil
		})
		if err != nil {
			return err
		}
		for i, d := range list {
			if !gone[i] {
				touched = append(touched, d)
				continue
			}
			if parent := filepath.Dir(d); !dirs[parent] {
				dirs[parent] = true
				levels[lv-1] = append(levels[lv-1], parent)
			}
		}
	}
	if s.cfg.NoSync {
		return nil
	}
	return s.parallel(ctx, len(touched), func(i int) error {
		if err := syncDir(touched[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fsblob: sync %w", err)
		}
		return nil
	})
}

func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Walk implements erasure.BlobStore: every file of the account under
// prefix, directory by directory in name order. With the Shared layout, an
// empty prefix returns erasure.ErrUnsupported (the directory cannot tell
// accounts apart); a folder prefix walks that folder.
func (s *Store) Walk(ctx context.Context, a gdprkit.AccountID, prefix string, fn func(key string, size int64) error) error {
	top, err := s.top(a)
	if err != nil {
		return err
	}
	if s.cfg.Layout == Shared && prefix == "" {
		return fmt.Errorf("fsblob: the shared layout cannot tell accounts apart: %w", erasure.ErrUnsupported)
	}
	start := top
	if prefix != "" {
		dir := prefix
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			dir = prefix[:i]
		} else {
			dir = ""
		}
		if dir != "" {
			p, err := s.path(a, dir)
			if err != nil {
				return err
			}
			start = p
		}
	}
	err = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", gdprkit.ErrUnavailable, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(top, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		return fn(key, fi.Size())
	})
	if err != nil {
		return fmt.Errorf("fsblob: walk: %w", err)
	}
	return nil
}

// DeleteAccount implements erasure.BlobStore: it removes the account's
// directory and everything in it, and returns how many files there were.
// With the Shared layout it returns erasure.ErrUnsupported.
func (s *Store) DeleteAccount(ctx context.Context, a gdprkit.AccountID) (int, error) {
	var keys []string
	if err := s.Walk(ctx, a, "", func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for i := 0; i < len(keys); i += 1000 {
		m, err := s.Delete(ctx, a, keys[i:min(i+1000, len(keys))])
		n += m
		if err != nil {
			return n, err
		}
	}
	top, _ := s.top(a)
	if err := os.RemoveAll(top); err != nil {
		return n, fmt.Errorf("fsblob: %w", err)
	}
	if !s.cfg.NoSync {
		if err := syncDir(s.root); err != nil {
			return n, fmt.Errorf("fsblob: sync %w", err)
		}
	}
	return n, nil
}

var _ erasure.BlobStore = (*Store)(nil)
