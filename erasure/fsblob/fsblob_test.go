package fsblob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/fsblob"
)

var ctx = context.Background()

func TestPutStatReadDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(fsblob.Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "acme", "2026/01/a.jpg", []byte("hello")))
	sz, err := s.Stat(ctx, "acme", []string{"2026/01/a.jpg", "2026/01/missing.jpg"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"2026/01/a.jpg": 5}, sz, "missing keys are left out")
	b, err := s.Read(ctx, "acme", "2026/01/a.jpg")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	sz, err = s.Stat(ctx, "globex", []string{"2026/01/a.jpg"})
	require.NoError(t, err)
	assert.Empty(t, sz, "accounts are separate directories")
	n, err := s.Delete(ctx, "acme", []string{"2026/01/a.jpg"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = s.Delete(ctx, "acme", []string{"2026/01/a.jpg"})
	require.NoError(t, err, "deleting twice is fine")
	assert.Zero(t, n, "and counts nothing")
	_, err = s.Read(ctx, "acme", "2026/01/a.jpg")
	require.ErrorIs(t, err, gdprkit.ErrNotFound)
	_, err = os.Stat(filepath.Join(dir, "acme", "2026"))
	assert.True(t, os.IsNotExist(err), "empty directories are removed too")
	_, err = os.Stat(filepath.Join(dir, "acme"))
	assert.NoError(t, err, "but not the account's own")
}

func TestKeysCannotEscape(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(fsblob.Config{Dir: filepath.Join(dir, "blobs")})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600))
	for _, k := range []string{"../secret", "../../secret", "/etc/passwd", "a//b", "a/./b", "", `a\b`, "a/../../secret"} {
		_, err := s.Stat(ctx, "acme", []string{"fine", k})
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, k)
		_, err = s.Delete(ctx, "acme", []string{k})
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, k)
	}
	for _, a := range []gdprkit.AccountID{"..", "a/b", ""} {
		_, err := s.Stat(ctx, a, []string{"k"})
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, string(a))
	}
	_, err = os.Stat(filepath.Join(dir, "secret"))
	require.NoError(t, err)
}

// A batch with a bad key changes nothing: keys are all checked first.
func TestBadKeyInABatchChangesNothing(t *testing.T) {
	s, err := fsblob.New(fsblob.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "acme", "a/1", []byte("x")))
	_, err = s.Delete(ctx, "acme", []string{"a/1", "../x"})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	sz, err := s.Stat(ctx, "acme", []string{"a/1"})
	require.NoError(t, err)
	assert.Len(t, sz, 1)
}

// Deleting a batch of nested files removes every folder it empties, once,
// deepest first, and leaves folders that still hold other files.
func TestBatchDeleteTidiesFolders(t *testing.T) {
	dir := t.TempDir()
	for _, par := range []int{1, 4, 64} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			s, err := fsblob.New(fsblob.Config{Dir: filepath.Join(dir, fmt.Sprint(par)), Parallel: par})
			require.NoError(t, err)
			var keys []string
			for i := range 200 {
				k := fmt.Sprintf("u/t%d/m%d/f%d.bin", i%20, i, i)
				keys = append(keys, k)
				require.NoError(t, s.Put(ctx, "acme", k, []byte(k)))
			}
			require.NoError(t, s.Put(ctx, "acme", "u/t3/keep.bin", []byte("stays")))
			n, err := s.Delete(ctx, "acme", keys)
			require.NoError(t, err)
			assert.Equal(t, 200, n)
			var left []string
			require.NoError(t, s.Walk(ctx, "acme", "", func(k string, _ int64) error { left = append(left, k); return nil }))
			assert.Equal(t, []string{"u/t3/keep.bin"}, left)
			entries, err := os.ReadDir(filepath.Join(dir, fmt.Sprint(par), "acme", "u"))
			require.NoError(t, err)
			assert.Len(t, entries, 1, "only the folder with a file left stays")
		})
	}
}

