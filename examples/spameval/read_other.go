//go:build !linux

package main

import "os"

// readInto returns the file's bytes (os.ReadFile; buf is not used).
func readInto(path string, buf *[]byte) ([]byte, error) { return os.ReadFile(path) }
