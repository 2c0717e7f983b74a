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
	"github.com/gdprkit/gdprkit/erasure/fsblob"
)

var ctx = context.Background()

func TestPutStatReadDelete(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(dir)
	require.NoError(t, err)
	require.NoError(t, s.Put(ctx, "acme", "2026/01/a.jpg", []byte("hello")))
	n, err := s.Stat(ctx, "acme", "2026/01/a.jpg")
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	b, err := s.Read(ctx, "acme", "2026/01/a.jpg")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	_, err = s.Stat(ctx, "globex", "2026/01/a.jpg")
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "accounts are separate directories")
	require.NoError(t, s.Delete(ctx, "acme", "2026/01/a.jpg"))
	require.NoError(t, s.Delete(ctx, "acme", "2026/01/a.jpg"), "deleting twice is fine")
	_, err = s.Stat(ctx, "acme", "2026/01/a.jpg")
	require.ErrorIs(t, err, gdprkit.ErrNotFound)
	_, err = s.Read(ctx, "acme", "2026/01/a.jpg")
	require.ErrorIs(t, err, gdprkit.ErrNotFound)
	_, err = os.Stat(filepath.Join(dir, "acme", "2026"))
	assert.True(t, os.IsNotExist(err), "empty directories are removed too")
	_, err = os.Stat(filepath.Join(dir, "acme"))
	assert.NoError(t, err, "but not the account's own")
}

func TestKeysCannotEscape(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600))
	for _, k := range []string{"../secret", "../../secret", "/etc/passwd", "a//b", "a/./b", "", `a\b`, "a/../../secret"} {
		_, err := s.Stat(ctx, "acme", k)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, k)
		assert.ErrorIs(t, s.Delete(ctx, "acme", k), gdprkit.ErrInvalid, k)
	}
	for _, a := range []gdprkit.AccountID{"..", "a/b", ""} {
		_, err := s.Stat(ctx, a, "k")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, string(a))
	}
	_, err = os.Stat(filepath.Join(dir, "secret"))
	require.NoError(t, err)
}

func FuzzKeys(f *testing.F) {
	for _, k := range []string{"a", "a/b.jpg", "../x", "/x", "a/../b", "a\x00b"} {
		f.Add(k)
	}
	dir := f.TempDir()
	s, err := fsblob.New(filepath.Join(dir, "root"))
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
		require.NoError(t, s.Delete(ctx, "acme", key))
	})
}

func Example() {
	dir, _ := os.MkdirTemp("", "fsblob")
	defer os.RemoveAll(dir)
	s, _ := fsblob.New(dir)
	_ = s.Put(context.Background(), "acme", "tickets/42/photo.jpg", []byte("jpeg bytes"))
	n, _ := s.Stat(context.Background(), "acme", "tickets/42/photo.jpg")
	_ = s.Delete(context.Background(), "acme", "tickets/42/photo.jpg")
	_, err := s.Stat(context.Background(), "acme", "tickets/42/photo.jpg")
	fmt.Println(n, err != nil)
	// Output: 10 true
}
