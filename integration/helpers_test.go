package integration

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/throughgate/throughgate/internal/mail"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func mailMessage(to, subject, id string) mail.Message {
	return mail.Message{To: []string{to}, Subject: subject, Text: "hello", MessageID: id}
}

// tempDir is t.TempDir made traversable by the postgres user, which the
// private cluster runs as when the tests run as root.
func tempDir(t interface {
	TempDir() string
	Fatal(...any)
}) string {
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