func TestWalkAndDeleteAccount(t *testing.T) {
	s, err := fsblob.New(fsblob.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	for _, k := range []string{"b/2.txt", "a/1.txt", "c.txt"} {
		require.NoError(t, s.Put(ctx, "acme", k, []byte("xx")))
	}
	require.NoError(t, s.Put(ctx, "globex", "a/1.txt", []byte("other")))
	var got []string
	require.NoError(t, s.Walk(ctx, "acme", "", func(k string, n int64) error {
		got = append(got, fmt.Sprint(k, ":", n))
		return nil
	}))
	assert.Equal(t, []string{"a/1.txt:2", "b/2.txt:2", "c.txt:2"}, got)
	n, err := s.DeleteAccount(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	got = nil
	require.NoError(t, s.Walk(ctx, "acme", "", func(k string, _ int64) error { got = append(got, k); return nil }))
	assert.Empty(t, got)
	b, err := s.Read(ctx, "globex", "a/1.txt")
	require.NoError(t, err, "another account's files stay")
	assert.Equal(t, "other", string(b))
	n, err = s.DeleteAccount(ctx, "acme")
	require.NoError(t, err, "idempotent")
	assert.Zero(t, n)
}

// The shared layout keeps the host's own upload paths; it cannot list an
// account, and says so.
func TestSharedLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(fsblob.Config{Dir: dir, Layout: fsblob.Shared})
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "acme", "uploads/ab/cd/1-photo.jpg", []byte("jpeg")))
	_, err = os.Stat(filepath.Join(dir, "uploads", "ab", "cd", "1-photo.jpg"))
	require.NoError(t, err, "the file sits at the host's own path")
	assert.ErrorIs(t, s.Walk(ctx, "acme", "", func(string, int64) error { return nil }), erasure.ErrUnsupported)
	_, err = s.DeleteAccount(ctx, "acme")
	assert.ErrorIs(t, err, erasure.ErrUnsupported)
	n, err := s.Delete(ctx, "acme", []string{"uploads/ab/cd/1-photo.jpg"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = os.Stat(filepath.Join(dir, "uploads"))
	assert.True(t, os.IsNotExist(err), "emptied folders go, up to the root")
	_, err = os.Stat(dir)
	assert.NoError(t, err)
}

func FuzzKeys(f *testing.F) {
	for _, k := range []string{"a", "a/b.jpg", "../x", "/x", "a/../b", "a\x00b"} {
		f.Add(k)
	}
	dir := f.TempDir()
	s, err := fsblob.New(fsblob.Config{Dir: filepath.Join(dir, "root")})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, key string) {
		if err := s.Put(ctx, "acme", key, []byte("x")); err != nil {
			return
		}
		// Whatever was accepted lies inside the account's directory.
		var found []string
		_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				found = append(found, p)
			}
			return nil
		})
		for _, p := range found {
			if !strings.HasPrefix(p, filepath.Join(dir, "root", "acme")+string(filepath.Separator)) {
				t.Fatalf("key %q wrote %s", key, p)
			}
		}
		_, err := s.Delete(ctx, "acme", []string{key})
		require.NoError(t, err)
	})
}

func Example() {
	dir, _ := os.MkdirTemp("", "fsblob")
	defer os.RemoveAll(dir)
	s, _ := fsblob.New(fsblob.Config{Dir: dir})
	_ = s.Put(context.Background(), "acme", "tickets/42/photo.jpg", []byte("jpeg bytes"))
	sizes, _ := s.Stat(context.Background(), "acme", []string{"tickets/42/photo.jpg"})
	n, _ := s.Delete(context.Background(), "acme", []string{"tickets/42/photo.jpg"})
	after, _ := s.Stat(context.Background(), "acme", []string{"tickets/42/photo.jpg"})
	fmt.Println(sizes["tickets/42/photo.jpg"], n, len(after))
	// Output: 10 1 0
}
