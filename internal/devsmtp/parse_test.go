package devsmtp

import (
	"log/slog"
	"strings"
	"testing"
)

// Messages from mailers other than go-mail: base64 parts, nested multiparts,
// attachments, encoded subjects, Latin-1. The dev server must show them all.
func TestParseMessage(t *testing.T) {
	raw := strings.ReplaceAll(`From: someone@example.test
To: worker@prison.test
Subject: =?UTF-8?B?wqMxMjAgYXJyZWFycw==?= and =?ISO-8859-1?Q?caf=E9?=
Message-ID: <abc@example.test>
Date: Mon, 07 Dec 2026 09:30:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8g4oCUIHdvcmxkLgpTZWNvbmQgbGluZS4=
--inner
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<p>Caf=E9 =
soft-wrapped</p>
--inner--
--outer
Content-Type: text/plain
Content-Disposition: attachment; filename="notes.txt"

not the body
--outer--
`, "\n", "\r\n")

	m := parseMessage([]byte(raw), slog.New(slog.DiscardHandler))
	if m.Subject != "£120 arrears and café" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if m.MessageID != "<abc@example.test>" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if m.Date.IsZero() || m.Date.Day() != 7 {
		t.Errorf("Date = %v", m.Date)
	}
	if m.Text != "Hello — world.\nSecond line." {
		t.Errorf("Text = %q", m.Text)
	}
	if strings.TrimSpace(m.HTML) != "<p>Café soft-wrapped</p>" {
		t.Errorf("HTML = %q", m.HTML)
	}
}

func TestParseSinglePartAndGarbage(t *testing.T) {
	m := parseMessage([]byte("Subject: plain\r\n\r\njust text\r\n"), slog.New(slog.DiscardHandler))
	if m.Subject != "plain" || m.Text != "just text\r\n" {
		t.Errorf("single part: %+v", m)
	}
	garbage := []byte("this is not a message")
	m = parseMessage(garbage, slog.New(slog.DiscardHandler))
	if string(m.Raw) != string(garbage) {
		t.Error("unparsable message lost its raw bytes")
	}
}

func TestRingKeepsNewest(t *testing.T) {
	s := &Server{nextID: 1}
	for i := 0; i < MaxMessages+5; i++ {
		s.store(Message{Subject: "x"})
	}
	msgs := s.Messages()
	if len(msgs) != MaxMessages {
		t.Fatalf("kept %d, want %d", len(msgs), MaxMessages)
	}
	if msgs[0].ID != 6 || msgs[len(msgs)-1].ID != MaxMessages+5 {
		t.Errorf("oldest id %d newest id %d, want 6 and %d", msgs[0].ID, msgs[len(msgs)-1].ID, MaxMessages+5)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].ID != msgs[i-1].ID+1 {
			t.Fatalf("out of order at %d: %d after %d", i, msgs[i].ID, msgs[i-1].ID)
		}
	}
}
