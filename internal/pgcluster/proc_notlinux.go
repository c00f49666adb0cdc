//go:build !linux

package pgcluster

import "errors"

func procCwd(int) (string, error) { return "", errors.ErrUnsupported }

func procZombie(int) bool { return false }

func procOrphans(string, string) []int { return nil }
